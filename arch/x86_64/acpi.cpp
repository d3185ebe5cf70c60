#include "arch/acpi.h"

#include "arch/memory_layout.h"
#include "arch/power.h"
#include "lib/base/string.h"
#include "log/log.h"
#include "mm/vmalloc.h"

namespace keel::arch {

namespace {

struct [[gnu::packed]] Rsdp {
    char signature[8];
    uint8_t checksum;
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt_address;
    uint32_t length; // revision >= 2
    uint64_t xsdt_address;
    uint8_t extended_checksum;
    uint8_t reserved[3];
};

struct [[gnu::packed]] SdtHeader {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
};

struct [[gnu::packed]] GenericAddress {
    uint8_t space;
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address;
};

AcpiInfo g_info;

// Tables are small; each is mapped once (they stay mapped, like Linux's
// permanent ACPI table mappings).
const uint8_t* map_physical(uint64_t phys, size_t size)
{
    auto mapping = map_mmio(phys, size);
    return mapping.is_ok() ? static_cast<const uint8_t*>(mapping.value()) : nullptr;
}

bool checksum_ok(const uint8_t* bytes, size_t length)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < length; i++)
        sum = uint8_t(sum + bytes[i]);
    return sum == 0;
}

const SdtHeader* map_table(uint64_t phys)
{
    auto* header = reinterpret_cast<const SdtHeader*>(map_physical(phys, sizeof(SdtHeader)));
    if (!header)
        return nullptr;
    uint32_t length = header->length;
    if (length < sizeof(SdtHeader) || length > (1u << 20)) {
        log_warn("acpi: table at %#llx has absurd length %u", (unsigned long long)phys, length);
        return nullptr;
    }
    auto* table = reinterpret_cast<const SdtHeader*>(map_physical(phys, length));
    if (!table || !checksum_ok(reinterpret_cast<const uint8_t*>(table), length)) {
        log_warn("acpi: table %.4s at %#llx fails its checksum", header->signature, (unsigned long long)phys);
        return nullptr;
    }
    return table;
}

void parse_madt(const SdtHeader* madt)
{
    auto* bytes = reinterpret_cast<const uint8_t*>(madt);
    uint32_t local_apic;
    memcpy(&local_apic, bytes + sizeof(SdtHeader), 4);
    g_info.lapic_phys = local_apic;
    size_t offset = sizeof(SdtHeader) + 8;
    while (offset + 2 <= madt->length) {
        uint8_t type = bytes[offset];
        uint8_t length = bytes[offset + 1];
        if (length < 2 || offset + length > madt->length)
            break;
        const uint8_t* entry = bytes + offset;
        if (type == 0 && length >= 8 && (entry[4] & 1)) {
            g_info.cpu_count++;
        } else if (type == 1 && length >= 12 && g_info.ioapic_count < 4) {
            auto& ioapic = g_info.ioapics[g_info.ioapic_count++];
            uint32_t address, gsi_base;
            memcpy(&address, entry + 4, 4);
            memcpy(&gsi_base, entry + 8, 4);
            ioapic = { entry[2], address, gsi_base };
        } else if (type == 2 && length >= 10 && g_info.override_count < 16) {
            uint32_t gsi;
            uint16_t flags;
            memcpy(&gsi, entry + 4, 4);
            memcpy(&flags, entry + 8, 2);
            g_info.overrides[g_info.override_count++] = { entry[3], gsi, (flags & 3) == 3, ((flags >> 2) & 3) == 3 };
        } else if (type == 5 && length >= 12) {
            uint64_t address;
            memcpy(&address, entry + 4, 8);
            g_info.lapic_phys = address;
        }
        offset += length;
    }
}

// MCFG: 8 reserved bytes after the header, then 16-byte entries: base
// address (of bus 0), segment, first and last bus. A window whose bus range
// is backwards, or that lies outside the 52-bit physical space, is dropped.
void parse_mcfg(const SdtHeader* mcfg)
{
    auto* bytes = reinterpret_cast<const uint8_t*>(mcfg);
    for (size_t offset = sizeof(SdtHeader) + 8; offset + 16 <= mcfg->length; offset += 16) {
        uint64_t base;
        uint16_t segment;
        memcpy(&base, bytes + offset, 8);
        memcpy(&segment, bytes + offset + 8, 2);
        uint8_t start = bytes[offset + 10], end = bytes[offset + 11];
        if (end < start || base == 0 || base >= (1ull << 52) || (base & 0xfffff) != 0) {
            log_warn("acpi: MCFG entry for segment %u (buses %u-%u at %#llx) is unusable; ignored", segment, start, end,
                (unsigned long long)base);
            continue;
        }
        if (g_info.ecam_count == sizeof(g_info.ecam) / sizeof(g_info.ecam[0])) {
            log_warn("acpi: MCFG has more than %zu windows; the rest are ignored", g_info.ecam_count);
            return;
        }
        g_info.ecam[g_info.ecam_count++] = { base, segment, start, end };
    }
}

