"""AArch64 scenarios (QEMU virt): boot and power off, the console, EL2 and
GICv2, faults symbolized through the core's panic, threads and FP/SIMD
state, the timer, modules in C, C++ and Rust."""

import os
import re
import subprocess
import sys

from harness import BUILD, PROMPT, Machine, boot, case, check
from keel.machine import ROOT, UBOOT_PROMPT

AARCH64 = ("aarch64",)


def expect_fault(vm, function, banner):
    status = vm.wait_exit(60)
    check(status == 101, f"a panic gave status {status}, not 101", vm)
    check(banner in vm.output, f"no '{banner}' in the oops", vm)
    check("Call Trace:" in vm.output, "no backtrace", vm)
    trace = vm.output[vm.output.find("Call Trace:"):]
    check(function in trace.splitlines()[1], f"the backtrace does not start in {function}", vm)
    check("pc : " in vm.output and "ESR:" in vm.output, "registers not printed", vm)
    check("Tainted: T" in vm.output, "panic output lacks the taint flags", vm)


@case(arches=AARCH64)
def aarch64_boot_help_poweroff():
    with boot() as vm:
        check("Keel 0.1.0 (aarch64) booting" in vm.output, "no aarch64 banner", vm)
        check("gic: GICv3" in vm.output, "GICv3 not found in the device tree", vm)
        help_text = vm.command_output("help")
        for command in ["help", "dmesg", "mem", "threads", "uptime", "poweroff", "reboot"]:
            check(re.search(rf"^\s+{command}\b", help_text, re.M), f"help does not list {command}", vm)
        vm.send("poweroff 3")
        status = vm.wait_exit(30)
        check(status == 3, f"poweroff 3 gave exit status {status}", vm)


@case(arches=AARCH64)
def aarch64_el2_gicv2_and_reset():
    # Entered at EL2 (virtualization=on): the kernel drops to EL1; GICv2;
    # PSCI through SMC; the timer ticks (sleep) and the console reads.
    machine = ["qemu-system-aarch64", "-machine", "virt,gic-version=2,virtualization=on", "-accel", "tcg",
               "-cpu", "cortex-a57", "-semihosting-config", "enable=on,target=native"]
    with boot(machine=machine) as vm:
        check("gic: GICv2" in vm.output, "GICv2 not found", vm)
        out = vm.command_output("selftest sleep 50", timeout=60)
        match = re.search(r"slept (\d+) us", out)
        check(match and 50000 <= int(match.group(1)) < 1000000, f"sleep: {out}", vm)
        vm.send("reboot")
        status = vm.wait_exit(30)
        check(status == 0 and "reboot: Restarting system" in vm.output, f"reboot gave status {status}", vm)


@case(arches=AARCH64)
def aarch64_threads_fpu_and_mutex():
    with boot() as vm:
        for command, expect in [("selftest threads 200", "PASS"), ("selftest mutex", "overlaps 0: PASS"),
                                ("selftest fpu", "PASS"), ("selftest race vmalloc 4", "")]:
            out = vm.command_output(command, timeout=120)
            check(expect in out and "FAIL" not in out, f"{command}: {out}", vm)


@case(arches=AARCH64)
def aarch64_faults_are_symbolized():
    with Machine(cmdline="panic=-1 test_fault=null") as vm:
        expect_fault(vm, "selftest_fault_null_dereference", "NULL pointer dereference")
        trace = vm.output[vm.output.find("Call Trace:"):]
        check("kernel_init" in trace, "the backtrace does not reach kernel_init (the init thread)", vm)
    for kind, function, banner in [("write", "selftest_fault_write_rodata", "permission fault"),
                                   ("nx", "selftest_fault_execute_data::code", "instruction fetch access"),
                                   ("ud", "selftest_fault_invalid_opcode", "a trap in the kernel's code")]:
        with boot() as vm:
            vm.send(f"selftest fault {kind}")
            expect_fault(vm, function, banner)


@case(arches=AARCH64)
def aarch64_stack_overflow_hits_guard_page():
    with boot() as vm:
        vm.send("selftest fault stack")
        status = vm.wait_exit(60)
        check(status == 101, f"status {status}", vm)
        check("kernel stack overflow" in vm.output, "guard page hit not reported", vm)


