"""scripts/bench --arch aarch64: Keel's figures on QEMU's virt machine, beside
Debian's Linux arm64 cloud kernel booted the same way in the same run
(docs/aarch64.md, "Performance").

Every run boots, in turn (the order alternating from run to run, so drift on
a shared host touches both alike), each kernel twice on the same QEMU
command line (machine.MACHINES["aarch64"], 256 MiB):

- QEMU loading the kernel and its initramfs itself (-kernel, -initrd);
- through each U-Boot, the project's (built by scripts/build-uboot.py) and
  Debian's, verifying a FIT of the kernel and its initramfs signed with the
  boot key, with the same boot command (Linux's FIT is made by the same
  scripts/make-fit.py, peer.LinuxGuest).

Host wall time from QEMU's start to Keel's prompt and to Linux's first /init
line, and QEMU's floor (its start to the exit of an Image that exits at once
through semihosting, with the same initramfs) so that both can be read less
QEMU's own part; through U-Boot also U-Boot's share, to its "Starting
kernel", and the part of it before U-Boot reads the FIT (its own start, to
its "## Loading kernel from FIT Image"), which bounds the ratio whatever the
kernel does, and that less QEMU's floor. Then one
boot of each per run for module loads: Keel's `modtest cycles` stage
timings, Linux's finit_module, module_sig_check and delete_module timed by
ftrace (keel/modloads.py, the same as scripts/bench on x86_64), and Keel's
console insmod of the C, C++ and Rust hello modules. Medians throughout;
--peer none measures Keel alone."""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import machine, modloads, peer  # noqa: E402
# The load table and its rows are x86_64's (scripts/bench.py), shared.
from bench import median, print_loads, side_by_side  # noqa: E402

BUILD = machine.BUILD  # scripts/bench --arch aarch64 sets KEEL_BUILD
FIT = os.path.join(BUILD, "arch", "aarch64", "uboot", "keel.itb")
NULL_IMAGE = os.path.join(BUILD, "arch", "aarch64", "null.Image")
MODULES = ("hello", "hello_cpp", "hello_rs")
LOADED = re.compile(r"(\w+): loaded at 0x[0-9a-f]+ \(\d+ KiB\) in (\d+) us")
CMDLINE = "loglevel=4"  # as Linux's `quiet`
UBOOTS = (("keel", "the project's U-Boot"), ("debian", "Debian's U-Boot"))
BOOT_TARGET = 10        # Linux's time to its /init over Keel's to its prompt, at least


def power_off(vm):
    vm.send("poweroff 0")
    status = vm.wait_exit(30)
    if status != 0:
        raise machine.Timeout(f"poweroff 0 gave status {status}")


def time_floor():
    """QEMU start to exit for an Image that exits at once (semihosting)."""
    command = machine.qemu_command(kernel=NULL_IMAGE, arch="aarch64")
    start = time.monotonic()
    status = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode
    if status != 0:
        raise machine.Timeout(f"the floor Image exited with status {status}, not 0")
    return time.monotonic() - start


def keel_direct():
    """{"wall": host seconds from QEMU's start to the prompt, QEMU loading the Image}."""
    with peer.KeelGuest(cmdline=CMDLINE) as guest:
        guest.start()
    return {"wall": guest.boot_wall, "guest": guest.boot_guest}


def keel_uboot(firmware):
    """{"start": QEMU's start to U-Boot reading the FIT, "uboot": to U-Boot
    starting the kernel, "wall": to the prompt}, host seconds, through U-Boot
    `firmware` (machine.UBOOT_FIRMWARES)."""
    with machine.Machine(cmdline=CMDLINE, uboot=FIT, arch="aarch64", uboot_firmware=firmware) as vm:
        vm.expect(machine.UBOOT_READS_FIT, 60)
        start = time.monotonic() - vm.started_at
        vm.expect("Starting kernel", 60)
        handed_over = time.monotonic() - vm.started_at
        vm.expect(machine.PROMPT, 60)
        wall = time.monotonic() - vm.started_at
        power_off(vm)
    return {"start": start, "uboot": handed_over, "wall": wall}


def linux_boot(assets, uboot):
    """The same figures for Linux, to its first /init line."""
    with peer.LinuxGuest(assets, uboot=uboot) as guest:
        guest.start()
    return {"wall": guest.boot_wall, "guest": guest.boot_guest, "uboot": guest.uboot_wall, "start": guest.uboot_start}


def keel_console_loads(loads):
    """{module: [insmod microseconds, ...]}, the console's insmod/rmmod, every load in one boot."""
    times = {name: [] for name in MODULES}
    # The default log level: insmod's "loaded ..." line is informational.
    with peer.KeelGuest(cmdline="panic=-1") as guest:
        guest.start()
        for _ in range(loads):
            for name in MODULES:
                out = guest.run(f"insmod {name}")
                match = LOADED.search(out)
                if not match or match.group(1) != name:
                    raise machine.Timeout(f"insmod {name}: {out}")
                times[name].append(int(match.group(2)))
                guest.run(f"rmmod {name}")
    return times


