"""Boot Keel under QEMU and talk to its serial console.

Every wait has a time limit. The exit status of QEMU is decoded: on x86_64
the kernel powers off through `isa-debug-exit`, which makes QEMU exit with
(code << 1) | 1; on aarch64 through semihosting's SYS_EXIT_EXTENDED, which
makes QEMU exit with the code itself. `decode_status()` turns either back
into `code`.
"""

import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

from keel import uboot
from keel.qmp import Qmp, QmpError, qmp_options

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_dir(arch):
    """build/ for x86_64, build-ARCH/ for the others (scripts/lib.sh)."""
    return os.path.join(ROOT, "build" if arch == "x86_64" else f"build-{arch}")


def configured_arch(build):
    """The `arch` option the build directory was configured with."""
    try:
        with open(os.path.join(build, "meson-info", "intro-buildoptions.json")) as handle:
            for option in json.load(handle):
                if option.get("name") == "arch":
                    return option["value"]
    except (OSError, ValueError):
        pass
    return "x86_64"


ARCH = os.environ.get("KEEL_ARCH") or (configured_arch(os.environ["KEEL_BUILD"]) if "KEEL_BUILD" in os.environ
                                       else "x86_64")
BUILD = os.environ.get("KEEL_BUILD", build_dir(ARCH))


def kernel_path(build, arch, name="keel"):
    """What QEMU boots: the stripped ELF on x86_64 (PVH; NAME.elf keeps the
    symbols for gdb and the tools), the flat arm64 Image on aarch64.
    name: the core variant (keel, keel-enforce)."""
    return os.path.join(build, "core", name + ("-boot.elf" if arch == "x86_64" else ".Image"))


KERNEL = kernel_path(BUILD, ARCH)
# The default initramfs: in-tree modules under /lib/modules and a demo tree.
INITRAMFS = os.path.join(BUILD, "initramfs", "initramfs.cpio")
DEFAULT = object()      # "the default initramfs", as opposed to None (none at all)
PROMPT = "keel> "

# scripts/run's own statuses, beside the kernel's poweroff codes (0..127).
EXIT_RESET = 120        # the machine reset without a reboot command: a triple fault
EXIT_QEMU_FAILED = 121  # QEMU did not start or died on its own
EXIT_TIMEOUT = 124      # a time limit ran out

# The kernel keeps 4095 bytes of command line (docs/kernel-parameters.md).
# A longer one is refused here: past about 4.1 KiB QEMU's PVH loader
# overwrites the start_info structure with it, and the kernel, finding no
# boot information (and no panic= in it), halts.
MAX_CMDLINE = 4095
LOG_LINE = re.compile(r"\[ *\d+\.\d{6}\] ")

POWER_DOWN = re.compile(r"reboot: Power down \(code (\d+)\)")
RESTART = "reboot: Restarting system"


def after_echo(text, line):
    """A command's output: what follows the console's echo of `line`.

    A kernel log line a thread prints while the command is typed lands before
    the echo or inside it (the kernel starts each record on a line of its
    own), so the echo is put back together from the pieces that are not log
    lines; those log lines are not the command's output."""
    pieces = text.split("\n")
    typed = ""
    for index, piece in enumerate(pieces):
        if LOG_LINE.match(piece) or not piece.strip("\r"):
            continue
        typed += piece.rstrip("\r")
        if len(typed) >= len(line):
            if typed.endswith(line) and line:
                return "\n".join(pieces[index + 1:])
            break
    first_newline = text.find("\n")
    return text[first_newline + 1:] if first_newline >= 0 else ""


class Timeout(Exception):
    pass


class CommandLineTooLong(ValueError):
    pass


def check_cmdline(cmdline):
    length = len(cmdline.encode())
    if length > MAX_CMDLINE:
        raise CommandLineTooLong(f"the kernel command line is {length} bytes; at most {MAX_CMDLINE} fit")