// \_S5_ is a package in the DSDT's AML: NameOp '_S5_' PackageOp PkgLength
// NumElements then SLP_TYPa, SLP_TYPb as byte constants (or Zero/One).
bool find_s5(const SdtHeader* dsdt, uint16_t& slp_typ_a, uint16_t& slp_typ_b)
{
    auto* aml = reinterpret_cast<const uint8_t*>(dsdt);
    size_t length = dsdt->length;
    // The name as one little-endian word: a load and a compare per byte of
    // AML (a call to memcmp at each was most of the platform boot stage).
    constexpr uint32_t kS5 = uint32_t('_') | uint32_t('S') << 8 | uint32_t('5') << 16 | uint32_t('_') << 24;
    for (size_t i = sizeof(SdtHeader); i + 4 < length; i++) {
        uint32_t word;
        __builtin_memcpy(&word, aml + i, 4);
        if (word != kS5)
            continue;
        size_t p = i + 4;
        if (p >= length || aml[p] != 0x12) // PackageOp
            continue;
        p++;
        if (p >= length)
            return false;
        p += size_t((aml[p] >> 6) & 3) + 1; // PkgLength bytes
        p++;                                // NumElements
        uint16_t values[2];
        for (uint16_t& value : values) {
            if (p >= length)
                return false;
            if (aml[p] == 0x0a) { // BytePrefix
                if (p + 1 >= length)
                    return false;
                value = aml[p + 1];
                p += 2;
            } else { // ZeroOp / OneOp
                value = aml[p] == 0x01 ? 1 : 0;
                p++;
            }
        }
        slp_typ_a = values[0];
        slp_typ_b = values[1];
        return true;
    }
    return false;
}

void parse_fadt(const SdtHeader* fadt)
{
    auto* bytes = reinterpret_cast<const uint8_t*>(fadt);
    AcpiPowerInfo power {};
    uint32_t dsdt32 = 0, pm1a = 0, pm1b = 0;
    if (fadt->length >= 68) {
        memcpy(&dsdt32, bytes + 40, 4);
        memcpy(&pm1a, bytes + 64, 4);
    }
    if (fadt->length >= 72)
        memcpy(&pm1b, bytes + 68, 4);
    power.pm1a_control = uint16_t(pm1a);
    power.pm1b_control = uint16_t(pm1b);
    if (fadt->length >= 129) {
        GenericAddress reset;
        memcpy(&reset, bytes + 116, sizeof(reset));
        power.reset_valid = reset.address != 0;
        power.reset_space = reset.space;
        power.reset_address = reset.address;
        power.reset_value = bytes[128];
    }
    uint64_t dsdt_phys = dsdt32;
    if (fadt->length >= 148) {
        uint64_t x_dsdt;
        memcpy(&x_dsdt, bytes + 140, 8);
        if (x_dsdt)
            dsdt_phys = x_dsdt;
    }
    if (dsdt_phys && power.pm1a_control) {
        if (const SdtHeader* dsdt = map_table(dsdt_phys))
            power.s5_valid = find_s5(dsdt, power.slp_typ_a, power.slp_typ_b);
    }
    set_acpi_power_info(power);
}

const Rsdp* find_rsdp(uint64_t rsdp_phys)
{
    auto valid = [](const Rsdp* rsdp) {
        return rsdp && memcmp(rsdp->signature, "RSD PTR ", 8) == 0
            && checksum_ok(reinterpret_cast<const uint8_t*>(rsdp), 20);
    };
    if (rsdp_phys) {
        auto* rsdp = reinterpret_cast<const Rsdp*>(map_physical(rsdp_phys, sizeof(Rsdp)));
        return valid(rsdp) ? rsdp : nullptr;
    }
    // The BIOS read-only area, 16-byte aligned.
    const uint8_t* bios = map_physical(0xe0000, 0x20000);
    for (size_t offset = 0; bios && offset + sizeof(Rsdp) <= 0x20000; offset += 16) {
        auto* rsdp = reinterpret_cast<const Rsdp*>(bios + offset);
        if (valid(rsdp))
            return rsdp;
    }
    return nullptr;
}

} // namespace

void acpi_init(uint64_t rsdp_phys)
{
    const Rsdp* rsdp = find_rsdp(rsdp_phys);
    if (!rsdp) {
        log_warn("acpi: no valid RSDP; no ACPI power control, legacy interrupt routing");
        return;
    }
    bool use_xsdt = rsdp->revision >= 2 && rsdp->xsdt_address != 0;
    const SdtHeader* root = map_table(use_xsdt ? rsdp->xsdt_address : rsdp->rsdt_address);
    if (!root)
        return;
    size_t entry_size = use_xsdt ? 8 : 4;
    size_t count = (root->length - sizeof(SdtHeader)) / entry_size;
    auto* entries = reinterpret_cast<const uint8_t*>(root) + sizeof(SdtHeader);
    for (size_t i = 0; i < count; i++) {
        uint64_t phys = 0;
        memcpy(&phys, entries + i * entry_size, entry_size);
        const SdtHeader* table = map_table(phys);
        if (!table)
            continue;
        if (memcmp(table->signature, "APIC", 4) == 0 && table->length >= sizeof(SdtHeader) + 8) {
            parse_madt(table);
        } else if (memcmp(table->signature, "HPET", 4) == 0 && table->length >= 56) {
            GenericAddress address;
            memcpy(&address, reinterpret_cast<const uint8_t*>(table) + 40, sizeof(address));
            if (address.space == 0)
                g_info.hpet_phys = address.address;
        } else if (memcmp(table->signature, "FACP", 4) == 0) {
            parse_fadt(table);
        } else if (memcmp(table->signature, "MCFG", 4) == 0) {
            parse_mcfg(table);
        }
    }
    g_info.valid = g_info.lapic_phys != 0;
    log_info("acpi: %zu CPU(s), %zu I/O APIC(s), HPET %s", g_info.cpu_count, g_info.ioapic_count,
        g_info.hpet_phys ? "present" : "absent");
}

const AcpiInfo& acpi_info() { return g_info; }

} // namespace keel::arch