def measure(runs, loads, assets, with_boots=True):
    """with_boots=False: only the module-load boots (--insmod-only)."""
    boots = ["direct"] + [f"uboot {firmware}" for firmware, _ in UBOOTS]
    figures = {f"{kernel} {boot}": [] for kernel in ("keel", "linux") for boot in boots + ["loads"]}
    figures["floor"] = []

    def keel():
        if with_boots:
            figures["floor"].append(time_floor())
            figures["keel direct"].append(keel_direct())
            for firmware, _ in UBOOTS:
                figures[f"keel uboot {firmware}"].append(keel_uboot(firmware))
        figures["keel loads"].append(modloads.keel_module_loads(loads))

    def linux():
        if assets:
            if with_boots:
                figures["linux direct"].append(linux_boot(assets, uboot=False))
                for firmware, _ in UBOOTS:
                    figures[f"linux uboot {firmware}"].append(linux_boot(assets, uboot=firmware))
            figures["linux loads"].append(modloads.linux_module_loads(assets, loads))

    peer.interleave("bench", runs, keel, linux)
    if with_boots:
        figures["console loads"] = keel_console_loads(loads)
    return figures


def figure(boots, name):
    return median(boot[name] for boot in boots)


def print_boot(runs, figures, assets):
    linux_name = f"Linux {assets.release.split('-')[0]}" if assets else ""
    print(f"Boot on QEMU virt, cortex-a57, GICv3, TCG, 256 MiB (median of {runs} boots each, host wall from QEMU's "
          f"start{'; Keel and Linux interleaved' if assets else ''})")
    if assets:
        print(f"  {'':52}{'Keel':>13}{linux_name:>14}  Linux/Keel")
    what = "prompt" + " / first /init line" * bool(assets)

    def row(label, key, field, target=None):
        keel = figure(figures[f"keel {key}"], field)
        linux = figure(figures[f"linux {key}"], field) if assets else None
        print(side_by_side(label, keel, linux, "s", target))

    def kernel_share(boots):
        return median(boot["wall"] - boot["uboot"] for boot in boots)

    floor = statistics.median(figures["floor"])
    print(f"  {'QEMU floor (an Image that exits at once)':<52}{floor * 1000:10.1f} ms")
    print("  QEMU loads the kernel and initramfs (-kernel, -initrd)")
    row(f"  to the {what}", "direct", "wall", BOOT_TARGET)
    keel_own = figure(figures["keel direct"], "wall") - floor
    linux_own = figure(figures["linux direct"], "wall") - floor if assets else None
    print(side_by_side("  minus QEMU's floor", keel_own, linux_own, "s"))
    row("  guest clock there (Keel core up, Linux monotonic)", "direct", "guest")
    for firmware, title in UBOOTS:
        key = f"uboot {firmware}"
        print(f"  {title} verifies and boots the signed FIT (bootm)")
        row(f"  to the {what}", key, "wall", BOOT_TARGET)
        row("  U-Boot's share (to 'Starting kernel')", key, "uboot")
        print(side_by_side("  the kernel's share after U-Boot", kernel_share(figures[f"keel {key}"]),
                           kernel_share(figures[f"linux {key}"]) if assets else None, "s"))
        row("  U-Boot before it reads the FIT", key, "start")
        own = figure(figures[f"keel {key}"], "start") - floor
        print(side_by_side("  minus QEMU's floor (U-Boot's own, at least)", own, None, "s"))
        if assets:
            ceiling = figure(figures[f"linux {key}"], "wall") / figure(figures[f"keel {key}"], "start")
            print(f"  {'  Linux/Keel if Keel took no time after that':<52}{ceiling:36.1f} x")
    if assets:
        print(f"  ({linux_name}: {assets.package} {assets.version}, its {os.path.getsize(assets.vmlinuz) >> 20} MiB "
              f"uncompressed Image hashed and copied by U-Boot; Keel's FIT: {os.path.getsize(FIT) >> 10} KiB)")


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench --arch aarch64")
    parser.add_argument("--arch", choices=("aarch64",), default="aarch64")
    parser.add_argument("--runs", type=int, default=7, help="boots per figure (at least 5)")
    parser.add_argument("--loads", type=int, default=100, help="insmod/rmmod cycles per module and boot (at least 10)")
    parser.add_argument("--peer", choices=("linux", "none"), default="linux",
                        help="measure Debian's Linux arm64 cloud kernel beside Keel in the same run (default), or not")
    parser.add_argument("--insmod-only", action="store_true",
                        help="only the module loads (insmod, signature check and unload rows), nothing else")
    options = parser.parse_args()
    runs = max(5, options.runs)
    loads = max(10, options.loads)
    try:
        assets = None
        if options.peer == "linux":
            assets = peer.LinuxAssets.fetch(log=lambda message: print(message, file=sys.stderr, flush=True),
                                            arch=peer.DEBIAN_ARCH["aarch64"])
            if assets.kernel_config("FUNCTION_GRAPH_TRACER") != "y":
                raise peer.PeerError(f"{assets.package} is built without CONFIG_FUNCTION_GRAPH_TRACER")
        figures = measure(runs, loads, assets, with_boots=not options.insmod_only)
    except (peer.PeerError, machine.Timeout, OSError) as error:
        print(f"scripts/bench: FAILED, no figures printed: {error}", file=sys.stderr)
        if options.peer == "linux":
            print("scripts/bench: (--peer none measures Keel alone)", file=sys.stderr)
        return 1

    if options.insmod_only:
        print_loads(runs, loads, figures, assets)
        return 0
    print_boot(runs, figures, assets)
    print_loads(runs, loads, figures, assets)
    print(f"Console insmod (median of {loads} in one boot, the kernel's own 'loaded ... in N us')")
    for name in MODULES:
        print(f"  {name:<12} {statistics.median(figures['console loads'][name]):8.0f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
