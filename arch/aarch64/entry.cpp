// The aarch64 entry: boot/head.S arrives here at EL1 with the MMU on, on the
// boot stack. The device tree becomes the core's BootInfo; the core takes
// it from there and never learns how it was booted.
#include "arch/boot.h"
#include "arch/interrupts.h"
#include "arch/irq.h"
#include "arch/serial.h"
#include "boot/boot_info.h"
#include "init/kernel_main.h"
#include "platform.h"
#include "time/clock.h"

namespace keel::arch {

namespace {

BootInfo g_boot_info;

} // namespace

extern "C" [[noreturn]] void arm64_entry(uint64_t device_tree_phys)
{
    time::record_boot_cycles();
    // The console's address comes from the tree: read it first.
    read_device_tree(device_tree_phys, g_boot_info);
    serial_init();
    kernel_main(g_boot_info);
}

void cpu_init() { vectors_init(); }

void platform_init(const BootInfo&) { interrupt_controllers_init(); }

} // namespace keel::arch