@case(arches=AARCH64)
def aarch64_modules_in_c_cpp_and_rust():
    # Built for aarch64, signed, loaded from the initramfs: R_AARCH64_*
    # relocations, instruction-cache maintenance, FP/SIMD in Rust's core.
    with boot() as vm:
        check("vfs: early module tmpfs did not load" not in vm.output, "tmpfs did not load", vm)
        for name, greeting in [("hello", "hello, world"), ("hello_cpp", "constructor ran"),
                               ("hello_rs", "hello from Rust: the first 3 squares add up to 14")]:
            out = vm.command_output(f"insmod {name}")
            check(greeting in out and f"{name}: loaded at" in out, f"insmod {name}: {out}", vm)
        out = vm.command_output("lsmod")
        check(all(name in out for name in ["hello", "hello_cpp", "hello_rs"]), f"lsmod: {out}", vm)
        check("kernel: Not tainted" in out, "signed modules tainted the kernel", vm)
        for name, farewell in [("hello_rs", "goodbye from Rust"), ("hello_cpp", "static destructor ran"),
                               ("hello", "goodbye, world")]:
            out = vm.command_output(f"rmmod {name}")
            check(farewell in out and f"{name}: unloaded" in out, f"rmmod {name}: {out}", vm)
        vm.send("poweroff 0")
        check(vm.wait_exit(30) == 0, "poweroff 0", vm)


@case(arches=AARCH64)
def aarch64_fault_in_module_names_module_and_symbol():
    with boot() as vm:
        vm.send("insmod crashy crash=1")
        status = vm.wait_exit(60)
        check(status == 101, f"status {status}", vm)
        trace = vm.output[vm.output.find("Call Trace:"):]
        check(re.search(r"crashy_fault\+0x[0-9a-f]+/0x[0-9a-f]+ \[crashy\]", trace.splitlines()[1]),
              "the backtrace does not start at crashy_fault [crashy]", vm)
        # virtio_mmio: autoloaded for virt's virtio-mmio slots (harness.MACHINE_MODULES).
        check("Modules linked in: tmpfs virtio_mmio crashy" in vm.output, "the oops does not list the modules", vm)


def fit(name, suffix=".itb"):
    return os.path.join(BUILD, "arch", "aarch64", "uboot", name + suffix)


# Each U-Boot's banner: the project's says -keel (its CONFIG_LOCALVERSION),
# Debian's its package version.
UBOOT_BANNERS = {"keel": "U-Boot 2023.01-keel (", "debian": "U-Boot 2023.01+dfsg"}


def check_uboot_banner(vm, firmware):
    check(UBOOT_BANNERS[firmware] in vm.output, f"not {firmware}'s U-Boot", vm)
    # The project's reads no environment: the command line and the boot
    # command are its own.
    check(("Loading Environment from nowhere" in vm.output) == (firmware == "keel"),
          f"{firmware}'s U-Boot: unexpected environment source", vm)


@case(arches=AARCH64)
def aarch64_uboot_verifies_and_boots_the_signed_fit():
    # Both U-Boots, the project's and Debian's, with the boot key in their
    # control tree: the signed configuration boots; the kernel then checks
    # its modules with its own keys. The command line reaches the kernel as
    # given: the project's U-Boot has it in its own control tree, Debian's
    # in its environment, and neither splits it at ; nor expands $.
    cmdline = "panic=-1 uboot.test=a;echo$x"
    for firmware, code in (("keel", 4), ("debian", 5)):
        with Machine(cmdline=cmdline, uboot=fit("keel"), uboot_firmware=firmware) as vm:
            vm.expect("Verifying Hash Integrity ... sha256,rsa2048:keel-boot+ OK", 60)
            vm.expect(PROMPT, 60)
            check_uboot_banner(vm, firmware)
            check("Keel 0.1.0 (aarch64) booting" in vm.output, "no kernel banner", vm)
            check(f"Command line: {cmdline}\r\n" in vm.output or f"Command line: {cmdline}\n" in vm.output,
                  f"{firmware}'s U-Boot: the kernel's command line is not the one given", vm)
            # The initramfs is the FIT's: its modules are there and load.
            out = vm.command_output("lsmod")
            check("tmpfs" in out and "kernel: Not tainted" in out, f"lsmod: {out}", vm)
            out = vm.command_output("insmod hello")
            check("hello: loaded at" in out, f"insmod hello: {out}", vm)
            vm.send(f"poweroff {code}")
            status = vm.wait_exit(30)
            check(status == code, f"{firmware}'s U-Boot: poweroff {code} gave {status}", vm)


