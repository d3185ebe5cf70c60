// kernel_main: bring the core up to a running scheduler, hand the rest of
// the boot flow to the init thread, and become the idle thread.
#include "arch/boot.h"
#include "arch/cpu.h"
#include "arch/irq.h"
#include "arch/memory_layout.h"
#include "arch/paging.h"
#include "boot/boot_info.h"
#include "boot/initramfs.h"
#include "boot/params.h"
#include "console/console.h"
#include "debug/panic.h"
#include "debug/selftest.h"
#include "device/of/of.h"
#include "device/pci/pci.h"
#include "device/resources.h"
#include "device/virtio/virtio.h"
#include "init/boot_stages.h"
#include "init/ip_config.h"
#include "init/kernel_main.h"
#include "init/memory_map.h"
#include "init/real_root.h"
#include "init/root_mount.h"
#include "loader/autoload.h"
#include "loader/keyring.h"
#include "loader/loader.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/pmm.h"
#include "net/netdev.h"
#include "random/random.h"
#include "sched/thread.h"
#include "time/clock.h"

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

namespace keel {

namespace {

constexpr unsigned kTickHz = 1000;
// A copy the core may change (memmap= reserves ranges in it).
BootInfo g_boot_info;

void run_constructors()
{
    for (auto* constructor = __init_array_start; constructor != __init_array_end; constructor++)
        (*constructor)();
}

void timer_tick(arch::InterruptFrame&)
{
    scheduler_tick(time::monotonic_ns());
    arch::end_of_interrupt();
    preempt_if_needed();
}

void report_initramfs(const BootInfo& boot)
{
    if (!boot.has_initrd)
        log_warn("initramfs: none given (no -initrd); only built-in features are available");
    else if (boot.initrd_size == 0)
        log_err("initramfs: the archive is empty (zero length); ignored");
    else {
        log_info("initramfs: %llu bytes at %#llx", (unsigned long long)boot.initrd_size,
            (unsigned long long)boot.initrd_phys);
        set_initramfs_image(
            { static_cast<const uint8_t*>(arch::phys_to_virt(boot.initrd_phys)), size_t(boot.initrd_size) });
    }
}

// The init thread: the boot flow from the initramfs to the console (the
// devices, the root, modules_load=, the real root), then it exits.
int kernel_init(void*)
{
    report_initramfs(g_boot_info);
    keyring_init();
    set_signature_enforcement(kernel_params().module_sig_enforce);
    loader_init();
    // Vendor keys from the initramfs, before unpacking it releases the archive.
    load_initramfs_keys();
    mark_boot_stage("keys");
    // Devices: the worker thread, then every bus. A device no driver
    // claims waits in the autoload queue until the root is mounted, the
    // vendor keys are in and the module index can be built.
    autoload_init();
    work_init();
    // The netdev core (lo and the receive thread) before any driver can
    // register a network device.
    net::netdev_init();
    virtio_bus_init();
    pci_init();
    of_init(g_boot_info.device_tree_phys);
    mark_boot_stage("devices");
    mount_root_filesystem(g_boot_info);
    mark_boot_stage("rootfs");
    // Vendor keys first: modules_load= may name modules they signed.
    for (size_t i = 0; i < kernel_params().module_keys.count; i++)
        load_boot_keys(kernel_params().module_keys.values[i]);
    autoload_start();
    for (size_t i = 0; i < kernel_params().modules_load.count; i++)
        load_boot_modules(kernel_params().modules_load.values[i]);
    mark_boot_stage("modules");
    // ip=, before the real root as in Linux (a network root can come later).
    configure_network_from_cmdline();
    mount_real_root();
    mark_boot_stage("root");
    run_boot_test_hooks();
    log_boot_stages();
    console_start();
    // Drivers for the devices no boot step waited for: from here on, beside
    // the console, as udev's coldplug runs beside a shell.
    autoload_go();
    return 0;
}

} // namespace

[[noreturn]] void kernel_main(const BootInfo& boot)
{
    run_constructors();
    g_boot_info = boot;

    // The command line first, so that loglevel= governs every message.
    parse_kernel_params(g_boot_info.cmdline);
    log_info("Keel 0.1.0 (%s) booting", arch::kName);
    if (g_boot_info.problem)
        panic("boot: unusable boot information: %s", g_boot_info.problem);
    set_panic_timeout(kernel_params().panic);
    log_info("Command line: %s", saved_command_line());
    if (g_boot_info.cmdline_truncated)
        log_err("cmdline: longer than %zu bytes; truncated", BootInfo::kMaxCmdline - 1);
    apply_memmap_parameter(g_boot_info);
    log_memory_map(g_boot_info);

    arch::cpu_init();
    mark_boot_stage("early");

    if (auto result = pmm_init(g_boot_info, arch::kBootMappedPhys); result.is_error())
        panic("pmm: cannot set up physical memory (%s)", error_name(result.error()));
    mark_boot_stage("pmm");
    if (auto result = arch::paging_init(physical_end(g_boot_info)); result.is_error())
        panic("paging: cannot build the kernel page tables (%s)", error_name(result.error()));
    pmm_add_high_memory();
    heap_init();
    mark_boot_stage("paging");

    arch::platform_init(g_boot_info);
    mark_boot_stage("platform");
    // The entropy pool before the clock: where the cycle counter is
    // calibrated against a timer (x86_64: the platform opened the window),
    // its setup runs inside the window, which clock_init then waits out
    // less of.
    random_init();
    time::clock_init();
    mark_boot_stage("clock");
    scheduler_init();
    arch::timer_start(kTickHz, time::cycles_per_second(), timer_tick);
    arch::irq_enable();
    mark_boot_stage("timer");

    // From here the boot flow waits for devices (a disk's reads complete
    // by interrupt), which only a thread other than idle may do: idle is
    // what runs when every other thread waits, so it can never wait itself.
    // As in Linux, the boot thread becomes idle and init does the rest.
    auto init = thread_create("init", kernel_init, nullptr);
    if (init.is_error())
        panic("init: cannot start the init thread (%s)", error_name(init.error()));
    thread_detach(init.value());
    for (;;) {
        thread_yield();
        arch::enable_irqs_and_halt();
    }
}

} // namespace keel
