"""The entropy pool (docs/random.md) and virtio_rng feeding it: without a
hardware generator the pool stays unseeded and says so; with
`-device virtio-rng-pci` virtio_pci and virtio_rng load by themselves, the
pool is seeded, `random` names the source, and output never repeats;
unbinding and unloading the driver leaves the device model's counters at
their baseline."""

import re
import time

from harness import ALL_ARCHES, boot, case, check


def out_of(vm, line, timeout=120):
    return vm.command_output(line, timeout)


def wait_for(vm, command, pattern, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        out = out_of(vm, command)
        match = re.search(pattern, out)
        if match:
            return match
        check(time.monotonic() < deadline, f"`{command}` never showed {pattern!r}:\n{out}", vm)
        time.sleep(0.5)


@case
def random_unseeded_without_a_generator():
    with boot("panic=-1") as vm:
        out = out_of(vm, "random")
        check("random: not ready (fewer than 256 bits credited)" in out, f"seeded from nothing?\n{out}", vm)
        check(re.search(r"^  boot +\d+ bytes +0 bits credited", out, re.M), f"the boot's timings: {out}", vm)
        first, second = out_of(vm, "random 32").strip(), out_of(vm, "random 32").strip()
        check(re.fullmatch(r"[0-9a-f]{64}", first), f"random 32 printed {first!r}", vm)
        check(first != second, "two requests returned the same bytes", vm)
        check("usage: random" in out_of(vm, "random 257"), "random 257 was not refused", vm)


def virtio_rng_seeds_the_pool(device, transport, on=r"\S+"):
    """`device` (a QEMU virtio-rng device) autoloads `transport` and
    virtio_rng, which seeds the pool; rmmod and modprobe of virtio_rng
    leave the device model's counters where they were. `on`: a regex for
    the transport's device the virtio device must be the child of."""
    with boot("panic=-1", devices=[device]) as vm:
        wait_for(vm, "dmesg", r"random: generator seeded \(256 bits credited, the last from virtio_rng\)")
        out = out_of(vm, "random")
        check(re.search(r"^random: ready", out, re.M), f"not ready: {out}", vm)
        match = re.search(r"^  virtio_rng +(\d+) bytes +(\d+) bits credited", out, re.M)
        check(match and int(match.group(2)) >= 256 and int(match.group(2)) == 8 * int(match.group(1)),
              f"virtio_rng's credit: {out}", vm)
        lsmod = out_of(vm, "lsmod")
        check("virtio_rng" in lsmod and transport in lsmod, f"not autoloaded: {lsmod}", vm)
        log = out_of(vm, "dmesg")
        address = re.search(r"virtio_rng: (\S+): feeding the entropy pool", log).group(1)
        check(re.search(re.escape(address) + r": virtio entropy source \(type 4\) on " + on + "\n", log),
              f"{address} is not a virtio device on {on}", vm)
        samples = {out_of(vm, "random 16").strip() for _ in range(8)}
        check(len(samples) == 8, f"repeated output: {samples}", vm)
        baseline = out_of(vm, "lsdev -s")
        out = out_of(vm, "rmmod virtio_rng")
        check(re.search(r"virtio_rng: " + re.escape(address) + r": removed after \d+ bytes", out), out, vm)
        out_of(vm, "modprobe virtio_rng")
        wait_for(vm, "dmesg", r"(virtio_rng: \S+: feeding the entropy pool[\s\S]*){2}")
        check(out_of(vm, "lsdev -s") == baseline, f"counters moved:\n{baseline}\n{out_of(vm, 'lsdev -s')}", vm)


@case(arches=ALL_ARCHES)
def random_virtio_rng_seeds_the_pool():
    virtio_rng_seeds_the_pool("virtio-rng-pci", "virtio_pci")


@case(arches=("aarch64",))
def random_virtio_rng_over_mmio_seeds_the_pool():
    # QEMU puts the first -device in virt's highest virtio-mmio slot.
    virtio_rng_seeds_the_pool("virtio-rng-device", "virtio_mmio", on=r"a003e00\.virtio_mmio")
