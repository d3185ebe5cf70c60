#!/usr/bin/env python3
"""Where a console command's guest instructions go: boots the kernel with
QEMU's `-d in_asm,nochain` log (each block's instructions as QEMU
translates it; `nochain` sends every entry of a block through QEMU's
loop), turns the `exec` log on through the monitor for exactly the
command, and attributes every block entered to the function it lies in:
the kernel's by its symbol table, a module's by its `.kmod.debug` placed
where `lsmod` says the module was loaded. Prints the instructions
executed in all and per function, most first.

It counts instructions, not time: under TCG a block's cost is roughly its
instruction count plus a fixed cost per entry, and memory accesses cost
most (docs/performance.md, "Issue 16, the send path", shows what it
found). The log slows the guest a hundredfold, so the command should be
short; `--warm` runs one first so that what is measured is steady state
(a module loaded again, a path already taken).

  scripts/exec-profile.py [--build DIR] [--arch ARCH] [--test-initramfs] [--warm COMMAND] [--top N] COMMAND

For example:
  scripts/exec-profile.py --test-initramfs --warm "modtest cycles 5 /lib/test/hello-unsigned.kmod" \\
      "modtest cycles 20 /lib/test/hello-unsigned.kmod"
"""

import argparse
import bisect
import collections
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import machine  # noqa: E402
from keel.guest_profile import code_symbols, demangled, executed_instructions, kernel_code  # noqa: E402


def module_symbols(build, lsmod):
    """The loaded modules' symbols at their load addresses, from `lsmod`'s
    /proc/modules columns (name size refcount users state address)."""
    symbols = []
    for line in lsmod.splitlines():
        fields = line.split()
        if len(fields) < 6 or not fields[5].startswith("0x"):
            continue
        debug = os.path.join(build, "modules", fields[0] + ".kmod.debug")
        if os.path.exists(debug):
            base = int(fields[5], 16)
            symbols += [(address, f"{fields[0]}: {name}") for address, name in code_symbols(debug, base)]
    return symbols


def profile(args, log_path):
    """Runs the command with the exec log on; returns (what it printed, lsmod)."""
    build = args.build or machine.build_dir(args.arch)
    initrd = os.path.join(build, "tests", "modules", "test-initramfs.cpio") if args.test_initramfs \
        else os.path.join(build, "initramfs", "initramfs.cpio")
    with machine.Machine(cmdline="loglevel=4", initrd=initrd, kernel=machine.kernel_path(build, args.arch),
                         arch=args.arch, memory="512M", extra=["-d", "in_asm,nochain", "-D", log_path],
                         qmp=True) as vm:
        vm.expect(machine.PROMPT, 300)
        vm.command_output("dmesg", 60)  # as scripts/bench's boots: the autoload index is built meanwhile
        if args.warm:
            vm.command_output(args.warm, 600)
        vm.qmp("human-monitor-command", **{"command-line": "log in_asm,nochain,exec"})
        output = vm.command_output(args.command, 600)
        vm.qmp("human-monitor-command", **{"command-line": "log in_asm,nochain"})
        return output, vm.command_output("lsmod", 60)


def report(executed, symbols, top):
    starts = [address for address, _ in symbols]
    functions = collections.Counter()
    for address, instructions in executed.items():
        index = bisect.bisect_right(starts, address) - 1
        name = symbols[index][1] if index >= 0 else "(below every symbol: firmware)"
        functions[name] += instructions
    total = sum(functions.values())
    print(f"{total} guest instructions executed")
    most = functions.most_common(top)
    names = demangled([name.split(": ", 1)[-1] for name, _ in most])
    print(f"\n{'instructions':>12} {'share':>6}  function (the {top} with most)")
    for (name, instructions), readable in zip(most, names):
        module = name.split(": ", 1)[0] + ": " if ": " in name else ""
        print(f"{instructions:12d} {instructions * 100 / total:5.1f}%  {module}{readable[:100]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", help="the console command to profile")
    parser.add_argument("--build", help="the build directory (default: the architecture's)")
    parser.add_argument("--arch", default=machine.ARCH, choices=sorted(machine.MACHINES))
    parser.add_argument("--test-initramfs", action="store_true",
                        help="boot the tests' initramfs (the test modules under /lib/test)")
    parser.add_argument("--warm", help="a command run first, not measured")
    parser.add_argument("--top", type=int, default=40, help="how many functions to list")
    args = parser.parse_args()
    build = args.build or machine.build_dir(args.arch)
    with tempfile.TemporaryDirectory(prefix="keel-exec-") as scratch:
        log_path = os.path.join(scratch, "exec.log")
        output, lsmod = profile(args, log_path)
        print(output.rstrip())
        kernel, _ = kernel_code(os.path.join(build, "core", "keel.elf"))
        symbols = sorted(kernel + module_symbols(build, lsmod))
        report(executed_instructions(log_path), symbols, args.top)


if __name__ == "__main__":
    main()