def hardware_options(disks=(), devices=()):
    """QEMU options for extra hardware: each disk "IMAGE[,ro]" a raw
    virtio-blk-pci disk (read-only with ",ro"), each device a QEMU -device
    specification ("edu", "virtio-rng-pci", "edu,dma_mask=0xffffffff")."""
    options = []
    for index, disk in enumerate(disks):
        image, _, flags = disk.partition(",")
        if flags not in ("", "ro"):
            raise ValueError(f"--disk {disk}: the only flag is ',ro'")
        if not os.path.isfile(image):
            raise ValueError(f"--disk {disk}: no such file")
        readonly = ",readonly=on" if flags == "ro" else ""
        options += ["-drive", f"file={image},if=none,id=disk{index},format=raw{readonly}",
                    "-device", f"virtio-blk-pci,drive=disk{index}"]
    for device in devices:
        if not device or device.startswith("-"):
            raise ValueError(f"--device {device!r}: expected a QEMU device such as edu or virtio-rng-pci")
        options += ["-device", device]
    return options


# The machine each architecture boots on, and how the kernel's exit status
# gets out of it.
MACHINES = {
    # Each machine's default network card, on user networking that reaches
    # nothing outside QEMU (restrict=on): nothing leaves this machine. The
    # same card on both, one no driver module binds yet, so that a boot's
    # modules are the same on both architectures (virtio-net-pci would
    # autoload virtio_pci on virt); tests that want virtio add it.
    "x86_64": ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", "max",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-nic", "user,model=e1000e,restrict=on"],
    # virt's 32 virtio-mmio slots speak the virtio 1.x interface (version 2
    # registers), the one virtio_mmio drives; QEMU's default is the legacy one.
    "aarch64": ["qemu-system-aarch64", "-machine", "virt,gic-version=3", "-accel", "tcg", "-cpu", "cortex-a57",
                "-semihosting-config", "enable=on,target=native", "-nic", "user,model=e1000e,restrict=on",
                "-global", "virtio-mmio.force-legacy=false"],
}


def qemu_command(kernel=KERNEL, initrd=DEFAULT, cmdline="", memory="256M", interactive=False, extra=(), arch=ARCH,
                 machine=None):
    """machine: replaces the architecture's default QEMU options (MACHINES)."""
    check_cmdline(cmdline)
    command = list(machine or MACHINES[arch]) + [
        "-m", memory,
        "-kernel", kernel,
        "-append", cmdline,
        "-no-reboot",
    ]
    if initrd is DEFAULT:
        initrd = INITRAMFS if os.path.exists(INITRAMFS) else None
    if initrd is not None:
        command += ["-initrd", initrd]
    if interactive:
        command += ["-nographic"]
    else:
        command += ["-display", "none", "-monitor", "none", "-serial", "stdio"]
    return command + list(extra)


# U-Boot on QEMU virt (arch/aarch64/uboot): where the FIT is put in RAM,
# what its prompt looks like, and the command that boots only the signed
# configuration, with U-Boot's own control tree (QEMU's, plus the boot
# key) handed to the kernel. Debian's U-Boot finds that command and the
# kernel's command line in its environment, which its qemu_arm64 build keeps
# at the start of QEMU's second flash bank (CONFIG_ENV_SIZE 256 KiB; each
# bank is 64 MiB); the project's has the same command built in
# (keel_defconfig.fragment's CONFIG_BOOTCOMMAND, then `poweroff`) and the
# command line in its control tree.
UBOOT_FIT_ADDRESS = 0x44000000
UBOOT_PROMPT = "=> "
# What either U-Boot says as `bootm` starts reading the FIT: the time until
# then is U-Boot's own start.
UBOOT_READS_FIT = "## Loading kernel from FIT Image"
UBOOT_BOOT = f"bootm {UBOOT_FIT_ADDRESS:#x}#conf-1 {UBOOT_FIT_ADDRESS:#x}#conf-1 ${{fdtcontroladdr}}"
UBOOT_ENV_SIZE = 0x40000
UBOOT_FLASH_SIZE = 64 << 20


# Below the FIT: U-Boot's load address for the kernel (0x40200000); above
# it: the initramfs U-Boot copies below itself, U-Boot and its heap at the
# top of RAM.
UBOOT_ROOM_ABOVE_FIT = 32 << 20


