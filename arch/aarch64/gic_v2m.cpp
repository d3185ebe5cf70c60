// GICv2m: message-signalled interrupts for a GICv2. A frame's MSI_SETSPI_NS
// register raises the SPI whose INTID is written to it, so a PCI
// function's MSI message is that register's address and the INTID; the
// frame's MSI_TYPER says which SPIs it may raise (a node's
// arm,msi-base-spi / arm,msi-num-spis override it, as the binding allows).
#include "arch/irq.h"
#include "gic.h"
#include "log/log.h"
#include "mm/vmalloc.h"

namespace keel::arch {

namespace {

constexpr uint32_t kMsiTyper = 0x008;
constexpr uint32_t kMsiSetSpi = 0x040;

uint64_t g_frame_phys = 0;
unsigned g_first = 1, g_last = 0; // empty: no MSI

} // namespace

void gic_v2m_init(const fdt::Machine& machine)
{
    const auto& frame = machine.gic_v2m;
    if (!frame.present)
        return;
    if (machine.gic.version != 2) {
        log_warn("gic: a GICv2m frame beside a GICv%u; not used", machine.gic.version);
        return;
    }
    uint32_t base = frame.base_spi, count = frame.spi_count;
    if (!count) {
        auto mapping = map_mmio(frame.registers.base, 0x1000);
        if (mapping.is_error()) {
            log_err("gic: cannot map the GICv2m frame (%s); no MSI", error_name(mapping.error()));
            return;
        }
        uint32_t typer = *reinterpret_cast<volatile uint32_t*>(static_cast<uint8_t*>(mapping.value()) + kMsiTyper);
        vfree(mapping.value());
        base = (typer >> 16) & 0x3ff;
        count = typer & 0x3ff;
    }
    if (base < 32 || count == 0 || base + count - 1 > 1019) {
        log_err("gic: GICv2m frame at %#llx: SPIs %u + %u are not SPIs; no MSI",
            (unsigned long long)frame.registers.base, base, count);
        return;
    }
    g_first = base;
    g_last = base + count - 1;
    g_frame_phys = frame.registers.base;
    unsigned usable_last = g_last < kDeviceVectorLast ? g_last : kDeviceVectorLast;
    log_info("gic: GICv2m frame at %#llx: MSI to SPIs %u-%u%s", (unsigned long long)g_frame_phys, g_first, g_last,
        usable_last < g_last ? " (those above 255 unused)" : "");
}

bool gic_v2m_ready() { return g_frame_phys != 0; }

void gic_v2m_vector_range(unsigned& first, unsigned& last)
{
    first = g_first;
    last = g_last;
}

MsiMessage gic_v2m_message(unsigned vector)
{
    if (!g_frame_phys || vector < g_first || vector > g_last)
        return { 0, 0 };
    gic_configure_spi(vector, true);
    gic_enable_spi(vector, true);
    return { g_frame_phys + kMsiSetSpi, vector };
}

} // namespace keel::arch
