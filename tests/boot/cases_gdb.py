"""Debugging scenario: QEMU waits for GDB (scripts/run --gdb), scripts/gdb
attaches, and a breakpoint in a module that is not loaded yet is hit at the
right source line once `insmod` loads it: the module's symbols were added at
its load address without anyone typing add-symbol-file (docs/debugging.md)."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from harness import BUILD, PROMPT, Machine, case, check
from keel.machine import ROOT, Timeout

BOOT_TIMEOUT = 120      # gdb runs the kernel to kernel_main first, all under TCG
STOP_TIMEOUT = 60       # a console command that GDB stops and resumes
GDB_EXIT_TIMEOUT = 60
HELLO_SOURCE = os.path.join(ROOT, "modules", "hello", "hello.c")

# Each stop prints one KEEL-STOP line: where GDB is and what owns $pc. A
# breakpoint is deleted once hit: under TCG the same breakpoint is now and
# then reported twice in a row, which must not shift the sequence.
GDB_COMMANDS = r"""
python
def keel_report(tag):
    frame = gdb.selected_frame()
    sal = frame.find_sal()
    owner = gdb.execute("info symbol $pc", to_string=True).strip()
    source = sal.symtab.filename if sal.symtab else "?"
    print(f"KEEL-STOP {tag} function={frame.name()} file={source} line={sal.line} pc=0x{frame.pc():x} owner={owner}")
