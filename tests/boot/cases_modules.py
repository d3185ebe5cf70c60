"""Module loader scenarios: insmod/rmmod/lsmod/modinfo of the in-tree C, C++
and Rust modules, parameters, dependencies, refusals and rollback."""

import re

from cases_devices import wait_log
from harness import (ALL_ARCHES, ARCH, MACHINE_MODULES, TEST_INITRAMFS, boot, case, check, free_pages, refcount,
                     settled_free_pages)


def boot_modules(cmdline="panic=-1"):
    return boot(cmdline, initrd=TEST_INITRAMFS)


def insmod(vm, arguments, timeout=60):
    return vm.command_output("insmod " + arguments, timeout)


def refused(vm, arguments, *words):
    out = insmod(vm, arguments)
    check("insmod: ERROR: could not insert" in out, f"insmod {arguments} was not refused: {out}", vm)
    for word in words:
        check(word in out, f"insmod {arguments}: the refusal does not say '{word}': {out}", vm)
    return out


# Loaded at every boot for the root filesystem (docs/vfs.md).
BOOT_MODULES = {"tmpfs", "nullfs"}


def lsmod_names(vm):
    """Modules in lsmod order, without the root filesystem's and those the
    machine's own hardware autoloads."""
    lines = vm.command_output("lsmod").splitlines()
    matches = (re.match(r"(\w+) \d+ \d+ \S+ (?:Live|Loading|Unloading) ", line) for line in lines)
    names = [m.group(1) for m in matches if m]
    return [name for name in names if name not in BOOT_MODULES and name not in MACHINE_MODULES[ARCH]]


@case(arches=ALL_ARCHES)
def modules_in_c_cpp_and_rust_load_and_unload():
    with boot_modules() as vm:
        baseline = settled_free_pages(vm)  # autoload's thread gives pages back beside the console
        out = insmod(vm, "hello")
        check("hello, world (mask 0)" in out and "hello: loaded at" in out, f"hello: {out}", vm)
        out = insmod(vm, "hello_cpp")
        check("constructor ran, thread said 7, 1 greeting(s)" in out, f"hello_cpp (C++): {out}", vm)
        out = insmod(vm, "hello_rs count=4")
        check("the first 4 squares add up to 30" in out, f"hello_rs: {out}", vm)
        check(lsmod_names(vm) == ["hello", "hello_cpp", "hello_rs"], "lsmod does not list the three modules", vm)
        lsmod = vm.command_output("lsmod")
        line = re.search(r"^hello (\d+) 0 - Live 0x(ffffc9[0-9a-f]{10})$", lsmod, re.M)
        check(line, f"lsmod line for hello is not in /proc/modules form: {lsmod}", vm)
        check("kernel: Not tainted" in lsmod, "signed in-tree modules tainted the kernel", vm)
        out = vm.command_output("rmmod hello_cpp")
        check("hello_cpp: exit" in out and "static destructor ran" in out and "unloaded" in out,
              f"hello_cpp's exit and static destructor: {out}", vm)
        for name in ("hello", "hello_rs"):
            out = vm.command_output("rmmod " + name)
            check(f"{name}: unloaded" in out, f"rmmod {name}: {out}", vm)
        check(lsmod_names(vm) == [], "modules left after rmmod", vm)
        # Load and unload again: nothing may leak (thousand_load_unload_cycles
        # does this 1,000 times inside the kernel).
        for _ in range(3):
            insmod(vm, "hello")
            insmod(vm, "hello_cpp")
            vm.command_output("rmmod hello_cpp")
            vm.command_output("rmmod hello")
        check(free_pages(vm) == baseline, f"insmod/rmmod cycles lost {baseline - free_pages(vm)} pages", vm)


@case(arches=ALL_ARCHES)
def modules_load_at_boot():
    with boot_modules("panic=-1 modules_load=hello,nosuch,consumer") as vm:
        check("hello, world" in vm.output and "consumer: provider_add(40, 2) = 42" in vm.output,
              "modules_load= did not load hello and consumer", vm)
        check("modules_load: nosuch: no nosuch.kmod in /lib/modules or /lib/vendor" in vm.output,
              "the failure is not logged", vm)
        check(lsmod_names(vm) == ["hello", "provider", "consumer"], "lsmod after modules_load=", vm)