def memory_bytes(memory):
    """QEMU's -m SIZE in bytes (a number of MiB, or with a K, M, G or T
    suffix), or None when it is not in that form (QEMU then judges it)."""
    match = re.fullmatch(r"(\d+)([KMGT]?)B?", memory.strip(), re.IGNORECASE)
    if not match:
        return None
    shift = {"K": 10, "": 20, "M": 20, "G": 30, "T": 40}[match.group(2).upper()]
    return int(match.group(1)) << shift


class NotEnoughMemory(ValueError):
    pass


def check_uboot_memory(memory, fit):
    """U-Boot finds the FIT at UBOOT_FIT_ADDRESS, 64 MiB into RAM; with less
    RAM than that and room above it, QEMU drops the FIT and U-Boot faults."""
    size = memory_bytes(memory)
    need = UBOOT_FIT_ADDRESS - 0x40000000 + os.path.getsize(fit) + UBOOT_ROOM_ABOVE_FIT
    if size is not None and size < need:
        need_mib = -(-need // (1 << 20))
        raise NotEnoughMemory(f"--memory {memory}: booting through U-Boot needs at least {need_mib} MiB (the FIT "
                              f"is put {(UBOOT_FIT_ADDRESS - 0x40000000) >> 20} MiB into RAM, with U-Boot above it)")


def check_uboot_cmdline(cmdline):
    """A command line U-Boot's environment can hold: one line, as the kernel's."""
    check_cmdline(cmdline)
    if "\n" in cmdline or "\r" in cmdline or "\0" in cmdline:
        raise CommandLineTooLong("a kernel command line given through U-Boot is one line (no newline or NUL)")


def uboot_environment(directory, cmdline):
    """U-Boot's environment flash (mkenvimage) in `directory`: no countdown
    to wait for, the kernel's command line as given (U-Boot expands nothing
    in it), and the signed configuration booted at once."""
    check_uboot_cmdline(cmdline)
    text = os.path.join(directory, "uboot-env.txt")
    image = os.path.join(directory, "uboot-env.img")
    with open(text, "w") as handle:
        handle.write(f"bootdelay=0\nbootargs={cmdline}\nbootcmd={UBOOT_BOOT}\n")
    subprocess.run(["mkenvimage", "-s", f"{UBOOT_ENV_SIZE:#x}", "-o", image, text], check=True, capture_output=True)
    with open(image, "r+b") as handle:
        handle.truncate(UBOOT_FLASH_SIZE)
    return image


def uboot_settings(build=BUILD):
    """{"u_boot": Debian's firmware, "key_dir": the boot key's directory}, from the build."""
    with open(os.path.join(build, "arch", "aarch64", "uboot", "uboot.json")) as handle:
        return json.load(handle)


# The two U-Boots (docs/aarch64.md): the project's, built from Debian's
# source with the key and the command line in its own control tree and
# nothing but `bootm` of the signed configuration (keel/uboot.py), and
# Debian's u-boot-qemu binary, whose control tree QEMU hands over and whose
# environment comes from flash.
UBOOT_FIRMWARES = ("keel", "debian")


def default_uboot_firmware():
    """The project's U-Boot when the scripts have built it, else Debian's."""
    return "keel" if uboot.available() else "debian"


def uboot_command(fit, dtb, environment, memory="256M", interactive=False, extra=(), build=BUILD, machine=None,
                  firmware=None):
    """QEMU running U-Boot with `fit` in RAM: Debian's (`firmware` None) with
    `dtb` as its control tree and `environment` in its second flash bank, or
    `firmware`, a U-Boot carrying its own tree (uboot_setup)."""
    command = list(machine or MACHINES["aarch64"]) + ["-m", memory]
    if firmware:
        command += ["-bios", firmware]
    else:
        command += ["-bios", uboot_settings(build)["u_boot"], "-dtb", dtb,
                    "-drive", f"if=pflash,unit=1,format=raw,file={environment}"]
    command += [
        "-device", f"loader,file={fit},addr={UBOOT_FIT_ADDRESS:#x},force-raw=on",
        "-no-reboot",
    ]
    if interactive:
        command += ["-nographic"]
    else:
        command += ["-display", "none", "-monitor", "none", "-serial", "stdio"]
    return command + list(extra)


def _virtio_mmio_devices(options):
    """How many virtio-mmio transports the QEMU `options` put a device on
    (each `-device` whose driver ends in "-device": virtio-blk-device,
    vhost-vsock-device...), or None when that is not plain: a device that
    names its bus, or one given as JSON."""
    count = 0
    for option, value in zip(options, options[1:]):
        if option != "-device":
            continue
        if value.startswith("{"):
            return None
        properties = value.split(",")
        driver = properties[0]
        for prop in properties:
            if prop.startswith("driver="):
                driver = prop[len("driver="):]
        if driver.endswith("-device"):
            if any(prop.startswith("bus=") for prop in properties):
                return None
            count += 1
    return count


def _machine_nics(options):
    """The slots (from 1) of the cards the QEMU `options` make with -nic, in
    order, each with whether a driver of the boot could bind it: a virtio
    card could, the machine's usual e1000e no driver module binds."""
    cards = [value for option, value in zip(options, options[1:]) if option == "-nic" and value != "none"]
    return [(slot, "model=virtio" in card) for slot, card in enumerate(cards, 1)]


def unused_devices(tree, options):
    """dtc overrides marking disabled in the `tree` (dts text) of QEMU's virt
    machine what a boot with QEMU `options` does not use (docs/aarch64.md,
    "The tree U-Boot is handed"): the flash, whose CFI probe is most of
    Debian's U-Boot's time (it reads its environment from the mapped bank
    without one); the virtio-mmio transports with no device on them (virt
    fills them from the highest address down); and the machine's own
    network cards (-nic, at 00:01.0 on: virt makes them before any -device)
    that no driver of the boot binds (any but a virtio card)."""
    nodes = re.findall(r"^\t(\S+) \{$", tree, re.M)
    unused = [name for name in nodes if name.startswith("flash@")]
    transports = sorted((name for name in nodes if name.startswith("virtio_mmio@")),
                        key=lambda name: int(name.split("@")[1], 16), reverse=True)
    used = _virtio_mmio_devices(options)
    if used is not None:
        unused += transports[used:]
    overrides = [f'&{{/{name}}} {{ status = "disabled"; }};' for name in unused]
    bridges = [name for name in nodes if name.startswith("pcie@")]
    if bridges:
        cards = " ".join(f'ethernet@{slot},0 {{ reg = <{slot << 11:#x} 0 0 0 0>; status = "disabled"; }};'
                         for slot, bound in _machine_nics(options) if not bound)
        if cards:
            overrides.append(f"&{{/{bridges[0]}}} {{ {cards} }};")
    return "\n".join(overrides)


def uboot_control_dtb(directory, memory="256M", build=BUILD, machine=None, cmdline=None, extra=()):
    """QEMU's device tree for this machine with the boot key in it (make-fit.py dtb), in `directory`;
    with `cmdline` also the kernel's command line in /chosen (the project's U-Boot passes it on).
    What the boot, with `extra` QEMU options, does not use is disabled (unused_devices)."""
    plain = os.path.join(directory, "virt.dtb")
    keyed = os.path.join(directory, "virt-boot-key.dtb")
    machine = list(machine or MACHINES["aarch64"])
    options = list(machine)
    at = options.index("-machine") + 1
    options[at] += f",dumpdtb={plain}"
    # With firmware loaded, virt has no PL061 GPIO (ACPI's event device
    # stands in for it): the tree must be that machine's, or a kernel that
    # probes the PL061 takes an external abort.
    subprocess.run(options + ["-m", memory, "-display", "none", "-bios", uboot_settings(build)["u_boot"]], check=True,
                   capture_output=True)
    tree = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", plain], check=True, capture_output=True,
                          text=True).stdout
    overrides = unused_devices(tree, machine + list(extra))
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", plain, "-"], check=True, capture_output=True,
                   text=True, input=tree + "\n" + overrides)
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make-fit.py"), "dtb", "--dtb", plain,
                    "--key-dir", uboot_settings(build)["key_dir"], "--output", keyed], check=True,
                   capture_output=True)
    if cmdline is not None:
        check_uboot_cmdline(cmdline)
        subprocess.run(["fdtput", "-t", "s", "--", keyed, "/chosen", "bootargs", cmdline], check=True,
                       capture_output=True)
    return keyed


