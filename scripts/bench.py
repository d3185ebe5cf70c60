"""scripts/bench's driver. Wall times come from the host clock; guest times
from each kernel's own clock. Every figure is a median over --runs boots,
and its references (QEMU's floor, Linux with --peer linux) are measured in
the same run: each run boots QEMU's floor, Keel and Linux in turn, so drift
on a shared machine touches both sides alike."""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import machine, modloads, peer  # noqa: E402

NULL_KERNEL = os.path.join(machine.BUILD, "arch", "x86_64", "null-pvh.elf")
BENCH_CRYPTO = os.path.join(machine.BUILD, "tests", "unit", "crypto", "bench-crypto")
UNPACK = re.compile(r"initramfs: unpacked (\d+) entries .*?, (\d+) bytes in (\d+) us")
INSMOD_TARGET = 10      # Linux's insmod time over Keel's, at least
SIG_CHECK_TARGET = 6    # Linux's module_sig_check over Keel's verify stage, at least
BUSY_HOST = 0.10        # QEMU waiting for a host CPU more than this is worth a warning


def time_floor():
    """QEMU start to exit for a PVH kernel that powers off at once."""
    command = machine.qemu_command(kernel=NULL_KERNEL)
    start = time.monotonic()
    subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def keel_boot():
    """(host wall to the prompt, guest TSC figure, initramfs unpack figures)."""
    with peer.KeelGuest() as guest:
        guest.start()
        unpack = UNPACK.search(guest.boot_log)
    return guest.boot_wall, guest.boot_guest, tuple(int(value) for value in unpack.groups()) if unpack else None


def linux_boot(assets):
    """(host wall to the first /init line, guest monotonic clock there)."""
    with peer.LinuxGuest(assets) as guest:
        guest.start()
    return guest.boot_wall, guest.boot_guest


def kabi_lookups():
    tool = os.path.join(machine.BUILD, "tests", "unit", "kabi", "bench-kabi-lookup")
    return subprocess.run([tool], capture_output=True, text=True).stdout if os.path.exists(tool) else ""


def crypto_figures():
    if not os.path.exists(BENCH_CRYPTO):
        return None
    return subprocess.run([BENCH_CRYPTO, "5"], capture_output=True, text=True).stdout


def median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def medians(per_run):
    """[{key: {figure: value}}, ...] (one dict per boot) -> {key: {figure: median}}."""
    return {key: {figure: median(run[key][figure] for run in per_run) for figure in per_run[0][key]}
            for key in per_run[0]}


def measure(runs, loads, assets, progress, boots=True):
    """Every boot of the run, the kernels interleaved (and their order
    alternated); returns the lists of per-boot figures. boots=False: only
    the module-load boots (--insmod-only)."""
    figures = {"floor": [], "keel boot": [], "linux boot": [], "keel loads": [], "linux loads": []}

    def keel():
        if boots:
            figures["keel boot"].append(keel_boot())
        figures["keel loads"].append(modloads.keel_module_loads(loads))

    def linux():
        if assets:
            if boots:
                figures["linux boot"].append(linux_boot(assets))
            figures["linux loads"].append(modloads.linux_module_loads(assets, loads))

    for run in range(runs):
        progress(f"bench: run {run + 1} of {runs}")
        if boots:
            figures["floor"].append(time_floor())
        for side in ((keel, linux) if run % 2 == 0 else (linux, keel)):
            side()
    return figures


def kib(size):
    return f"{size / 1024:.0f} KiB"


def ms(seconds):
    return f"{seconds * 1000:8.1f} ms"


def side_by_side(label, keel, linux, unit, target=None):
    """One row: Keel's figure, Linux's, Linux/Keel and the target it should meet."""
    scale, name = (1000, "ms") if unit == "s" else (1, "us")
    row = f"  {label:<52}{keel * scale:10.1f} {name}"
    if linux is not None:
        ratio = linux / keel
        row += f" {linux * scale:10.1f} {name} {ratio:8.1f} x"
        if target:
            row += f"   target {target} x: {'met' if ratio >= target else 'NOT MET'}"
    return row