@case(arches=ALL_ARCHES)
def module_parameters_are_typed():
    with boot_modules() as vm:
        out = insmod(vm, 'hello repeat=2 shout=1 mask=0x10 who="big world"')
        check(out.count("HELLO, big world! (mask 16)") == 2, f"parameters not applied: {out}", vm)
        vm.command_output("rmmod hello")
        refused(vm, "hello repeat=many", "invalid value 'many' for parameter repeat (int)", "EINVAL")
        refused(vm, "hello mask=-1", "parameter mask (uint)", "EINVAL")
        refused(vm, "hello shout=maybe", "parameter shout (bool)", "EINVAL")
        refused(vm, "hello who=" + "x" * 40, "longer than the module's buffer", "EINVAL")
        refused(vm, "hello volume=11", "unknown parameter 'volume'", "ENOENT")
        check(lsmod_names(vm) == [], "a refused module stayed loaded", vm)


@case(arches=ALL_ARCHES)
def params_module_and_failinit_rollback():
    with boot_modules() as vm:
        out = insmod(vm, 'params enabled=on offset=-42 count=0x10 label="a b"')
        check("params: enabled=1 offset=-42 count=16 label=a b" in out, f"params: {out}", vm)
        vm.command_output("rmmod params")
        out = insmod(vm, "params")
        check("params: enabled=0 offset=-5 count=3 label=default" in out, f"defaults: {out}", vm)
        vm.command_output("rmmod params")
        refused(vm, "params count=-1", "parameter count (uint)", "EINVAL")
        refused(vm, "params label=" + "y" * 24, "longer than the module's buffer")
        # failinit takes a reference on provider, then fails: the loader
        # releases the reference and leaves nothing behind.
        baseline = free_pages(vm)
        insmod(vm, "provider")
        out = refused(vm, "failinit", "keel_module_init failed with -19", "ENODEV")
        check("failinit: releasing 1 reference(s) it still held on provider" in out, f"held reference: {out}", vm)
        check(lsmod_names(vm) == ["provider"], "failinit left a registry entry", vm)
        out = vm.command_output("rmmod provider")
        check("provider: unloaded" in out, f"provider still referenced after failinit: {out}", vm)
        refused(vm, "failinit error=-12", "keel_module_init failed with -12", "ENOMEM")
        # A filesystem type left registered by the failing init is dropped.
        # The parameter is written with '-', which names the same one.
        out = refused(vm, "failinit register-fs=1", "keel_module_init failed with -19")
        check("failinit: removing filesystem type failfs it left registered" in out, f"failfs: {out}", vm)
        check("failfs" not in vm.command_output("filesystems"), "failfs is still registered", vm)
        out = vm.command_output("mount -t failfs none /tmp")
        check("unknown filesystem type 'failfs' (ENODEV)" in out, f"mounting the dropped type: {out}", vm)
        # So is a socket family: udp, which registers the same pair, loads.
        out = refused(vm, "failinit register_family=1", "keel_module_init failed with -19")
        check("failinit: removing socket family failnet it left registered" in out, f"failnet: {out}", vm)
        insmod(vm, "udp")
        vm.command_output("rmmod udp")
        # Tables on a module's heap would be no module's (never pinned,
        # never swept): refused, naming the module.
        out = refused(vm, "failinit heap_tables=1", "keel_module_init failed with -19")
        check("failinit: tables on the heap: filesystem type -22, socket family -22" in out
              and "failinit: filesystem type refused: its table" in out
              and "failinit: socket family refused: its table" in out, f"heap tables: {out}", vm)
        check("failfs" not in vm.command_output("filesystems"), "failfs registered from the heap", vm)
        vm.command_output("rmmod inet")
        check(free_pages(vm) == baseline, "failed loads leaked pages", vm)