def uboot_setup(directory, fit, cmdline, memory="256M", interactive=False, extra=(), build=BUILD, machine=None,
                firmware="keel"):
    """The QEMU command booting `fit` through U-Boot `firmware` (one of
    UBOOT_FIRMWARES) with `cmdline`, its files made in `directory`. The
    project's U-Boot is its cached build (uboot.NotBuilt when there is none)
    with this machine's tree, the boot key and the command line appended."""
    check_uboot_cmdline(cmdline)
    check_uboot_memory(memory, fit)
    if firmware == "keel":
        nodtb = uboot.built()
        dtb = uboot_control_dtb(directory, memory, build, machine, cmdline=cmdline, extra=extra)
        image = uboot.firmware(nodtb, dtb, os.path.join(directory, "u-boot.bin"))
        return uboot_command(fit, None, None, memory, interactive, extra, build, machine, firmware=image)
    if firmware != "debian":
        raise ValueError(f"U-Boot {firmware!r}: one of {', '.join(UBOOT_FIRMWARES)}")
    dtb = uboot_control_dtb(directory, memory, build, machine, extra=extra)
    environment = uboot_environment(directory, cmdline)
    return uboot_command(fit, dtb, environment, memory, interactive, extra, build, machine)


def gdb_options(port=1234):
    """QEMU's -s -S with a chosen port: a GDB stub on 127.0.0.1:PORT and the
    CPU stopped until GDB continues it (docs/debugging.md)."""
    return ["-gdb", f"tcp:127.0.0.1:{port}", "-S"]


