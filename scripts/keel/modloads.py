"""The module-load benchmark on both kernels (scripts/bench).

Keel: the console's `modtest cycles N MODULE` loads and unloads a module N
times inside the kernel and prints per-stage medians (TSC). A boot's loads
of each module are split into KEEL_ROUNDS rounds, the modules taking turns,
and its figure is the median of the rounds' medians. One round of 100
loads lasts 15-40 ms, so on a host whose speed swings (some hosts run a
thread at half speed for 0.1-1 s at a time, docs/performance.md) all of a
boot's loads of a module could fall in one swing; Linux's 100 loads of a
module (each an exec of busybox and an RCU wait in delete_module) span
seconds and sample the swings. Spread over the boot, Keel's sample them
too.

Linux: busybox `insmod`/`rmmod` N times per module, with ftrace's
function_graph timing, kernel side, the system calls (busybox's insmod uses
finit_module) and module_sig_check; the medians of those durations. The
durations leave out time the task sleeps: delete_module waits for an RCU
grace period (about 30 ms under TCG, against 1 ms of work), which Keel's
unload has no counterpart for; finit_module does not sleep.

Each function returns the figures of one boot: the caller boots several
times, interleaving the kernels, and takes medians of these.
"""

import os
import re
import statistics
import struct

from . import machine
from .peer import KeelGuest, LinuxGuest, PeerError


class Figures(dict):
    """{key: {figure: value}} from one boot, with host_wait: the share of
    QEMU's runnable time it spent waiting for a host CPU in that boot."""

    host_wait = None


# ---- Keel -------------------------------------------------------------------

TEST_INITRAMFS = os.path.join(machine.BUILD, "tests", "modules", "test-initramfs.cpio")
STAGES = ("read", "verify", "parse", "map", "relocate", "init", "total", "unload")
MODTEST = re.compile(r"median us: read (\d+) verify (\d+) parse (\d+) map (\d+) relocate (\d+) init (\d+) total (\d+) "
                     r"unload (\d+)")
# key: (console argument, file in the build, description)
KEEL_MODULES = {
    "hello": ("hello", "modules/hello.kmod", "signed"),
    "hello unsigned": ("/lib/test/hello-unsigned.kmod", "tests/modules/work/hello-unsigned.kmod", "unsigned"),
    "provider": ("provider", "modules/provider.kmod", "signed"),
    "big": ("/lib/test/big.kmod", "tests/modules/big.kmod", "signed"),
}


KEEL_ROUNDS = 5          # rounds of loads per module and boot
KEEL_ROUND_LEAST = 10    # loads a round has at least (fewer loads, fewer rounds)


def keel_size(key):
    return os.path.getsize(os.path.join(machine.BUILD, KEEL_MODULES[key][1]))


