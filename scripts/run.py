"""scripts/run's driver: boot Keel, forward the console, decode the exit status."""

import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import machine, network  # noqa: E402


def parse_arguments(argv):
    kernel_args = []
    if "--" in argv:
        split = argv.index("--")
        argv, kernel_args = argv[:split], argv[split + 1:]
    parser = argparse.ArgumentParser(prog="scripts/run", description="Boot Keel in QEMU.")
    parser.add_argument("--arch", choices=sorted(machine.MACHINES), default=machine.ARCH,
                        help="the architecture to build and boot (default x86_64; aarch64 boots QEMU's virt machine)")
    parser.add_argument("--initrd", default=machine.DEFAULT,
                        help="initramfs to pass to the kernel (default: the build's initramfs.cpio)")
    parser.add_argument("--no-initrd", dest="initrd", action="store_const", const=None,
                        help="boot without an initramfs")
    parser.add_argument("--memory", default="256M", help="guest memory (default 256M)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="scripted mode: give up after this many seconds (default 600)")
    parser.add_argument("--gdb", action="store_true",
                        help="start with the CPU stopped and wait for GDB (attach with scripts/gdb)")
    parser.add_argument("--gdb-port", type=int, default=1234, metavar="PORT",
                        help="the GDB stub's TCP port on 127.0.0.1 (default 1234, as QEMU's -s)")
    parser.add_argument("--disk", action="append", default=[], metavar="IMAGE[,ro]",
                        help="a raw disk image as a virtio-blk-pci disk (',ro': read-only); repeatable")
    parser.add_argument("--device", action="append", default=[], metavar="QEMU-DEVICE",
                        help="a QEMU device, e.g. edu or virtio-rng-pci (passed to -device); repeatable")
    parser.add_argument("--net", default=None, metavar="user|stream:PATH",
                        help="a virtio-net card (eth0) on QEMU's restricted user network (10.0.2.0/24, with DHCP; "
                             "adds ip=dhcp) or on a UNIX-socket segment PATH (the first guest serves it)")
    parser.add_argument("--hostfwd", action="append", default=[], metavar="tcp|udp:HOSTPORT:GUESTPORT",
                        help="--net user: 127.0.0.1:HOSTPORT reaches the guest's GUESTPORT; repeatable")
    parser.add_argument("--guestfwd", action="append", default=[], metavar="tcp:ADDR:PORT:HOSTPORT",
                        help="--net user: the guest's connections to ADDR:PORT reach 127.0.0.1:HOSTPORT; repeatable")
    parser.add_argument("--pcap", default=None, metavar="FILE",
                        help="with --net: write every frame of the network to FILE (QEMU's filter-dump)")
    parser.add_argument("--uboot", nargs="?", const="auto", choices=("auto",) + machine.UBOOT_FIRMWARES,
                        metavar="keel|debian",
                        help="aarch64 (its default): boot through U-Boot, which verifies and boots the signed FIT "
                             "(build-aarch64/arch/aarch64/uboot/keel.itb): the project's U-Boot (keel, the default "
                             "once the scripts have built it) or Debian's u-boot-qemu binary (debian)")
    parser.add_argument("--direct", action="store_true",
                        help="aarch64: QEMU loads the kernel and the initramfs itself (-kernel), without U-Boot; "
                             "x86_64 always boots so")
    parser.add_argument("--kernel", default=None, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    explicit_kernel = options.kernel is not None
    if options.kernel is None:
        options.kernel = machine.kernel_path(machine.BUILD if options.arch == machine.ARCH
                                             else machine.build_dir(options.arch), options.arch)
    if options.uboot and options.arch != "aarch64":
        parser.error("--uboot boots the aarch64 FIT: add --arch aarch64")
    if options.uboot and options.direct:
        parser.error("--uboot and --direct: choose one")
    # aarch64 boots through U-Boot unless told otherwise (a kernel named
    # on the command line is one QEMU loads).
    firmware = options.uboot
    options.uboot = options.arch == "aarch64" and not options.direct and (firmware is not None or not explicit_kernel)
    options.uboot_firmware = None
    if options.uboot:
        options.uboot_firmware = machine.default_uboot_firmware() if firmware in (None, "auto") else firmware
        if firmware in (None, "auto") and options.uboot_firmware == "debian":
            print("keel: the project's U-Boot is not built (scripts/build-uboot.py, which scripts/run runs): "
                  "booting through Debian's", file=sys.stderr)
    if options.uboot and options.initrd is not machine.DEFAULT:
        parser.error("through U-Boot the initramfs is the one inside the signed FIT: add --direct to give "
                     "--initrd or --no-initrd")
    try:
        machine.hardware_options(options.disk, options.device)
        # Once: for a stream segment it looks whether a guest serves it.
        options.network = network.options(options.net, options.hostfwd, options.guestfwd, options.pcap)
    except ValueError as error:
        parser.error(str(error))
    kernel_args = network.kernel_args(options.net, kernel_args)
    if not 0 < options.gdb_port < 65536:
        parser.error(f"--gdb-port {options.gdb_port}: not a TCP port")
    return options, kernel_args


def qemu_extra(options):
    """QEMU options beyond the machine: disks and devices, the network, the GDB stub."""
    hardware = machine.hardware_options(options.disk, options.device)
    hardware += options.network
    if not options.gdb:
        return hardware
    port = options.gdb_port
    attach = "scripts/gdb" + ("" if port == 1234 else f" --port {port}")
    print(f"keel: QEMU waits for GDB on 127.0.0.1:{port}; attach with `{attach}` from another terminal",
          file=sys.stderr)
    return hardware + machine.gdb_options(port)


def fit_path(options):
    return os.path.join(os.path.dirname(os.path.dirname(options.kernel)), "arch", "aarch64", "uboot", "keel.itb")


def interactive(options, cmdline):
    if options.uboot:
        scratch = tempfile.TemporaryDirectory(prefix="keel-uboot-")
        command = machine.uboot_setup(scratch.name, fit_path(options), cmdline, options.memory, interactive=True,
                                      extra=qemu_extra(options), firmware=options.uboot_firmware)
        if options.uboot_firmware == "keel":
            print(f"keel: the project's U-Boot verifies and boots the signed FIT ({machine.UBOOT_BOOT}), and powers "
                  "off if it refuses it; it has no prompt", file=sys.stderr)
        else:
            print(f"keel: Debian's U-Boot verifies and boots the signed FIT by itself ({machine.UBOOT_BOOT}); a key "
                  "pressed at once stops it at its prompt", file=sys.stderr)
    else:
        command = machine.qemu_command(options.kernel, options.initrd, cmdline, options.memory, interactive=True,
                                       extra=qemu_extra(options), arch=options.arch)
    print("keel: booting; Ctrl-A X quits QEMU", file=sys.stderr)
    process = subprocess.run(command)
    # No captured output here: trust the exit encoding alone.
    code = process.returncode
    if options.arch != "x86_64":
        return code
    return code >> 1 if code & 1 else (0 if code == 0 else machine.EXIT_QEMU_FAILED)


def scripted(options, cmdline):
    def echo(text):
        sys.stdout.write(text)
        sys.stdout.flush()

    lines = sys.stdin.read().splitlines()
    vm = machine.Machine(cmdline=cmdline, initrd=options.initrd, memory=options.memory,
                         kernel=options.kernel, echo=echo, extra=qemu_extra(options), arch=options.arch,
                         uboot=fit_path(options) if options.uboot else None,
                         uboot_firmware=options.uboot_firmware or "keel")
    vm.start()
    try:
        deadline_left = options.timeout
        for line in lines + ["poweroff 0"]:
            vm.expect(machine.PROMPT, timeout=deadline_left)
            vm.send(line)
        return vm.wait_exit(timeout=options.timeout)
    except machine.Timeout as error:
        # The kernel may have powered off (or panicked) before every line was
        # sent: then QEMU has closed its output and is exiting.
        try:
            vm.process.wait(timeout=5)
            return vm.wait_exit(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        print(f"\nkeel: {error}".splitlines()[0], file=sys.stderr)
        vm.kill()
        return machine.EXIT_TIMEOUT
    finally:
        vm.kill()


EXIT_USAGE = 2  # argparse's status for bad options


def main():
    options, kernel_args = parse_arguments(sys.argv[1:])
    if not os.path.exists(options.kernel):
        print(f"keel: no kernel at {options.kernel}; build first (scripts/build)", file=sys.stderr)
        return machine.EXIT_QEMU_FAILED
    scripted_mode = not sys.stdin.isatty()
    # A script must not hang on a panic: power off at once unless told
    # otherwise (and without a second panic=, which the kernel would
    # report as given twice).
    if scripted_mode and not any(arg.startswith("panic=") for arg in kernel_args):
        kernel_args = ["panic=-1"] + kernel_args
    cmdline = " ".join(kernel_args)
    try:
        machine.check_cmdline(cmdline)
        if options.uboot:
            machine.check_uboot_cmdline(cmdline)
    except machine.CommandLineTooLong as error:
        print(f"keel: {error} (docs/kernel-parameters.md)", file=sys.stderr)
        return EXIT_USAGE
    if options.uboot:
        try:
            machine.check_uboot_memory(options.memory, fit_path(options))
            if options.uboot_firmware == "keel":
                machine.uboot.built()
        except (machine.NotEnoughMemory, machine.uboot.NotBuilt, OSError) as error:
            print(f"keel: {error}", file=sys.stderr)
            return EXIT_USAGE
    if scripted_mode:
        return scripted(options, cmdline)
    return interactive(options, cmdline)


if __name__ == "__main__":
    sys.exit(main())
