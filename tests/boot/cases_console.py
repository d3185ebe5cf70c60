"""Console scenarios: what a user can type, within and past the limits,
every command with any number of arguments, and the kernel alive with the
same free memory afterwards."""

import re

from harness import TEST_INITRAMFS, boot, case, check, free_pages, settled_free_pages

MAX_LINE = 256

# Words no command expects: huge numbers, formats, dots, lone dashes,
# empty and quoted words, a long word. Each list is one line's arguments.
ABSURD = [
    ["a" * 200],
    ["-1", "18446744073709551616", "-9223372036854775809", "0x", "1e9"],
    ["%s%n%p%x", "%%", "\\"],
    ['""', "--", "-", "---x", "-l-l"],
    ["..", "../../../..", "/", "//", "/.", "./."],
    ["=", "=x", "x=", "==", "x=y=z"],
]
# These end the machine with no arguments; with any they must refuse.
ENDS_THE_MACHINE = {"poweroff", "reboot"}


def command_names(vm):
    names = re.findall(r"^  (\S+) ", vm.command_output("help"), re.M)
    check(len(names) > 30, f"help lists only {names}", vm)
    return names


def type_every_command(vm, names):
    """Every command with 0, 1, 100 and absurd arguments, in a scratch
    tmpfs that is unmounted afterwards; returns the outputs."""
    vm.command_output("mkdir /scratch")
    out = vm.command_output("mount -t tmpfs -o size=1m scratch /scratch")
    check(out.strip() == "", f"mount the scratch tmpfs: {out}", vm)
    outputs = {}
    for name in names:
        argument_lists = [["x"], ["x"] * 100] + ABSURD
        if name not in ENDS_THE_MACHINE:
            argument_lists.insert(0, [])
        for arguments in argument_lists:
            line = " ".join([name] + arguments)
            check(len(line) <= MAX_LINE, f"the test's own line is too long: {line[:40]}...")
            vm.command_output("cd /scratch")
            outputs[line] = vm.command_output(line, timeout=60)
            check("Kernel panic" not in vm.output, f"'{line[:60]}' panicked", vm)
    vm.command_output("cd /")
    out = vm.command_output("umount -l /scratch")
    check(out.strip() == "", f"umount the scratch tmpfs: {out}", vm)
    return outputs


@case
def console_every_command_any_arguments():
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        names = command_names(vm)
        # The first round leaves what is made once (the console's VFS
        # context, page tables for thread stacks); the second must not
        # change free memory at all.
        type_every_command(vm, names)
        settled = free_pages(vm)
        outputs = type_every_command(vm, names)
        check(free_pages(vm) == settled, f"free pages {settled} -> {free_pages(vm)}: a command leaked", vm)
        for line, out in outputs.items():
            check("command not found" not in out, f"'{line[:60]}': {out[:200]}", vm)
        for name in ("mem", "threads", "uptime", "pwd", "reboot", "poweroff"):
            out = outputs[f"{name} x"]
            if name in ("poweroff",):
                check("exit code must be 0..127" in out, f"{name} x: {out}", vm)
            else:
                check(out.strip() == f"{name}: takes no arguments", f"{name} x: {out}", vm)
        # Still alive and well.
        check(vm.command_output("uptime").startswith("up "), "uptime after the storm", vm)
        check(re.search(r"^\s+\d+ monitor\s+running", vm.command_output("threads"), re.M), "no monitor thread", vm)


@case
def console_limits_refuse_whole_lines():
    with boot("panic=-1") as vm:
        baseline = settled_free_pages(vm)
        # More than the 32 words the console once had room for: ls got 34,
        # help 60, a module's parameters 33. All ran into a panic.
        out = vm.command_output("ls " + " ".join(["a"] * 34))
        check(out.count("cannot access 'a'") == 34, f"ls with 34 words: {out[:300]}", vm)
        out = vm.command_output("help " + " ".join(["ls"] * 60))
        check(out.startswith("ls [-l] [PATH...]"), f"help with 60 words: {out[:300]}", vm)
        out = vm.command_output("insmod hello " + " ".join(["shout"] * 33))
        check("HELLO, world!" in out, f"insmod hello with 33 shout words: {out[:300]}", vm)
        vm.command_output("rmmod hello")
        # 128 words fill a line (the most a line can hold).
        out = vm.command_output("ls " + " ".join(["b"] * 126))
        check(out.count("cannot access 'b'") == 126, "ls with 126 words", vm)
        # Past 256 bytes a line is refused whole: it once ran cut, 40
        # offset= parameters as "offset=1 ... of".
        out = vm.command_output("insmod params " + " ".join(["offset=1"] * 40))
        check(out.strip().endswith("console: line longer than 256 bytes; nothing run"), f"long line: {out}", vm)
        check("params:" not in out and "unknown parameter" not in out, f"the cut line ran: {out}", vm)
        check("params" not in vm.command_output("lsmod"), "the cut line loaded params", vm)
        out = vm.command_output("ls " + "y" * 300)
        check(out.strip().endswith("console: line longer than 256 bytes; nothing run"), f"long word: {out}", vm)
        check(free_pages(vm) == baseline, "the refused lines leaked memory", vm)
