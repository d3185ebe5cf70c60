// GICv3's Interrupt Translation Service: message-signalled interrupts as
// LPIs. A PCI function writes its message (the data is an EventID) to the
// ITS's GITS_TRANSLATER; the ITS looks up the function's DeviceID (its
// requester ID through the bridge's msi-map) in the device table, finds
// the device's interrupt translation table (ITT), and raises the LPI the
// event was mapped to on the redistributor of the event's collection.
//
// Kept small for one CPU (GICv3 architecture specification, IHI 0069):
// - vectors kFirstVector..kDeviceVectorLast are the MSI vectors; vector v
//   is EventID v and LPI 8192 + v, so exception entry turns the LPI back
//   into its vector with a subtraction;
// - one collection (ICID 0) on this CPU's redistributor;
// - flat device and collection tables in 4 KiB pages; a DeviceID past the
//   device table is refused (that function falls back to INTx);
// - each device gets a one-page ITT the first time it asks, kept for the
//   device's lifetime (a rebinding driver reuses it; at most kMaxDevices);
// - the LPI configuration table covers INTIDs up to 2^kIdBits - 1.
// When a function's vector is freed (its MSI already off), its event is
// unmapped (DISCARD) and the LPI disabled until a vector's next message.
#include "arch/cpu.h"
#include "arch/irq.h"
#include "arch/memory_layout.h"
#include "gic.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "lib/fdt/pci_host.h"
#include "log/log.h"
#include "mm/pmm.h"
#include "mm/vmalloc.h"
#include "platform.h"
#include "sync/spinlock.h"