def keel_module_loads(loads):
    """{key: {stage: median us}} over `loads` insmod+rmmod cycles of each
    module of KEEL_MODULES, all in one boot: the median of KEEL_ROUNDS
    rounds' medians (fewer rounds when `loads` is small), the modules
    taking turns."""
    rounds = max(1, min(KEEL_ROUNDS, loads // KEEL_ROUND_LEAST))
    sizes = [loads // rounds + (1 if index < loads % rounds else 0) for index in range(rounds)]
    medians = {key: [] for key in KEEL_MODULES}
    with KeelGuest(initrd=TEST_INITRAMFS, memory="512M") as guest:
        guest.start()
        for size in sizes:
            for key, (argument, _, _) in KEEL_MODULES.items():
                out = guest.run(f"modtest cycles {size} {argument}", timeout=600)
                match = MODTEST.search(out)
                if not match:
                    raise PeerError(f"Keel: modtest cycles {size} {argument} printed no medians:\n{out[-2000:]}")
                medians[key].append([int(value) for value in match.groups()])
    results = Figures({key: {stage: statistics.median(figures[index] for figures in medians[key])
                             for index, stage in enumerate(STAGES)} for key in KEEL_MODULES})
    results.host_wait = guest.host_wait
    return results


# ---- Linux ------------------------------------------------------------------

# What is timed, as results name it on every architecture; the system
# calls' entry points are named per Debian architecture (traced_functions).
LOAD = "finit_module"
SIG_CHECK = "module_sig_check"
UNLOAD = "delete_module"
TRACED = (LOAD, SIG_CHECK, UNLOAD)
SYSCALL_PREFIX = {"amd64": "__x64_sys_", "arm64": "__arm64_sys_"}
SIGNATURE_MARKER = b"~Module signature appended~\n"
TAINT_UNSIGNED_MODULE = 1 << 13     # 'E' in Linux's taint flags
# key: (module file name, signed), in load order: the unsigned load taints
# the kernel for good, so it comes last and the signed loads can show that
# their signature was accepted (no taint).
LINUX_MODULES = {
    "crc_itu_t": ("crc-itu-t", True),
    "fat": ("fat", True),
    "crc_itu_t unsigned": ("crc-itu-t", False),
}


def strip_module_signature(data):
    """A signed Linux module without its appended signature: the marker, the
    12-byte struct module_signature before it (algorithm, hash, id type,
    signer and key-id lengths, 3 pad bytes, big-endian signature length),
    and the signer, key id and signature before that."""
    if not data.endswith(SIGNATURE_MARKER) or len(data) < len(SIGNATURE_MARKER) + 12:
        raise PeerError("module has no appended signature")
    info = data[-len(SIGNATURE_MARKER) - 12:-len(SIGNATURE_MARKER)]
    signer_len, key_id_len, signature_len = info[3], info[4], struct.unpack(">I", info[8:])[0]
    end = len(data) - len(SIGNATURE_MARKER) - 12 - signature_len - signer_len - key_id_len
    if end <= 0 or data[:4] != b"\x7fELF":
        raise PeerError("module signature trailer is inconsistent")
    return data[:end]


def _guest_file(file_name, signed):
    return f"/lib/peer/{file_name}{'' if signed else '-unsigned'}.ko"


def linux_module_files(assets):
    """{guest path: host path or bytes} of the modules LINUX_MODULES needs,
    with their dependencies; and the dependencies in load order."""
    files, dependencies = {}, []
    for file_name, signed in LINUX_MODULES.values():
        for dependency in assets.module_dependencies(file_name):
            if dependency not in dependencies:
                dependencies.append(dependency)
                files[_guest_file(dependency, True)] = assets.module(dependency)
        with open(assets.module(file_name), "rb") as source:
            data = source.read()
        files[_guest_file(file_name, signed)] = data if signed else strip_module_signature(data)
    return files, dependencies


def traced_functions(arch):
    """{label in TRACED: the kernel function traced for it on Debian
    architecture `arch`}."""
    prefix = SYSCALL_PREFIX[arch]
    return {LOAD: prefix + LOAD, SIG_CHECK: SIG_CHECK, UNLOAD: prefix + UNLOAD}


def _tainted(guest):
    text = guest.run("cat /proc/sys/kernel/tainted").strip().splitlines()
    if not text or not text[-1].isdigit():
        raise PeerError(f"Linux guest: unreadable taint flags {text!r}")
    return int(text[-1])


def linux_module_loads(assets, loads, memory="512M"):
    """{key: {function: median us, "size": bytes}} over `loads` insmod+rmmod
    cycles of each module of LINUX_MODULES, all in one boot. Dependencies
    are loaded before, outside the timed loops."""
    files, dependencies = linux_module_files(assets)
    functions = traced_functions(assets.arch)
    results = Figures()
    with LinuxGuest(assets, files, memory=memory) as guest:
        guest.start()
        if _tainted(guest) & TAINT_UNSIGNED_MODULE:
            raise PeerError("Linux guest: tainted by an unsigned module before any load")
        for dependency in dependencies:
            guest.run(f"insmod {_guest_file(dependency, True)}")
        for key, (file_name, signed) in LINUX_MODULES.items():
            path = _guest_file(file_name, signed)
            module_name = key.split()[0]
            command = f"i=0; while [ $i -lt {loads} ]; do insmod {path} && rmmod {module_name} || exit 1; " \
                      "i=$((i + 1)); done"
            durations = guest.trace(functions.values(), command, timeout=60 + loads * 10, sleep_time=False)
            for function in functions.values():
                count = len(durations.get(function, []))
                if count != loads:
                    raise PeerError(f"Linux guest: {count} traced {function} calls for {loads} loads of {path}")
            unsigned_taint = _tainted(guest) & TAINT_UNSIGNED_MODULE
            if signed and unsigned_taint:
                raise PeerError(f"Linux guest: {path}'s signature was not accepted (the kernel is tainted)")
            if not signed and not unsigned_taint:
                raise PeerError(f"Linux guest: {path} loaded without the unsigned-module taint")
            results[key] = {label: statistics.median(durations[function]) for label, function in functions.items()}
            size = files[path]
            results[key]["size"] = len(size) if isinstance(size, bytes) else os.path.getsize(size)
    results.host_wait = guest.host_wait
    return results