def decode_status(returncode, output, arch=ARCH):
    """Map QEMU's exit status (and what the kernel said last) to ours."""
    if returncode is None:
        return EXIT_TIMEOUT
    powered_down = POWER_DOWN.findall(output)
    panicked = "Kernel panic" in output
    if arch != "x86_64":
        # Semihosting's exit gives the code itself; QEMU's own failures are
        # told apart by the kernel not having said it powers down.
        if returncode == 0:
            return 0 if (powered_down and powered_down[-1] == "0") or RESTART in output[-4096:] else EXIT_RESET
        if returncode > 0 and (powered_down or panicked):
            return returncode
        return EXIT_QEMU_FAILED
    if returncode & 1 and returncode > 0:
        code = returncode >> 1
        # QEMU itself also exits with 1 on errors: only trust code 0 when the
        # kernel said it was powering down.
        if code == 0 and not powered_down and not panicked:
            return EXIT_QEMU_FAILED
        return code
    if returncode == 0:
        return 0 if RESTART in output[-4096:] else EXIT_RESET
    return EXIT_QEMU_FAILED


class Machine:
    """A booted kernel with its console on pipes."""

    def __init__(self, cmdline="", initrd=DEFAULT, memory="256M", kernel=KERNEL, echo=None, extra=(), gdb_port=None,
                 arch=ARCH, machine=None, uboot=None, disks=(), devices=(), qmp=False, uboot_firmware="keel"):
        # gdb_port: wait for GDB on that port before running (gdb_options).
        # machine: QEMU options replacing the architecture's (MACHINES).
        # uboot: a FIT image: boot U-Boot with it instead of the kernel
        # (aarch64); U-Boot verifies and boots it by itself.
        # uboot_firmware: which U-Boot (UBOOT_FIRMWARES), the project's by default.
        # disks, devices: extra hardware (hardware_options).
        # qmp: a QMP server on a private socket, for qmp() (keel/qmp.py).
        extra = list(extra) + hardware_options(disks, devices) + (gdb_options(gdb_port) if gdb_port else [])
        self.arch = arch
        self.scratch = None
        self.qmp_directory = None
        self.qmp_client = None
        if qmp:
            self.qmp_directory = tempfile.TemporaryDirectory(prefix="keel-qmp-")
            extra += qmp_options(os.path.join(self.qmp_directory.name, "qmp.sock"))
        if uboot:
            self.scratch = tempfile.TemporaryDirectory(prefix="keel-uboot-")
            self.command = uboot_setup(self.scratch.name, uboot, cmdline, memory, False, extra, machine=machine,
                                       firmware=uboot_firmware)
        else:
            self.command = qemu_command(kernel, initrd, cmdline, memory, False, extra, arch, machine)
        self.echo = echo                # a callable receiving output text, or None
        self.output = ""                # everything received so far
        self.cursor = 0                 # expect() matches after this offset
        self.process = None
        self.started_at = None

    def __enter__(self):
        if self.process is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.kill()

    def start(self):
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)

    def _read(self, deadline):
        """Read what is available (waiting at most until deadline). False at EOF."""
        remaining = max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([self.process.stdout], [], [], remaining)
        if not ready:
            return True
        data = os.read(self.process.stdout.fileno(), 65536)
        if not data:
            return False
        text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
        self.output += text
        if self.echo:
            self.echo(text)
        return True

    def expect(self, pattern, timeout=30.0):
        """Wait for a regex (or plain string) after the cursor; returns the match."""
        regex = re.compile(re.escape(pattern)) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.output, self.cursor)
            if match:
                self.cursor = match.end()
                return match
            if time.monotonic() >= deadline:
                raise Timeout(f"timed out after {timeout:.0f}s waiting for {regex.pattern!r}; "
                              f"last output:\n{self.output[-2000:]}")
            if not self._read(deadline):
                match = regex.search(self.output, self.cursor)
                if match:
                    self.cursor = match.end()
                    return match
                raise Timeout(f"QEMU exited while waiting for {regex.pattern!r}; "
                              f"last output:\n{self.output[-2000:]}")

    def expect_re(self, pattern, timeout=30.0):
        return self.expect(re.compile(pattern), timeout)

    def send(self, line):
        self.process.stdin.write(line.encode() + b"\r")
        self.process.stdin.flush()

    def interrupt(self):
        """Ctrl-C, as typed on the console (no Enter after it)."""
        self.process.stdin.write(b"\x03")
        self.process.stdin.flush()

    def command_output(self, line, timeout=60.0):
        """Run a console command at the prompt and return its output."""
        self.send(line)
        start = self.cursor
        self.expect(PROMPT, timeout)
        return after_echo(self.output[start:self.cursor - len(PROMPT)], line)

    def qmp(self, command, **arguments):
        """A QMP command to QEMU (Machine(qmp=True)): its "return" value;
        QmpError when QEMU refuses it."""
        if not self.qmp_directory:
            raise QmpError("this machine was started without qmp=True")
        if not self.qmp_client:
            self.qmp_client = Qmp(os.path.join(self.qmp_directory.name, "qmp.sock"))
        return self.qmp_client.execute(command, **arguments)

    def wait_exit(self, timeout=30.0):
        """Wait for QEMU to exit, collecting output; returns the decoded status."""
        deadline = time.monotonic() + timeout
        while self._read(min(deadline, time.monotonic() + 0.2)):
            if time.monotonic() >= deadline:
                self.kill()
                raise Timeout(f"QEMU still running after {timeout:.0f}s; last output:\n{self.output[-2000:]}")
        self.process.wait()
        return decode_status(self.process.returncode, self.output, self.arch)

    def kill(self):
        if self.scratch:
            self.scratch.cleanup()
            self.scratch = None
        if self.qmp_client:
            self.qmp_client.close()
            self.qmp_client = None
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        if self.qmp_directory:
            self.qmp_directory.cleanup()
            self.qmp_directory = None