@case(arches=ALL_ARCHES)
def thousand_load_unload_cycles_leak_nothing():
    with boot_modules() as vm:
        for name, count in (("hello", 1000), ("hello_cpp", 100), ("consumer", 100)):
            out = vm.command_output(f"modtest cycles {count} {name}", timeout=240)
            check(re.search(rf"modtest: {count} cycles of {name} in \d+ us .*: free pages (\d+) -> \1, heap bytes "
                            r"(\d+) -> \2: PASS", out), f"{name}: {out}", vm)
        # rmmod (unlike modprobe -r) leaves the dependency consumer brought in.
        check(lsmod_names(vm) == ["provider"], "modules left after the cycles", vm)


@case(arches=ALL_ARCHES)
def big_module_runs_every_relocated_function():
    # 1,000 functions reached through 1,000 R_X86_64_RELATIVE pointers: each
    # returns 2n + 1 for n = 100..1099, so the sum proves every one landed.
    with boot_modules() as vm:
        baseline = settled_free_pages(vm)
        out = insmod(vm, "/lib/test/big.kmod check=1")
        check("big: 1000 functions, checksum 1200000" in out, f"big: {out}", vm)
        vm.command_output("rmmod big")
        check(free_pages(vm) == baseline, "big left pages behind", vm)


@case(arches=ALL_ARCHES)
def modinfo_shows_metadata_signature_and_imports():
    with boot_modules() as vm:
        out = vm.command_output("modinfo hello")
        for expected in ["filename:       /lib/modules/hello.kmod", "name:           hello",
                         "license:        MIT", "description:    Says hello, in C",
                         "parm:           repeat:how many greetings (int)",
                         "parm:           who:whom to greet (string)",
                         "signature:      valid", "signer:         build signing key",
                         "requires:       KABI_CORE_1.0"]:
            check(expected in out, f"modinfo lacks '{expected}': {out}", vm)
        check(re.search(r"import:\s+keel_logf@KABI_CORE_1.0 0x[0-9a-f]{16}", out), f"imports with hashes: {out}", vm)
        out = vm.command_output("modinfo /lib/test/hello-unsigned.kmod")
        check("signature:      unsigned" in out, f"unsigned module's modinfo: {out}", vm)
        out = vm.command_output("modinfo nosuchmodule")
        check("modinfo: ERROR: nosuchmodule: no nosuchmodule.kmod in /lib/modules or /lib/vendor" in out, out, vm)


@case(arches=ALL_ARCHES)
def dependencies_load_first_and_pin():
    with boot_modules() as vm:
        out = insmod(vm, "consumer")
        check(out.find("provider: loaded") < out.find("consumer: provider_add(40, 2) = 42"),
              f"provider was not loaded before consumer: {out}", vm)
        lsmod = vm.command_output("lsmod")
        check(re.search(r"^provider \d+ 1 consumer, Live", lsmod, re.M), f"provider's users: {lsmod}", vm)
        out = vm.command_output("rmmod provider")
        check("in use by consumer" in out and "EBUSY" in out, f"rmmod provider while used: {out}", vm)
        vm.command_output("rmmod consumer")
        out = vm.command_output("rmmod provider")
        check("provider: 1 call(s)" in out and "provider: unloaded" in out, f"rmmod provider: {out}", vm)
        # A failed load unloads the dependencies it loaded itself.
        out = refused(vm, "consumer fail=1", "keel_module_init failed with -19")
        check("provider: unloaded" in out, f"provider stayed after consumer failed: {out}", vm)
        check(lsmod_names(vm) == [], "the failed load left modules behind", vm)
        refused(vm, "cycle_a", "dependency cycle", "ELOOP")
        check(lsmod_names(vm) == [], "the refused cycle left modules behind", vm)
        # modprobe -a: each in turn, one already loaded (here by the
        # first's DT_NEEDED) skipped; the first failure stops the rest.
        out = vm.command_output("modprobe -a consumer provider hello")
        check("modprobe: ERROR" not in out and lsmod_names(vm) == ["provider", "consumer", "hello"],
              f"modprobe -a consumer provider hello: {out}\n{lsmod_names(vm)}", vm)
        out = vm.command_output("modprobe -a hello_cpp nosuch hello_rs")
        check("modprobe: ERROR" in out and "nosuch" in out and "ENOENT" in out,
              f"modprobe -a with a missing module: {out}", vm)
        check(lsmod_names(vm) == ["provider", "consumer", "hello", "hello_cpp"],
              f"modprobe -a went on past the failure: {lsmod_names(vm)}", vm)
        check("usage: modprobe" in vm.command_output("modprobe -a"), "modprobe -a without names", vm)
        for name in ("hello_cpp", "hello", "consumer", "provider"):
            vm.command_output("rmmod " + name)
        check(lsmod_names(vm) == [], "modules left after modprobe -a", vm)