def print_boot(runs, figures, linux_name):
    floor = statistics.median(figures["floor"])
    keel_wall = median(boot[0] for boot in figures["keel boot"])
    keel_guest = median(boot[1] for boot in figures["keel boot"])
    linux_wall = median(boot[0] for boot in figures["linux boot"])
    linux_guest = median(boot[1] for boot in figures["linux boot"])
    with_linux = linux_wall is not None
    print(f"Boot (median of {runs} boots each, QEMU q35 + TCG, 256 MiB{'; Keel and Linux interleaved' * with_linux})")
    print(f"  {'QEMU floor (do-nothing PVH kernel)':<52}{ms(floor)}")
    if with_linux:
        print(f"  {'':52}{'Keel':>13}{linux_name:>14}  Linux/Keel")
    print(side_by_side("QEMU start to prompt" + " / first /init line" * with_linux, keel_wall, linux_wall, "s"))
    print(side_by_side("  minus QEMU's floor (Keel: within 40 ms)", keel_wall - floor,
                       linux_wall - floor if with_linux else None, "s"))
    if keel_guest is not None:
        print(side_by_side("guest clock there (Keel TSC" + ", Linux monotonic" * with_linux + ")", keel_guest,
                           linux_guest, "s"))
    print(f"  {'Keel / floor':<52}{keel_wall / floor:8.2f} x")
    unpacks = [boot[2] for boot in figures["keel boot"] if boot[2]]
    if unpacks:
        entries, size, _ = unpacks[0]
        us = statistics.median(u[2] for u in unpacks)
        print(f"  {'Keel initramfs unpack into tmpfs':<52}{us / 1000:8.1f} ms   ({entries} entries, "
              f"{size / 1024:.0f} KiB: {size / us:.1f} MB/s)")


def print_loads(runs, loads, figures, assets):
    keel = medians(figures["keel loads"])
    print(f"insmod latency (median over {runs} boots of each boot's median of {loads} loads per module in up to "
          f"{modloads.KEEL_ROUNDS} rounds, in-kernel stage timings, microseconds)")
    print("  " + " " * 28 + " ".join(f"{stage:>8}" for stage in modloads.STAGES))
    for key, (_, _, kind) in modloads.KEEL_MODULES.items():
        label = f"{key.split()[0]} ({kind}, {kib(modloads.keel_size(key))})"
        print(f"  {label:<28}" + " ".join(f"{keel[key][stage]:8.0f}" for stage in modloads.STAGES))
    if not assets:
        print("  Linux: not measured (--peer none)")
        return
    linux = medians(figures["linux loads"])
    print(f"Linux {assets.release} ({assets.package} {assets.version}), kernel side: function_graph durations "
          f"(median over {runs} boots of each boot's median of {loads} loads, microseconds)")
    print(f"  {'':28}{'finit_module':>14}{'module_sig_check':>18}{'delete_module':>15}")
    for key, (_, signed) in modloads.LINUX_MODULES.items():
        label = f"{key.split()[0]} ({'signed' if signed else 'unsigned'}, {kib(linux[key]['size'])})"
        print(f"  {label:<28}{linux[key][modloads.LOAD]:14.0f}{linux[key][modloads.SIG_CHECK]:18.0f}"
              f"{linux[key][modloads.UNLOAD]:15.0f}")

    print(f"Keel against Linux, measured in this run (Linux's time over Keel's; {runs} boots each, interleaved)")
    print(f"  {'':52}{'Keel':>13}{'Linux':>14}  Linux/Keel")
    rows = (
        ("insmod unsigned", "hello unsigned", "total", "crc_itu_t unsigned", modloads.LOAD, INSMOD_TARGET),
        ("insmod signed", "hello", "total", "crc_itu_t", modloads.LOAD, INSMOD_TARGET),
        ("insmod signed", "provider", "total", "crc_itu_t", modloads.LOAD, INSMOD_TARGET),
        ("insmod signed", "big", "total", "fat", modloads.LOAD, INSMOD_TARGET),
        ("signature check", "provider", "verify", "crc_itu_t", modloads.SIG_CHECK, SIG_CHECK_TARGET),
        ("signature check", "big", "verify", "fat", modloads.SIG_CHECK, SIG_CHECK_TARGET),
        ("unload", "hello", "unload", "crc_itu_t", modloads.UNLOAD, None),
        ("unload", "big", "unload", "fat", modloads.UNLOAD, None),
    )
    for what, ours, stage, theirs, function, target in rows:
        label = f"{what}: {ours.split()[0]} {kib(modloads.keel_size(ours))} / {theirs.split()[0]} " \
                f"{kib(linux[theirs]['size'])}"
        print(side_by_side(label, keel[ours][stage], linux[theirs][function], "us", target))
    print_host_wait(figures)