end
break hello.c:keel_module_init
continue
python keel_report("init")
delete
break hello.c:keel_module_exit
continue
python keel_report("exit")
delete
echo KEEL-MODULES before-unload\n
keel-modules
tbreak keel_gdb_modules_changed
continue
echo KEEL-MODULES after-unload\n
keel-modules
echo KEEL-END\n
keel-modules-path {elsewhere}
break hello.c:keel_module_init
continue
python keel_report("init-renamed")
delete
tbreak keel_gdb_modules_changed
continue
echo KEEL-MODULES elsewhere\n
keel-modules
echo KEEL-END\n
delete
detach
"""


def free_port():
    # Another test may take it before QEMU does; then QEMU fails at once
    # and the test says so.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def function_lines(path, signature):
    """The line numbers of the function whose definition starts with signature."""
    with open(path) as source:
        lines = source.read().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(signature)) + 1
    last = next(i for i in range(first, len(lines)) if lines[i].startswith("}")) + 1
    return range(first, last + 1)


def stop(output, tag):
    match = re.search(rf"^KEEL-STOP {re.escape(tag)} function=(\S+) file=(\S+) line=(\d+) pc=0x([0-9a-f]+) "
                      rf"owner=(.*)$", output, re.M)
    return match and {"function": match[1], "file": match[2], "line": int(match[3]), "pc": int(match[4], 16),
                      "owner": match[5]}


def section(output, tag):
    match = re.search(rf"^KEEL-MODULES {re.escape(tag)}\n(.*?)^KEEL-", output, re.M | re.S)
    return match[1] if match else ""


@case
def gdb_adds_module_symbols_as_modules_load():
    gdb = shutil.which("gdb")
    check(gdb, "gdb is not installed (scripts/lib.sh lists it in KEEL_PACKAGES)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="keel-gdb-test-") as work, Machine(gdb_port=port) as vm:
        # A directory where hello has another file name (found by its
        # modinfo name) and hello_rs is missing (read out of the guest).
        elsewhere = os.path.join(work, "elsewhere")
        os.mkdir(elsewhere)
        renamed = os.path.join(elsewhere, "vendor-hello-1.0.kmod")
        shutil.copy(os.path.join(BUILD, "modules", "hello.kmod"), renamed)
        # The module ships stripped; its debug information sits beside it.
        shutil.copy(os.path.join(BUILD, "modules", "hello.kmod.debug"), renamed + ".debug")
        commands = os.path.join(work, "commands.gdb")
        with open(commands, "w") as file:
            file.write(GDB_COMMANDS.replace("{elsewhere}", elsewhere))
        log_path = os.path.join(work, "gdb.log")
        with open(log_path, "w") as log:
            debugger = subprocess.Popen(
                [os.path.join(ROOT, "scripts", "gdb"), "--port", str(port), "--kernel",
                 os.path.join(BUILD, "core", "keel.elf"), "--", "-nx", "-batch", "-x", commands],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=dict(os.environ, KEEL_BUILD=BUILD), start_new_session=True)

        def gdb_output():
            with open(log_path, errors="replace") as file:
                return file.read()

        def expect_gdb(pattern, what):
            deadline = time.monotonic() + STOP_TIMEOUT
            while time.monotonic() < deadline:
                if re.search(pattern, gdb_output(), re.M):
                    return
                if debugger.poll() is not None:
                    break
                time.sleep(0.2)
            check(False, f"gdb did not {what}; its output:\n{gdb_output()}", vm)

        try:
            try:
                vm.expect(PROMPT, BOOT_TIMEOUT)
            except Timeout as error:
                check(False, f"no prompt with gdb attached ({str(error).splitlines()[0]}); gdb said:\n"
                             f"{gdb_output()}", vm)
            check("running it to kernel_main" in gdb_output(),
                  f"gdb did not find the CPU held before the kernel: {gdb_output()}", vm)

            loaded = vm.command_output("insmod hello", STOP_TIMEOUT)
            expect_gdb(r"^KEEL-STOP init ", "stop in hello's init")
            base = re.search(r"hello: loaded at 0x([0-9a-f]+) \((\d+) KiB\)", loaded)
            check(base, f"insmod hello: {loaded}", vm)
            hello_base, hello_span = int(base[1], 16), int(base[2]) * 1024

            out = vm.command_output("insmod hello_cpp", STOP_TIMEOUT)
            check("hello_cpp: loaded at" in out, f"insmod hello_cpp: {out}", vm)
            out = vm.command_output("rmmod hello", STOP_TIMEOUT)
            check("hello: unloaded" in out, f"rmmod hello: {out}", vm)
            expect_gdb(r"^KEEL-END", "list the modules after hello went")

            # GDB now searches `elsewhere` only.
            loaded = vm.command_output("insmod hello", STOP_TIMEOUT)
            expect_gdb(r"^KEEL-STOP init-renamed ", "stop in hello's init from the renamed file")
            base = re.search(r"hello: loaded at 0x([0-9a-f]+)", loaded)
            check(base, f"insmod hello (again): {loaded}", vm)
            second_base = int(base[1], 16)
            out = vm.command_output("insmod hello_rs", STOP_TIMEOUT)
            check("hello_rs: loaded at" in out, f"insmod hello_rs: {out}", vm)

            try:
                debugger.wait(GDB_EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                check(False, f"gdb did not finish; its output:\n{gdb_output()}", vm)
            output = gdb_output()
            # Detached: the kernel runs on by itself.
            out = vm.command_output("lsmod", STOP_TIMEOUT)
            check(re.search(r"^hello ", out, re.M), f"lsmod after gdb detached: {out}", vm)
            vm.send("poweroff 0")
            check(vm.wait_exit(30) == 0, "the kernel did not power off after gdb detached", vm)
        finally:
            if debugger.poll() is None:
                os.killpg(debugger.pid, 9)
                debugger.wait()

    def check_gdb(condition, message):
        check(condition, f"{message}\n--- gdb ---\n{output}")

    hello_init = function_lines(HELLO_SOURCE, "static int hello_init")
    hello_kmod = os.path.join(BUILD, "modules", "hello.kmod")
    for tag, module_base in (("init", hello_base), ("init-renamed", second_base)):
        where = stop(output, tag)
        check_gdb(where, f"no '{tag}' stop in gdb's output")
        check_gdb(where["file"].endswith("modules/hello/hello.c") and where["line"] in hello_init,
                  f"{tag}: gdb stopped at {where['file']}:{where['line']}, not in hello_init "
                  f"(hello.c:{hello_init.start}-{hello_init.stop - 1})")
        check_gdb(where["function"] in ("hello_init", "keel_module_init"),
                  f"{tag}: gdb stopped in {where['function']}")
        check_gdb(module_base <= where["pc"] < module_base + hello_span,
                  f"{tag}: pc 0x{where['pc']:x} is outside hello at 0x{module_base:x}")
    # The symbols come from the debug image beside each shipped module.
    for tag, path in (("init", hello_kmod + ".debug"), ("init-renamed", renamed + ".debug")):
        check_gdb(stop(output, tag)["owner"].endswith(f"of {path}"),
                  f"{tag}: $pc is not attributed to {path}: {stop(output, tag)['owner']}")

    exit_stop = stop(output, "exit")
    check_gdb(exit_stop and exit_stop["file"].endswith("modules/hello/hello.c"),
              "rmmod hello did not stop in hello's exit")

    # Modules listed with their load addresses and symbol files.
    before = section(output, "before-unload")
    check_gdb(re.search(rf"^hello +0x{hello_base:016x} .*/modules/hello\.kmod\.debug$", before, re.M),
              f"keel-modules before rmmod does not show hello at 0x{hello_base:x}:\n{before}")
    check_gdb(re.search(r"^hello_cpp +0x[0-9a-f]{16} +\d+ .*/modules/hello_cpp\.kmod\.debug$", before, re.M),
              f"keel-modules does not list hello_cpp:\n{before}")
    check_gdb(re.search(r"^tmpfs ", before, re.M), f"the boot module tmpfs has no symbols:\n{before}")
    after = section(output, "after-unload")
    check_gdb(not re.search(r"^hello ", after, re.M) and re.search(r"^hello_cpp ", after, re.M),
              f"hello's symbols were not removed (or hello_cpp's were):\n{after}")
    last = section(output, "elsewhere")
    check_gdb(re.search(rf"^hello +0x{second_base:016x} +\d+ {re.escape(renamed)}\.debug$", last, re.M),
              f"the second hello is not listed with {renamed}:\n{last}")
    check_gdb(re.search(r"^hello_rs +0x[0-9a-f]{16} +\d+ \S+ \(copied from the guest\)$", last, re.M),
              f"hello_rs (in no directory) is not listed as a copy from the guest:\n{last}")
