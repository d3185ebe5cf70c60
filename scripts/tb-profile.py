#!/usr/bin/env python3
"""Where a boot's translation goes: QEMU's TCG translates each block of guest
code the first time it runs, and under TCG that translation is most of a
boot's time (docs/performance.md, "Issue 12: the boot, where its time
went"). This boots the kernel to its prompt with QEMU's `-d in_asm` log,
attributes every translated block to the kernel's source (by the symbolizer
on the kernel's debug information) and prints the blocks and guest
instructions translated per source directory and per function.

QEMU is stopped as soon as the prompt is seen; what the guest runs in
those few milliseconds (the autoload index starts beside the console) is
counted too, so two runs differ by a few hundred blocks.

Blocks outside the kernel image are the firmware's (SeaBIOS and its PVH
option ROM on x86_64, which QEMU's floor runs too) or a module's (loaded at
run time, in the vmalloc area).

  scripts/tb-profile.py [--build DIR] [--arch ARCH] [--cmdline TEXT] [--top N] [--depth N]
"""

import argparse
import bisect
import collections
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import machine  # noqa: E402
from keel.guest_profile import demangled, kernel_code, translated_blocks  # noqa: E402


def source_files(elf, addresses):
    """{address: source file} by the debug information (the file of each
    function's first instruction, relative paths made absolute)."""
    if not addresses:
        return {}
    text = "\n".join(f"{address:#x}" for address in addresses) + "\n"
    output = subprocess.run(["llvm-symbolizer", "--obj", elf, "--no-inlines", "--output-style=GNU"], input=text,
                            capture_output=True, text=True, check=True).stdout
    # Two lines an address: the function, then file:line.
    lines = [line for line in output.splitlines() if line.strip()]
    build = os.path.dirname(os.path.dirname(elf))
    return {address: os.path.normpath(os.path.join(build, where.rsplit(":", 1)[0]))
            for address, where in zip(addresses, lines[1::2])}


def source_group(path, depth):
    """core/lib/crypto/blake2b.cpp -> core/lib/crypto (depth 3)."""
    root = machine.ROOT + os.sep
    if path.startswith(root):
        path = path[len(root):]
    elif path.startswith("/"):
        return "(outside the tree: " + os.path.dirname(path) + ")"
    parts = path.split("/")[:-1]
    return "/".join(parts[:depth]) or path


def boot_log(args, log_path):
    build = args.build or machine.build_dir(args.arch)
    kernel = machine.kernel_path(build, args.arch)
    initrd = os.path.join(build, "initramfs", "initramfs.cpio")
    extra = ["-d", "in_asm", "-D", log_path]
    with machine.Machine(cmdline=args.cmdline, initrd=initrd, kernel=kernel, arch=args.arch, extra=extra,
                         qmp=True) as vm:
        vm.expect(machine.PROMPT, 120)
        # Stopped at once: what runs after the prompt (the autoload index)
        # is not the boot's.
        vm.qmp("stop")
    return os.path.join(build, "core", "keel.elf")


def report(blocks, elf_path, top, depth):
    functions_sorted, ranges = kernel_code(elf_path)
    starts = [address for address, _ in functions_sorted]

    def function_of(address):
        index = bisect.bisect_right(starts, address) - 1
        return functions_sorted[index] if index >= 0 else (address, "?")

    inside = {address for address, _ in blocks if any(start <= address < end for start, end in ranges)}
    functions_at = {address: function_of(address) for address in inside}
    files = source_files(elf_path, sorted({start for start, _ in functions_at.values()}))
    groups = collections.defaultdict(lambda: [0, 0])
    functions = collections.defaultdict(lambda: [0, 0])
    for address, count in blocks:
        if address in functions_at:
            start, function = functions_at[address]
            group = source_group(files.get(start, "?"), depth)
        elif address >= 1 << 63:
            function = group = "(modules, loaded at run time)"
        else:
            function = group = "(firmware)"
        for table, key in ((groups, group), (functions, function)):
            table[key][0] += 1
            table[key][1] += count
    total_blocks = len(blocks)
    total_instructions = sum(count for _, count in blocks)
    print(f"{total_blocks} blocks, {total_instructions} guest instructions translated to the prompt")
    print(f"\n{'blocks':>7} {'instructions':>12}  source")
    for name, (count, instructions) in sorted(groups.items(), key=lambda item: -item[1][1]):
        print(f"{count:7d} {instructions:12d}  {name}")
    print(f"\n{'blocks':>7} {'instructions':>12}  function (the {top} with most)")
    most = sorted(functions.items(), key=lambda item: -item[1][1])[:top]
    for (_, (count, instructions)), name in zip(most, demangled([name for name, _ in most])):
        print(f"{count:7d} {instructions:12d}  {name[:110]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", help="the build directory (default: the architecture's)")
    parser.add_argument("--arch", default=machine.ARCH, choices=sorted(machine.MACHINES))
    parser.add_argument("--cmdline", default="loglevel=4", help="the kernel's command line (scripts/bench's)")
    parser.add_argument("--top", type=int, default=30, help="how many functions to list")
    parser.add_argument("--depth", type=int, default=3, help="how many directory levels a source group has")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="keel-tb-") as scratch:
        log_path = os.path.join(scratch, "in_asm.log")
        elf = boot_log(args, log_path)
        report(translated_blocks(log_path), elf, args.top, args.depth)


if __name__ == "__main__":
    main()