def print_host_wait(figures):
    """How long QEMU waited for a host CPU in the load boots: guest clocks
    follow the host's, so a busy host inflates Linux's millisecond intervals
    far more than Keel's sub-millisecond ones (peer.host_wait_share)."""
    keel = median(loads.host_wait for loads in figures["keel loads"])
    linux = median(loads.host_wait for loads in figures["linux loads"])
    if keel is None or linux is None:
        return
    print(f"  host: QEMU waited for a CPU {keel:.0%} of its runnable time in Keel's load boots, {linux:.0%} in "
          f"Linux's ({os.cpu_count()} CPUs)")
    if max(keel, linux) > BUSY_HOST:
        print("  BUSY HOST: an interval longer than a host time slice (a few ms, as Linux's loads) grows with that "
              "wait,\n  a sub-millisecond one (Keel's) much less: these ratios flatter Keel. Run on an idle machine.")


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench")
    parser.add_argument("--arch", choices=("x86_64",), default="x86_64",
                        help="x86_64 here; scripts/bench --arch aarch64 runs scripts/bench-aarch64.py")
    parser.add_argument("--runs", type=int, default=7, help="boots per figure (at least 5)")
    parser.add_argument("--loads", type=int, default=100, help="insmod/rmmod cycles per module (at least 100)")
    parser.add_argument("--peer", choices=("linux", "none"), default="linux",
                        help="measure Debian's Linux cloud kernel beside Keel in the same run (default), or not")
    parser.add_argument("--insmod-only", action="store_true",
                        help="only the module loads (insmod, signature check and unload rows), nothing else")
    options = parser.parse_args()
    runs = max(5, options.runs)
    loads = options.loads

    def progress(message):
        print(message, file=sys.stderr, flush=True)

    try:
        assets = None
        if options.peer == "linux":
            assets = peer.LinuxAssets.fetch(log=progress)
            if assets.kernel_config("FUNCTION_GRAPH_TRACER") != "y":
                raise peer.PeerError(f"{assets.package} is built without CONFIG_FUNCTION_GRAPH_TRACER")
        figures = measure(runs, loads, assets, progress, boots=not options.insmod_only)
    except (peer.PeerError, machine.Timeout, OSError) as error:
        print(f"scripts/bench: FAILED, no figures printed: {error}", file=sys.stderr)
        if options.peer == "linux":
            print("scripts/bench: (--peer none measures Keel alone)", file=sys.stderr)
        return 1

    if options.insmod_only:
        print_loads(runs, loads, figures, assets)
        return 0
    print_boot(runs, figures, f"Linux {assets.release.split('-')[0]}" if assets else "")
    print_loads(runs, loads, figures, assets)
    lookups = kabi_lookups()
    if lookups:
        print("Export table lookups (host, core/lib/kabi)")
        for line in lookups.strip().splitlines():
            print("  " + line)
    crypto = crypto_figures()
    if crypto:
        print("Host crypto (core/lib/crypto built natively, same code as the kernel's)")
        for line in crypto.strip().splitlines():
            print("  " + line)
    # The VFS figures (issue 5): bench-vfs.py boots with its own 32 MiB archive.
    sys.stdout.flush()
    subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-vfs.py")])
    # The virtio disk figures (issue 13): their own boots, with the same disk on both kernels.
    sys.stdout.flush()
    subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-virtio.py"),
                    "--peer", options.peer])
    # The ext2 figures (issue 14): the same ext2 image on a virtio disk for both kernels.
    sys.stdout.flush()
    subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-ext2.py"),
                    "--peer", options.peer])
    # The network figures (issue 16): the same virtio-net card on the same user network for both kernels.
    sys.stdout.flush()
    subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-net.py"),
                    "--peer", options.peer])
    full = os.path.getsize(os.path.join(machine.BUILD, "core", "keel.elf"))
    stripped = os.path.getsize(machine.KERNEL)
    print("Image")
    print(f"  keel.elf (symbols, debug info)      {full / 1024:8.1f} KiB")
    print(f"  stripped (keel-boot.elf, booted)    {stripped / 1024:8.1f} KiB   (target: under 256 KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