REFUSED_FITS = [
    ("keel-unsigned", ["No 'signature' subnode found", "Failed to verify required signature 'key-keel-boot'",
                       "ERROR: can't get kernel image!"]),
    ("keel-tampered", ["Bad hash value for 'hash-1' hash node in 'kernel' image node",
                       "ERROR: can't get kernel image!"]),
    ("keel-tampered-initramfs", ["Bad hash value for 'hash-1' hash node in 'ramdisk' image node",
                                 "Ramdisk image is corrupt or invalid"]),
    ("keel-other-key", ["sha256,rsa2048:keel-boot-", "Failed to verify required signature 'key-keel-boot'",
                        "ERROR: can't get kernel image!"])]


@case(arches=AARCH64)
def aarch64_uboot_refuses_unsigned_tampered_and_other_key_fits():
    # Debian's U-Boot: each refused, then its prompt.
    for name, messages in REFUSED_FITS:
        with Machine(cmdline="panic=-1", uboot=fit(name), uboot_firmware="debian") as vm:
            for message in messages:
                vm.expect(message, 60)
            vm.expect(UBOOT_PROMPT, 30)
            check_uboot_banner(vm, "debian")
            check("Starting kernel" not in vm.output, f"U-Boot started the kernel of {name}", vm)


@case(arches=AARCH64)
def aarch64_keel_uboot_refuses_bad_fits_and_legacy_images_and_powers_off():
    # The project's U-Boot: the same four FITs refused with U-Boot's own
    # messages, and a legacy uImage of the kernel (a CRC, no signature) too:
    # the legacy format is not built in. After a refusal it powers off: no
    # prompt, whatever is typed while it runs.
    cases = REFUSED_FITS + [("keel-legacy", ["Wrong Image Format for bootm command",
                                             "ERROR: can't get kernel image!"])]
    for name, messages in cases:
        image = fit(name, ".uimg" if name == "keel-legacy" else ".itb")
        with Machine(cmdline="panic=-1", uboot=image, uboot_firmware="keel") as vm:
            vm.expect("U-Boot 2023.01-keel", 60)
            vm.send("")
            vm.send("help")
            for message in messages:
                vm.expect(message, 60)
            vm.expect("poweroff ...", 30)
            status = vm.wait_exit(30)
            check(vm.process.returncode == 0, f"{name}: QEMU exited with {vm.process.returncode} ({status})", vm)
            check_uboot_banner(vm, "keel")
            check(UBOOT_PROMPT not in vm.output, f"{name}: the project's U-Boot gave a prompt", vm)
            check("Starting kernel" not in vm.output, f"U-Boot started the kernel of {name}", vm)
            check("Keel 0.1.0" not in vm.output, f"the kernel of {name} ran", vm)


@case(arches=AARCH64)
def aarch64_scripts_run_gives_the_poweroff_status():
    # scripts/run --arch aarch64 boots through the project's U-Boot (built by
    # the scripts) unless --uboot debian or --direct; each way `poweroff N`
    # is its exit status.
    for options, code, firmware in ((["--arch", "aarch64"], 5, "keel"),
                                    (["--arch", "aarch64", "--uboot", "debian"], 7, "debian"),
                                    (["--arch", "aarch64", "--direct"], 6, None)):
        result = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "run.py"), "--timeout", "60"] + options,
                                input=f"poweroff {code}\n", capture_output=True, text=True, timeout=120,
                                env=dict(os.environ, KEEL_BUILD=BUILD))
        output = result.stdout + result.stderr
        check(result.returncode == code, f"scripts/run {' '.join(options)}: status {result.returncode}, not {code}\n"
              + output[-2000:])
        check(("sha256,rsa2048:keel-boot+ OK" in output) == (firmware is not None),
              f"scripts/run {' '.join(options)}: U-Boot {'not ' if firmware else ''}seen\n" + output[-2000:])
        for name, banner in UBOOT_BANNERS.items():
            check((banner in output) == (name == firmware),
                  f"scripts/run {' '.join(options)}: {name}'s U-Boot {'not ' if name == firmware else ''}seen\n"
                  + output[-2000:])