def unload_peer_and_test(vm):
    """rmmod lifecycle_peer, then lifecycle_test (by its file's name): each
    goes, with no reference left held."""
    for name in ("lifecycle_peer", "lifecycle-test"):
        out = vm.command_output("rmmod " + name)
        check("still held" not in out and f"{name.replace('-', '_')}: unloaded" in out, f"rmmod {name}: {out}", vm)


@case
def module_lifecycle_bookkeeping():
    """tests/modules/lifecycle_test.c: autoload loads the file it indexed
    (lifecycle-test.kmod, module lifecycle_test); a failed init takes out
    its dependency's dependency too; a driver left registered is unbound
    before the module's destructors run; a put of a reference never taken
    takes none from another holder."""
    with boot("panic=-1", initrd=TEST_INITRAMFS, devices=["pvpanic-pci"]) as vm:
        wait_log(vm, r"autoload: \S+ pci:v00001B36d00000011\S*: loaded lifecycle_test")
        wait_log(vm, r"lifecycle_test: \S+: bound")
        check(lsmod_names(vm) == ["provider", "consumer", "lifecycle_test"],
              f"the autoloaded chain: {lsmod_names(vm)}", vm)
        out = vm.command_output("rmmod lifecycle_test")
        check(re.search(r"lifecycle_test: \S+: removed", out) and "lifecycle_test: unloaded" in out,
              f"rmmod lifecycle_test: {out}", vm)
        for name in ("consumer", "provider"):
            vm.command_output("rmmod " + name)
        baseline = settled_free_pages(vm)

        out = refused(vm, "lifecycle-test fail=1", "keel_module_init failed with -19")
        check("consumer: unloaded" in out and "provider: unloaded" in out,
              f"the failed load left a dependency's dependency: {out}", vm)
        check(lsmod_names(vm) == [], f"modules left after the failed load: {lsmod_names(vm)}", vm)

        out = insmod(vm, "lifecycle-test careless=1")
        check(re.search(r"lifecycle_test: \S+: bound", out), f"insmod by file name: {out}", vm)
        out = vm.command_output("rmmod lifecycle_test")
        check("removing driver lifecycle_test it left registered" in out and re.search(
            r"lifecycle_test: \S+: removed", out), f"the driver left registered: {out}", vm)
        check("after the module's destructors" not in out, f"remove ran after DT_FINI_ARRAY: {out}", vm)

        insmod(vm, "lifecycle-test get=1")
        check(refcount(vm, "provider") == 2, "consumer's use and lifecycle_test's reference", vm)
        # A '-' in a module name asked for is a '_', as Linux's tools take it.
        out = vm.command_output("modprobe lifecycle-test")
        check("ERROR" not in out and "EEXIST" not in out, f"modprobe of a loaded module by file name: {out}", vm)
        out = insmod(vm, "/lib/test/lifecycle_peer.kmod put=1")
        check("lifecycle_peer: keel_symbol_put(provider_add) with no reference held on it" in out,
              f"a put with no get: {out}", vm)
        check(refcount(vm, "provider") == 2, "a put with no get took another holder's reference", vm)
        vm.command_output("rmmod lifecycle_peer")
        # The core's own symbols count no reference: their put is quiet.
        out = insmod(vm, "/lib/test/lifecycle_peer.kmod core=1")
        check("lifecycle_peer: keel_log from the core found" in out and "no reference held" not in out,
              f"a get and put of a core symbol: {out}", vm)
        unload_peer_and_test(vm)
        check(refcount(vm, "provider") == 1, "lifecycle_test's put at exit", vm)

        # A reference taken in probe and given back as the last call of
        # remove (a tail call, but for <keel/module.h>), with a second
        # holder: the put is lifecycle_test's, not an unattributed one.
        out = insmod(vm, "lifecycle-test late=1")
        device = re.search(r"lifecycle_test: (\S+): bound", out)
        check(device, f"insmod lifecycle-test late=1: {out}", vm)
        insmod(vm, "/lib/test/lifecycle_peer.kmod get=1")
        check(refcount(vm, "provider") == 3, "consumer's use and both references", vm)
        # probe added a module watch (under the device model's lock); it
        # sees a module go, and remove takes it out.
        insmod(vm, "hello")
        vm.command_output("rmmod hello")
        check("lifecycle_test: saw hello go" in vm.command_output("dmesg"), "the watch from probe", vm)
        out = vm.command_output(f"unbind {device.group(1)}")
        check(re.search(r"lifecycle_test: \S+: removed", out) and "no reference held" not in out,
              f"unbind: {out}", vm)
        check(refcount(vm, "provider") == 2, "remove's put was not lifecycle_test's", vm)
        unload_peer_and_test(vm)
        check(refcount(vm, "provider") == 1, "the peer's put at exit", vm)
        for name in ("consumer", "provider"):
            vm.command_output("rmmod " + name)
        check(lsmod_names(vm) == [], f"modules left: {lsmod_names(vm)}", vm)
        check(settled_free_pages(vm) == baseline, "the scenarios leaked pages", vm)


