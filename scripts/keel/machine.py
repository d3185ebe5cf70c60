"""Boot Keel under QEMU and talk to its serial console.

Every wait has a time limit. The exit status of QEMU is decoded: the kernel
powers off through `isa-debug-exit`, which makes QEMU exit with
(code << 1) | 1; `Machine.exit_code()` turns that back into `code`.
"""

import os
import re
import select
import signal
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("KEEL_BUILD", os.path.join(ROOT, "build"))
KERNEL = os.path.join(BUILD, "core", "keel.elf")
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

POWER_DOWN = re.compile(r"reboot: Power down \(code (\d+)\)")
RESTART = "reboot: Restarting system"


class Timeout(Exception):
    pass


class CommandLineTooLong(ValueError):
    pass


def check_cmdline(cmdline):
    length = len(cmdline.encode())
    if length > MAX_CMDLINE:
        raise CommandLineTooLong(f"the kernel command line is {length} bytes; at most {MAX_CMDLINE} fit")


def qemu_command(kernel=KERNEL, initrd=DEFAULT, cmdline="", memory="256M", interactive=False, extra=()):
    check_cmdline(cmdline)
    command = [
        "qemu-system-x86_64",
        "-machine", "q35",
        "-accel", "tcg",
        "-cpu", "max",
        "-m", memory,
        "-kernel", kernel,
        "-append", cmdline,
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
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


def gdb_options(port=1234):
    """QEMU's -s -S with a chosen port: a GDB stub on 127.0.0.1:PORT and the
    CPU stopped until GDB continues it (docs/debugging.md)."""
    return ["-gdb", f"tcp:127.0.0.1:{port}", "-S"]


def decode_status(returncode, output):
    """Map QEMU's exit status (and what the kernel said last) to ours."""
    if returncode is None:
        return EXIT_TIMEOUT
    powered_down = POWER_DOWN.findall(output)
    panicked = "Kernel panic" in output
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

    def __init__(self, cmdline="", initrd=DEFAULT, memory="256M", kernel=KERNEL, echo=None, extra=(), gdb_port=None):
        # gdb_port: wait for GDB on that port before running (gdb_options).
        extra = list(extra) + (gdb_options(gdb_port) if gdb_port else [])
        self.command = qemu_command(kernel, initrd, cmdline, memory, False, extra)
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

    def command_output(self, line, timeout=60.0):
        """Run a console command at the prompt and return its output."""
        self.send(line)
        start = self.cursor
        self.expect(PROMPT, timeout)
        text = self.output[start:self.cursor - len(PROMPT)]
        # Drop the echoed command line.
        first_newline = text.find("\n")
        return text[first_newline + 1:] if first_newline >= 0 else ""

    def wait_exit(self, timeout=30.0):
        """Wait for QEMU to exit, collecting output; returns the decoded status."""
        deadline = time.monotonic() + timeout
        while self._read(min(deadline, time.monotonic() + 0.2)):
            if time.monotonic() >= deadline:
                self.kill()
                raise Timeout(f"QEMU still running after {timeout:.0f}s; last output:\n{self.output[-2000:]}")
        self.process.wait()
        return decode_status(self.process.returncode, self.output)

    def kill(self):
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
