// The Generic Interrupt Controller, version 3 (distributor, redistributor,
// system-register CPU interface) or version 2 (distributor and memory-
// mapped CPU interface), whichever the device tree describes. One CPU:
// every interrupt is routed to it, group 1 (non-secure IRQ), one priority.
#include "gic.h"
#include "arch/cpu.h"
#include "arch/irq.h"
#include "log/log.h"
#include "mm/vmalloc.h"
#include "platform.h"

namespace keel::arch {

namespace {

constexpr unsigned kSpurious = 1023;
constexpr unsigned kLpiFirst = 8192;
constexpr unsigned kNone = ~0u;
constexpr uint8_t kPriority = 0xa0;

enum DistributorRegister : uint32_t {
    kGicdCtlr = 0x0000,
    kGicdIgroupr = 0x0080,
    kGicdIsenabler = 0x0100,
    kGicdIcenabler = 0x0180,
    kGicdTyper = 0x0004,
    kGicdIpriorityr = 0x0400,
    kGicdItargetsr = 0x0800,
    kGicdIcfgr = 0x0c00,
    kGicdIrouter = 0x6000,
};
constexpr uint32_t kGicdCtlrRwp = 1u << 31;

// GICv3 redistributor: RD_base frame, then SGI_base 64 KiB on.
enum RedistributorRegister : uint32_t {
    kGicrWaker = 0x0014,
    kGicrSgiBase = 0x10000,
    kGicrIgroupr0 = kGicrSgiBase + 0x0080,
    kGicrIsenabler0 = kGicrSgiBase + 0x0100,
    kGicrIcenabler0 = kGicrSgiBase + 0x0180,
    kGicrIpriorityr = kGicrSgiBase + 0x0400,
};

// GICv2 CPU interface.
enum CpuInterfaceRegister : uint32_t {
    kGiccCtlr = 0x00,
    kGiccPmr = 0x04,
    kGiccBpr = 0x08,
    kGiccIar = 0x0c,
    kGiccEoir = 0x10,
};

unsigned g_version = 0;
volatile uint8_t* g_distributor = nullptr;
volatile uint8_t* g_cpu_interface = nullptr; // v2
volatile uint8_t* g_redistributor = nullptr; // v3: this CPU's
unsigned g_pending_eoi = kNone;              // the INTID to end
unsigned g_pending_vector = kNone;           // the vector it was delivered as
// Interrupts the architecture attached itself (the console UART, the
// timer): never handed to the device model.
uint32_t g_kernel_owned[(kMaxInterrupts + 31) / 32];

volatile uint32_t& reg32(volatile uint8_t* base, uint32_t offset)
{
    return *reinterpret_cast<volatile uint32_t*>(base + offset);
}

void wait_for_distributor()
{
    for (int spins = 0; spins < 1000000 && (reg32(g_distributor, kGicdCtlr) & kGicdCtlrRwp); spins++)
        cpu_relax();
}

// A boot loader may leave interrupts enabled (U-Boot's timer): every one
// is off until a driver attaches to it.
void disable_shared_interrupts()
{
    unsigned lines = 32 * ((reg32(g_distributor, kGicdTyper) & 0x1f) + 1);
    for (unsigned intid = 32; intid < lines && intid < kMaxInterrupts; intid += 32)
        reg32(g_distributor, kGicdIcenabler + intid / 8) = 0xffffffff;
}

volatile uint8_t* map(const fdt::Range& range, const char* what)
{
    auto mapping = map_mmio(range.base, range.size);
    if (mapping.is_error()) {
        log_err(
            "gic: cannot map the %s at %#llx (%s)", what, (unsigned long long)range.base, error_name(mapping.error()));
        return nullptr;
    }
    return static_cast<volatile uint8_t*>(mapping.value());
}

bool init_v3(const fdt::Machine& machine)
{
    g_distributor = map(machine.gic.distributor, "distributor");
    // The first redistributor frame pair is CPU 0's, the only CPU.
    fdt::Range redistributor = { machine.gic.cpu_or_redistributor.base, 0x20000 };
    g_redistributor = map(redistributor, "redistributor");
    if (!g_distributor || !g_redistributor)
        return false;
    reg32(g_distributor, kGicdCtlr) = 0;
    wait_for_distributor();
    disable_shared_interrupts();
    // Affinity routing, then group 1 on (ARE_NS/ARE and EnableGrp1).
    reg32(g_distributor, kGicdCtlr) = 1u << 4;
    wait_for_distributor();
    reg32(g_distributor, kGicdCtlr) = (1u << 4) | (1u << 1);
    wait_for_distributor();

    // Wake the redistributor.
    reg32(g_redistributor, kGicrWaker) = reg32(g_redistributor, kGicrWaker) & ~(1u << 1);
    for (int spins = 0; spins < 1000000 && (reg32(g_redistributor, kGicrWaker) & (1u << 2)); spins++)
        cpu_relax();
    reg32(g_redistributor, kGicrIcenabler0) = 0xffffffff;
    reg32(g_redistributor, kGicrIgroupr0) = 0xffffffff;

    // The CPU interface through system registers.
    KEEL_WRITE_SYSREG(s3_0_c12_c12_5, KEEL_READ_SYSREG(s3_0_c12_c12_5) | 1); // ICC_SRE_EL1.SRE
    isb();
    KEEL_WRITE_SYSREG(s3_0_c4_c6_0, 0xff); // ICC_PMR_EL1: every priority
    KEEL_WRITE_SYSREG(s3_0_c12_c12_3, 0);  // ICC_BPR1_EL1
    KEEL_WRITE_SYSREG(s3_0_c12_c12_7, 1);  // ICC_IGRPEN1_EL1
    isb();
    return true;
}

bool init_v2(const fdt::Machine& machine)
{
    g_distributor = map(machine.gic.distributor, "distributor");
    g_cpu_interface = map(machine.gic.cpu_or_redistributor, "CPU interface");
    if (!g_distributor || !g_cpu_interface)
        return false;
    reg32(g_distributor, kGicdCtlr) = 0;
    disable_shared_interrupts();
    reg32(g_distributor, kGicdIcenabler) = 0xffffffff; // banked: this CPU's SGIs and PPIs
    reg32(g_distributor, kGicdCtlr) = 1;
    reg32(g_cpu_interface, kGiccPmr) = 0xff;
    reg32(g_cpu_interface, kGiccBpr) = 0;
    reg32(g_cpu_interface, kGiccCtlr) = 1;
    return true;
}

} // namespace

void interrupt_controllers_init()
{
    const fdt::Machine& machine = platform();
    unsigned version = machine.gic.version;
    bool ready = version == 3 ? init_v3(machine) : version == 2 ? init_v2(machine) : false;
    if (!ready) {
        log_err(
            "gic: %s; no interrupts", version ? "cannot set up the interrupt controller" : "none in the device tree");
        return;
    }
    g_version = version;
    log_info("gic: GICv%u, distributor at %#llx", version, (unsigned long long)machine.gic.distributor.base);
    gic_v2m_init(machine);
    gic_its_init(machine, g_redistributor);
}

void msi_vector_range(unsigned& first, unsigned& last)
{
    first = 1;
    last = 0; // empty
    if (gic_its_ready())
        gic_its_vector_range(first, last);
    else if (gic_v2m_ready())
        gic_v2m_vector_range(first, last);
}

void msi_release(unsigned vector, uint32_t requester_id)
{
    if (gic_its_ready())
        gic_its_release(vector, requester_id);
}

MsiMessage msi_message(unsigned vector, uint32_t requester_id)
{
    if (gic_its_ready())
        return gic_its_message(vector, requester_id);
    if (gic_v2m_ready())
        return gic_v2m_message(vector);
    return { 0, 0 };
}

void irq_attach(unsigned intid, InterruptHandler handler)
{
    set_interrupt_handler(intid, handler);
    if (g_version == 0 || intid < 16 || intid >= kMaxInterrupts)
        return;
    g_kernel_owned[intid / 32] |= 1u << (intid % 32);
    uint32_t bit = 1u << (intid % 32);
    if (intid < 32 && g_version == 3) {
        *(g_redistributor + kGicrIpriorityr + intid) = kPriority;
        reg32(g_redistributor, kGicrIsenabler0) = bit;
        return;
    }
    *(g_distributor + kGicdIpriorityr + intid) = kPriority;
    if (g_version == 3) {
        volatile uint32_t& group = reg32(g_distributor, kGicdIgroupr + 4 * (intid / 32));
        group = group | bit;
        *reinterpret_cast<volatile uint64_t*>(g_distributor + kGicdIrouter + 8 * intid) = 0; // CPU 0.0.0.0
    } else if (intid >= 32) {
        *(g_distributor + kGicdItargetsr + intid) = 1; // CPU interface 0
    }
    reg32(g_distributor, kGicdIsenabler + 4 * (intid / 32)) = bit;
}

bool gic_configure_spi(unsigned intid, bool edge)
{
    if (g_version == 0 || intid < 32 || intid >= kMaxInterrupts)
        return false;
    gic_enable_spi(intid, false);
    // Two bits per interrupt; the upper one set: rising edge, clear: level.
    volatile uint32_t& config = reg32(g_distributor, kGicdIcfgr + 4 * (intid / 16));
    uint32_t bit = 2u << (2 * (intid % 16));
    config = edge ? (config | bit) : (config & ~bit);
    *(g_distributor + kGicdIpriorityr + intid) = kPriority;
    if (g_version == 3) {
        volatile uint32_t& group = reg32(g_distributor, kGicdIgroupr + 4 * (intid / 32));
        group = group | (1u << (intid % 32));
        *reinterpret_cast<volatile uint64_t*>(g_distributor + kGicdIrouter + 8 * intid) = 0;
    } else {
        *(g_distributor + kGicdItargetsr + intid) = 1;
    }
    return true;
}

void gic_enable_spi(unsigned intid, bool enabled)
{
    if (g_version == 0 || intid < 32 || intid >= kMaxInterrupts)
        return;
    uint32_t bit = 1u << (intid % 32);
    reg32(g_distributor, (enabled ? kGicdIsenabler : kGicdIcenabler) + 4 * (intid / 32)) = bit;
    if (!enabled && g_version == 3)
        wait_for_distributor();
}

// A device's interrupt-controller input: the GIC has level-high and
// rising-edge SPIs only.
bool irq_route_gsi(uint32_t gsi, unsigned vector, bool level_triggered, bool active_low)
{
    if (vector != gsi || active_low || gsi > kDeviceVectorLast) {
        log_err("gic: cannot route INTID %u (vector %u, %s): an SPI up to %u, active high, on its own INTID", gsi,
            vector, active_low ? "active low" : "active high", kDeviceVectorLast);
        return false;
    }
    if (g_kernel_owned[gsi / 32] & (1u << (gsi % 32))) {
        log_err("gic: INTID %u is the kernel's own (its console or timer); not for a device driver", gsi);
        return false;
    }
    return gic_configure_spi(gsi, !level_triggered);
}

void irq_mask_gsi(uint32_t gsi, bool masked) { gic_enable_spi(gsi, !masked); }

unsigned gic_acknowledge()
{
    unsigned intid = kSpurious;
    if (g_version == 3)
        intid = unsigned(KEEL_READ_SYSREG(s3_0_c12_c12_0) & 0xffffff); // ICC_IAR1_EL1
    else if (g_version == 2)
        intid = reg32(g_cpu_interface, kGiccIar) & 0x3ff;
    unsigned vector = intid;
    if (intid >= kLpiFirst && !gic_its_vector_of(intid, vector)) {
        // An LPI no vector stands for: end it, deliver nothing.
        KEEL_WRITE_SYSREG(s3_0_c12_c12_1, intid); // ICC_EOIR1_EL1
        isb();
        return kSpurious;
    }
    if (vector < kMaxInterrupts) {
        g_pending_eoi = intid;
        g_pending_vector = vector;
    }
    return vector;
}

void end_of_interrupt()
{
    unsigned intid = g_pending_eoi;
    if (intid == kNone)
        return;
    g_pending_eoi = kNone;
    if (g_version == 3) {
        KEEL_WRITE_SYSREG(s3_0_c12_c12_1, intid); // ICC_EOIR1_EL1
        isb();
    } else {
        reg32(g_cpu_interface, kGiccEoir) = intid;
    }
}

void gic_end_if_pending(unsigned vector)
{
    if (g_pending_eoi != kNone && g_pending_vector == vector)
        end_of_interrupt();
}

} // namespace keel::arch