@case
def module_spinlocks_keep_interrupts_off_and_are_not_slept_on():
    """tests/modules/spintest.c: interrupts stay off until a thread's last
    module spinlock is released, in whichever order; sleeping with one held,
    or locking a mutex even one no one holds, stops the kernel there, naming
    the thread and the module's code."""
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        out = insmod(vm, "/lib/test/spintest.kmod")
        check("spintest: interrupts on before 1, with only the second held 0, after 1" in out,
              f"the interrupt state under module spinlocks: {out}", vm)
        vm.command_output("rmmod spintest")
    for parameter, how in (("sleep=1", "sleeps"), ("mutex=1", "locks a mutex")):
        with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
            vm.send(f"insmod /lib/test/spintest.kmod {parameter}")
            status = vm.wait_exit(60)
            check(status == 101, f"spintest {parameter} gave status {status}, not a panic", vm)
            check(re.search(rf"\S+: {how} holding 1 spinlock\(s\) of a module \(keel_spin_lock\)", vm.output)
                  and re.search(r"keel_module_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[spintest\]", vm.output),
                  f"spintest {parameter}: the panic does not name the thread and the module's code", vm)


@case(arches=ALL_ARCHES)
def malformed_modules_are_refused_precisely():
    with boot_modules() as vm:
        baseline = settled_free_pages(vm)
        # The file's type 2 is R_X86_64_PC32 on x86_64 and no type at all on AArch64.
        pc32 = "R_X86_64_PC32" if ARCH == "x86_64" else "unknown (2)"
        refused(vm, "/lib/test/bad-relocation.kmod", f"unsupported type {pc32}", "ENOEXEC")
        refused(vm, "/lib/test/bad-wx-segment.kmod", "writable and executable", "ENOEXEC")
        refused(vm, "/lib/test/bad-interpreter.kmod", "PT_INTERP", "ENOEXEC")
        refused(vm, "/lib/test/bad-truncated.kmod", "exceeds file size", "ENOEXEC")
        refused(vm, "/lib/test/bad-not-elf.kmod", "not an ELF file", "ENOEXEC")
        refused(vm, "/lib/test/bad-unknown-symbol.kmod", "unknown symbol keel_logz@KABI_CORE_1.0", "ENOENT")
        refused(vm, "/lib/test/bad-newer-node.kmod", "needs keel_logf@KABI_CORE_1.7", "KABI_CORE_1.0")
        out = refused(vm, "/lib/test/bad-hash.kmod", "disagrees about the version of symbol keel_logf@KABI_CORE_1.0")
        check(re.search(r"module has hash 0x[0-9a-f]{16}, core has 0x[0-9a-f]{16}", out), f"both hashes: {out}", vm)
        refused(vm, "/no/such/file.kmod", "no such file", "ENOENT")
        # DT_NEEDED "/lib/test/dep", and a module there: refused by name,
        # that file never loaded.
        out = refused(vm, "/lib/test/bad-needed-path.kmod", "DT_NEEDED '/lib/test/dep'", "module name", "ENOEXEC")
        check("hello: loaded" not in out, f"a dependency path was loaded: {out}", vm)
        # Issue 17: the refusals name what they must.
        refused(vm, "/lib/test/bad-newer-node.kmod", "version node KABI_CORE_1.7 is newer than this core, which offers "
                "KABI_CORE_1.0, KABI_CORE_1.1")
        refused(vm, "/lib/test/bad-missing-dependency.kmod", "consumer: needs providex (DT_NEEDED providex.kmod): "
                "providex: no providex.kmod in /lib/modules or /lib/vendor", "ENOENT")
        refused(vm, "/lib/test/bad-no-license.kmod", "no license= entry", "ENOEXEC")
        refused(vm, "/lib/test/bad-hidden-init.kmod", "announces keel_module_init (init=) but the module does not "
                "export it", "ENOEXEC")
        refused(vm, "hello_cpp fail=1", "keel_module_init failed with -19", "ENODEV")
        check(lsmod_names(vm) == [], "a refused module stayed loaded", vm)
        check(free_pages(vm) == baseline, "refused loads leaked memory", vm)
        # Force: a hash mismatch loads, tainted 'F'.
        out = insmod(vm, "-f /lib/test/bad-hash.kmod")
        check("hello: loaded" in out, f"insmod -f: {out}", vm)
        lsmod = vm.command_output("lsmod")
        check(re.search(r"^hello .*\(F\)$", lsmod, re.M) and "Tainted: F" in lsmod, f"forced taint: {lsmod}", vm)