namespace keel::arch {

namespace {

// The ITS control frame; GITS_TRANSLATER is in the translation frame, the
// next 64 KiB.
enum ItsRegister : uint32_t {
    kGitsCtlr = 0x0000,
    kGitsTyper = 0x0008,
    kGitsCbaser = 0x0080,
    kGitsCwriter = 0x0088,
    kGitsCreadr = 0x0090,
    kGitsBaser = 0x0100, // eight of them, 8 bytes apart
};
constexpr uint64_t kGitsTranslater = 0x10040;
constexpr uint32_t kGitsCtlrEnabled = 1u << 0;
constexpr uint32_t kGitsCtlrQuiescent = 1u << 31;

// The redistributor's RD_base frame.
enum RedistributorLpiRegister : uint32_t {
    kGicrCtlr = 0x0000,
    kGicrTyper = 0x0008,
    kGicrPropbaser = 0x0070,
    kGicrPendbaser = 0x0078,
};
constexpr uint32_t kGicrCtlrEnableLpis = 1u << 0;

// Table attributes: inner shareable, inner write-back cacheable
// (read- and write-allocate), in every *BASER register.
constexpr uint64_t kInnerShareable = 1ull << 10;
constexpr uint64_t kShareabilityMask = 3ull << 10;
constexpr uint64_t kBaserInnerCache = 7ull << 59;
constexpr uint64_t kRedistributorInnerCache = 7ull << 7;
constexpr uint64_t kValid = 1ull << 63;

constexpr unsigned kBaserTypeDevices = 1;
constexpr unsigned kBaserTypeCollections = 4;

constexpr unsigned kLpiBase = 8192;
constexpr unsigned kIdBits = 14;       // LPI INTIDs 8192..16383: an 8 KiB configuration table
constexpr unsigned kEventIdBits = 8;   // EventIDs 0..255: the vectors
constexpr unsigned kFirstVector = 208; // above every SPI QEMU virt's tree names (its platform bus ends at 207)
constexpr uint8_t kLpiPriority = 0xa0; // as the GIC's other interrupts (gic.cpp)
constexpr uint8_t kLpiRes1 = 1u << 1;
constexpr uint8_t kLpiEnabled = 1u << 0;
constexpr size_t kPage = 4096;
constexpr unsigned kDeviceTableOrder = 3; // 32 KiB
constexpr size_t kMaxDevices = 64;

// ITS commands (32 bytes each).
enum ItsCommand : uint8_t {
    kSync = 0x05,
    kMapd = 0x08,
    kMapc = 0x09,
    kMapti = 0x0a,
    kInv = 0x0c,
    kDiscard = 0x0f,
};
struct Command {
    uint64_t words[4];
};
constexpr size_t kQueueCommands = kPage / sizeof(Command);

struct DeviceItt {
    uint32_t device_id;
    uint64_t itt_phys;
};

volatile uint8_t* g_its = nullptr;
volatile uint8_t* g_rd = nullptr;
uint64_t g_its_phys = 0;
uint64_t g_rd_target = 0; // MAPC's and SYNC's RDbase: an address >> 16 or a processor number
uint32_t g_max_device_ids = 0;
size_t g_itt_entry_size = 0;
bool g_noncoherent = false; // a table's shareability did not stick: clean what the ITS reads
Command* g_queue = nullptr;
size_t g_queue_next = 0;
uint8_t* g_lpi_config = nullptr;
DeviceItt g_devices[kMaxDevices];
size_t g_device_count = 0;
constexpr LockClass kItsLockClass { "gic its", LockRank::GicIts, false };
Spinlock g_its_lock { kItsLockClass };
bool g_ready = false;

template<typename T> volatile T& reg(volatile uint8_t* base, uint32_t offset)
{
    return *reinterpret_cast<volatile T*>(base + offset);
}

// Clean what the CPU wrote to memory, where a non-coherent ITS reads it.
void clean_to_memory(const void* start, size_t size)
{
    uintptr_t line = reinterpret_cast<uintptr_t>(start) & ~uintptr_t(63);
    for (; line < reinterpret_cast<uintptr_t>(start) + size; line += 64)
        asm volatile("dc cvac, %0" ::"r"(line) : "memory");
    asm volatile("dsb ish" ::: "memory");
}

// Make what the CPU wrote visible to the ITS and redistributor.
void publish(const void* start, size_t size)
{
    if (g_noncoherent)
        clean_to_memory(start, size);
    else
        asm volatile("dsb ish" ::: "memory");
}

// Tables are cleaned whatever the ITS says of its shareability: they are
// written before the *BASER register that tells is.
Result<uint64_t> zeroed_block(unsigned order)
{
    uint64_t phys = TRY(alloc_pages(order));
    memset(phys_to_virt(phys), 0, kPage << order);
    clean_to_memory(phys_to_virt(phys), kPage << order);
    return phys;
}

// Queue one command and wait until the ITS has read it (bounded: a wedged
// ITS must not hang the kernel).
bool submit(const Command& command) REQUIRES(g_its_lock)
{
    Command* slot = &g_queue[g_queue_next];
    *slot = command;
    publish(slot, sizeof(*slot));
    g_queue_next = (g_queue_next + 1) % kQueueCommands;
    uint64_t offset = g_queue_next * sizeof(Command);
    reg<uint64_t>(g_its, kGitsCwriter) = offset;
    for (int spins = 0; spins < 1000000; spins++) {
        uint64_t read = reg<uint64_t>(g_its, kGitsCreadr);
        if (read & 1) {
            log_err("gic: ITS stalled on command %#x at offset %#llx", unsigned(command.words[0] & 0xff),
                (unsigned long long)(read & 0xfffe0));
            return false;
        }
        if ((read & 0xfffe0) == offset)
            return true;
        cpu_relax();
    }
    log_err("gic: ITS did not read command %#x", unsigned(command.words[0] & 0xff));
    return false;
}

Command sync_command() { return { { kSync, 0, g_rd_target << 16, 0 } }; }

// Flat table `n` for `type`, `pages` pages of 4 KiB; false when the ITS
// would not take 4 KiB pages. Entries past `pages` are the caller's limit.
bool set_table(unsigned n, uint64_t phys, size_t pages)
{
    volatile uint64_t& baser = reg<uint64_t>(g_its, kGitsBaser + 8 * n);
    uint64_t value = kValid | kBaserInnerCache | phys | kInnerShareable | (pages - 1);
    baser = value;
    uint64_t read = baser;
    if (((read >> 8) & 3) != 0) {
        log_err("gic: ITS table %u does not take 4 KiB pages; no MSI", n);
        return false;
    }
    if ((read & kShareabilityMask) != kInnerShareable)
        g_noncoherent = true;
    return true;
}

bool set_up_tables()
{
    for (unsigned n = 0; n < 8; n++) {
        uint64_t baser = reg<uint64_t>(g_its, kGitsBaser + 8 * n);
        unsigned type = unsigned(baser >> 56) & 7;
        size_t entry_size = size_t((baser >> 48) & 0x1f) + 1;
        if (type == kBaserTypeDevices) {
            auto table = zeroed_block(kDeviceTableOrder);
            if (table.is_error() || !set_table(n, table.value(), size_t(1) << kDeviceTableOrder))
                return false;
            size_t entries = (kPage << kDeviceTableOrder) / entry_size;
            g_max_device_ids = uint32_t(min(entries, size_t(g_max_device_ids)));
        } else if (type == kBaserTypeCollections) {
            auto table = zeroed_block(0);
            if (table.is_error() || !set_table(n, table.value(), 1))
                return false;
        }
    }
    return true;
}

bool set_up_redistributor(uint64_t redistributor_phys)
{
    if (!(reg<uint64_t>(g_rd, kGicrTyper) & 1)) {
        log_warn("gic: the redistributor has no LPIs; no MSI");
        return false;
    }
    if (reg<uint32_t>(g_rd, kGicrCtlr) & kGicrCtlrEnableLpis) {
        // Its tables cannot be changed now; whoever enabled them owns them.
        log_warn("gic: LPIs were already enabled before the kernel; no MSI");
        return false;
    }
    // Configuration: a byte per LPI, all disabled. Pending: a bit per INTID,
    // 64 KiB aligned (an order-4 block, of which 2 KiB are used).
    auto config = zeroed_block(1);
    auto pending = zeroed_block(4);
    if (config.is_error() || pending.is_error())
        return false;
    g_lpi_config = static_cast<uint8_t*>(phys_to_virt(config.value()));
    for (size_t i = 0; i < (size_t(1) << kIdBits) - kLpiBase; i++)
        g_lpi_config[i] = kLpiPriority | kLpiRes1;
    clean_to_memory(g_lpi_config, (size_t(1) << kIdBits) - kLpiBase);
    volatile uint64_t& propbaser = reg<uint64_t>(g_rd, kGicrPropbaser);
    propbaser = config.value() | kInnerShareable | kRedistributorInnerCache | (kIdBits - 1);
    if ((propbaser & kShareabilityMask) != kInnerShareable)
        g_noncoherent = true;
    reg<uint64_t>(g_rd, kGicrPendbaser) = pending.value() | kInnerShareable | kRedistributorInnerCache;
    bool physical_target = (reg<uint64_t>(g_its, kGitsTyper) >> 19) & 1; // PTA
    g_rd_target = physical_target ? redistributor_phys >> 16 : (reg<uint64_t>(g_rd, kGicrTyper) >> 8) & 0xffff;
    return true;
}

DeviceItt* known_device(uint32_t device_id) REQUIRES(g_its_lock)
{
    for (size_t i = 0; i < g_device_count; i++) {
        if (g_devices[i].device_id == device_id)
            return &g_devices[i];
    }
    return nullptr;
}

DeviceItt* device_itt(uint32_t device_id) REQUIRES(g_its_lock)
{
    if (DeviceItt* known = known_device(device_id))
        return known;
    if (g_device_count == kMaxDevices) {
        log_err("gic: ITS: more than %zu devices ask for MSI; device %#x falls back", kMaxDevices, device_id);
        return nullptr;
    }
    auto itt = zeroed_block(0);
    if (itt.is_error())
        return nullptr;
    Command mapd = { { kMapd | (uint64_t(device_id) << 32), kEventIdBits - 1, kValid | itt.value(), 0 } };
    if (!submit(mapd) || !submit(sync_command())) {
        free_pages(itt.value());
        return nullptr;
    }
    g_devices[g_device_count] = { device_id, itt.value() };
    return &g_devices[g_device_count++];
}

} // namespace

void gic_its_init(const fdt::Machine& machine, volatile uint8_t* redistributor)
{
    const auto& its = machine.gic_its;
    if (!its.present || machine.gic.version != 3 || !redistributor)
        return;
    auto mapping = map_mmio(its.registers.base, 0x10000);
    if (mapping.is_error()) {
        log_err("gic: cannot map the ITS at %#llx (%s); no MSI", (unsigned long long)its.registers.base,
            error_name(mapping.error()));
        return;
    }
    g_its = static_cast<volatile uint8_t*>(mapping.value());
    g_rd = redistributor;
    // A boot loader may have left it on: off, and quiet, before its tables change.
    reg<uint32_t>(g_its, kGitsCtlr) = reg<uint32_t>(g_its, kGitsCtlr) & ~kGitsCtlrEnabled;
    for (int spins = 0; spins < 1000000 && !(reg<uint32_t>(g_its, kGitsCtlr) & kGitsCtlrQuiescent); spins++)
        cpu_relax();
    uint64_t typer = reg<uint64_t>(g_its, kGitsTyper);
    unsigned event_bits = unsigned((typer >> 8) & 0x1f) + 1;
    unsigned device_bits = unsigned((typer >> 13) & 0x1f) + 1;
    g_itt_entry_size = size_t((typer >> 4) & 0xf) + 1;
    if (!(typer & 1) || event_bits < kEventIdBits || (size_t(1) << kEventIdBits) * g_itt_entry_size > kPage) {
        log_warn("gic: ITS at %#llx cannot map %u-bit events to physical LPIs; no MSI",
            (unsigned long long)its.registers.base, kEventIdBits);
        return;
    }
    g_max_device_ids = device_bits >= 32 ? ~0u : (1u << device_bits);
    if (!set_up_tables() || !set_up_redistributor(machine.gic.cpu_or_redistributor.base))
        return;
    auto queue = zeroed_block(0);
    if (queue.is_error())
        return;
    g_queue = static_cast<Command*>(phys_to_virt(queue.value()));
    volatile uint64_t& cbaser = reg<uint64_t>(g_its, kGitsCbaser);
    cbaser = kValid | kBaserInnerCache | queue.value() | kInnerShareable; // one page
    if ((cbaser & kShareabilityMask) != kInnerShareable)
        g_noncoherent = true;
    reg<uint64_t>(g_its, kGitsCwriter) = 0;
    reg<uint32_t>(g_its, kGitsCtlr) = kGitsCtlrEnabled;
    reg<uint32_t>(g_rd, kGicrCtlr) = reg<uint32_t>(g_rd, kGicrCtlr) | kGicrCtlrEnableLpis;
    {
        SpinlockGuard guard(g_its_lock);
        Command mapc = { { kMapc, 0, kValid | (g_rd_target << 16) | 0 /* ICID */, 0 } };
        if (!submit(mapc) || !submit(sync_command()))
            return;
    }
    g_its_phys = its.registers.base;
    g_ready = true;
    log_info("gic: ITS at %#llx: MSI to LPIs %u-%u, %u device ID(s)%s", (unsigned long long)g_its_phys,
        kLpiBase + kFirstVector, kLpiBase + kDeviceVectorLast, g_max_device_ids,
        g_noncoherent ? ", tables cleaned to memory" : "");
}

bool gic_its_ready() { return g_ready; }

void gic_its_vector_range(unsigned& first, unsigned& last)
{
    first = kFirstVector;
    last = kDeviceVectorLast;
}

unsigned gic_its_lpi(unsigned vector) { return kLpiBase + vector; }

bool gic_its_vector_of(unsigned intid, unsigned& vector)
{
    if (intid < kLpiBase + kFirstVector || intid > kLpiBase + kDeviceVectorLast)
        return false;
    vector = intid - kLpiBase;
    return true;
}

MsiMessage gic_its_message(unsigned vector, uint32_t requester_id)
{
    if (!g_ready || vector < kFirstVector || vector > kDeviceVectorLast)
        return { 0, 0 };
    uint32_t device_id;
    if (!fdt::pci_host_msi_device_id(platform().pcie, requester_id, device_id) || device_id >= g_max_device_ids) {
        log_warn("gic: ITS: requester %#x has no device ID the ITS's table holds; no MSI for it", requester_id);
        return { 0, 0 };
    }
    SpinlockGuard guard(g_its_lock);
    if (!device_itt(device_id))
        return { 0, 0 };
    uint8_t& config = g_lpi_config[vector];
    config = kLpiPriority | kLpiRes1 | kLpiEnabled;
    publish(&config, 1);
    Command mapti = { { kMapti | (uint64_t(device_id) << 32), vector | (uint64_t(kLpiBase + vector) << 32), 0, 0 } };
    Command inv = { { kInv | (uint64_t(device_id) << 32), vector, 0, 0 } };
    if (!submit(mapti) || !submit(inv) || !submit(sync_command()))
        return { 0, 0 };
    return { g_its_phys + kGitsTranslater, vector };
}

void gic_its_release(unsigned vector, uint32_t requester_id)
{
    uint32_t device_id;
    if (!g_ready || vector < kFirstVector || vector > kDeviceVectorLast
        || !fdt::pci_host_msi_device_id(platform().pcie, requester_id, device_id))
        return;
    SpinlockGuard guard(g_its_lock);
    if (!known_device(device_id))
        return;
    uint8_t& config = g_lpi_config[vector];
    config = kLpiPriority | kLpiRes1;
    publish(&config, 1);
    Command inv = { { kInv | (uint64_t(device_id) << 32), vector, 0, 0 } };
    Command discard = { { kDiscard | (uint64_t(device_id) << 32), vector, 0, 0 } };
    (void)(submit(inv) && submit(discard) && submit(sync_command()));
}

} // namespace keel::arch