@case(arches=("x86_64", "aarch64"))
def module_code_and_rodata_are_not_writable():
    # W^X after relocation: a store into the module's own code, or into its
    # read-only data, faults in the module (crashy write=1, write=2).
    for mode in (1, 2):
        with boot_modules() as vm:
            vm.send(f"insmod crashy write={mode}")
            status = vm.wait_exit(60)
            check(status == 101, f"write={mode}: status {status}, not a fault's 101", vm)
            trace = vm.output[vm.output.find("Call Trace:"):]
            check(len(trace.splitlines()) > 1 and re.search(r"crashy_write\+0x[0-9a-f]+/0x[0-9a-f]+ \[crashy\]",
                                                            trace.splitlines()[1]),
                  f"write={mode}: the backtrace does not start at crashy_write [crashy]", vm)


@case
def fault_in_module_names_module_and_symbol():
    with boot_modules() as vm:
        insmod(vm, "/lib/test/hello-unsigned.kmod")
        vm.send("insmod crashy crash=1")
        status = vm.wait_exit(60)
        check(status == 101, f"status {status}", vm)
        trace = vm.output[vm.output.find("Call Trace:"):]
        check(re.search(r"crashy_fault\+0x[0-9a-f]+/0x[0-9a-f]+ \[crashy\]", trace.splitlines()[1]),
              "the backtrace does not start at crashy_fault [crashy]", vm)
        check("RIP: 0008:" in vm.output and "[crashy]" in vm.output.split("RIP: 0008:")[1].splitlines()[0],
              "RIP is not symbolized in the module", vm)
        check("Modules linked in: tmpfs hello(E) crashy" in vm.output, "the oops does not list the modules", vm)
        check("Tainted: E" in vm.output, "the oops does not show the unsigned-module taint", vm)
