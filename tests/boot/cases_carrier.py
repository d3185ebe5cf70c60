"""The carrier of a virtio-net card follows QEMU's `set_link` (QMP) at once
(docs/networking.md): the device's configuration-change notification
reaches virtio_net in thread context (KABI_VIRTIO_1.1), which tells the
netdev core (keel_netdev_set_carrier, KABI_NET_1.1); the core logs
`net: eth0: link down` / `link up` within a fraction of a second of guest
time (virtio_net no longer polls, so without the notification the change
would never be seen), `ip link` shows NO-CARRIER and state DOWN, then
LOWER_UP and state UP, `ip -s -s link` counts the transitions, and pings to
the gateway fail while the cable is out and work again after.

On x86_64 the first card interrupts through MSI-X (the configuration
vector) and the second through INTx (`vectors=0`: the ISR status byte's
configuration bit); on AArch64 the card is a virtio-net-device on
virtio-mmio (InterruptStatus bit 1, acknowledged).

A driver built before KABI_VIRTIO_1.1 (virtio_rng against an SDK whose
virtio interface stops at 1.0) binds on this core in
abi-virtio-1-0-driver-binds-on-current-core (tests/boot/cases_abi.py).

Nothing leaves the machine: the user networks run with restrict=on and
have no forwards."""

import re
import threading
import time

from cases_devices import counters, out_of, wait_log
from cases_vnet import GATEWAY, KEYS, MAC, configure, load_ipv4, wait_eth
from harness import ARCH, boot, case, check, free_pages

SECOND_MAC = "52:54:00:ab:cd:02"
# Guest seconds from just before the QMP command to the core's log line. A
# poll of the old kind (every second) would average 0.5 s and often exceed
# this; the notification takes a few milliseconds.
PROMPT_SECONDS = 0.3


def cards(arch, second=True):
    """QEMU options: n0 (MAC) and, on x86_64 when `second`, n1 (SECOND_MAC,
    INTx only)."""
    if arch == "aarch64":
        return ["-netdev", "user,id=n0,restrict=on", "-device", f"virtio-net-device,netdev=n0,mac={MAC}"]
    options = ["-netdev", "user,id=n0,restrict=on", "-device", f"virtio-net-pci,netdev=n0,mac={MAC}"]
    if second:
        options += ["-netdev", "user,id=n1,restrict=on",
                    "-device", f"virtio-net-pci,netdev=n1,mac={SECOND_MAC},vectors=0"]
    return options


def guest_seconds(vm):
    match = re.search(r"up (\d+\.\d+) s", out_of(vm, "uptime"))
    check(match, "uptime printed no time", vm)
    return float(match.group(1))


def set_link(vm, netdev, device, up):
    """Pulls (or plugs back) the cable of `netdev` and returns how many guest
    seconds passed until the core logged the change for `device`."""
    word = "up" if up else "down"
    before = len(re.findall(rf"net: {device}: link {word}\n", out_of(vm, "dmesg")))
    start = guest_seconds(vm)
    vm.qmp("set_link", name=netdev, up=up)
    pattern = rf"\[ *(\d+\.\d+)\] net: {device}: link {word}\n"
    wait_log(vm, r"(%s[\s\S]*){%d}" % (pattern, before + 1), timeout=30)
    stamps = re.findall(pattern, out_of(vm, "dmesg"))
    check(len(stamps) == before + 1, f"{device}: link {word} logged {len(stamps) - before} times, not once", vm)
    return float(stamps[-1]) - start


def config_vector_count(vm):
    """Interrupts of the MSI-X card's configuration vector (vector 0), or
    None where there is none (AArch64's virtio-mmio card)."""
    match = re.search(r"MSI-X \S+ msix0 +(\d+) irqs", out_of(vm, "lsdev -i"))
    return int(match.group(1)) if match else None


def flap(vm, stop):
    """set_link n0 off and on, a few milliseconds apart, until `stop`."""
    up = False
    while not stop.is_set():
        vm.qmp("set_link", name="n0", up=up)
        up = not up
        time.sleep(0.003)


def link_line(vm, device):
    out = out_of(vm, f"ip link show {device}")
    match = re.search(rf"^\d+: {device}: <([A-Z_,-]+)> mtu \d+ qdisc noqueue state (\w+)", out, re.M)
    check(match, f"ip link show {device}: {out}", vm)
    return match.group(1), match.group(2)


def transitions(vm, device):
    out = out_of(vm, f"ip -s -s link show {device}")
    match = re.search(r"TX errors: aborted +fifo +window +heartbt +transns\n +0 +0 +0 +0 +(\d+)", out)
    check(match, f"ip -s -s link show {device}: no TX errors line: {out}", vm)
    return int(match.group(1))


def ping(vm, count):
    out = out_of(vm, f"ping -c {count} -i 0.2 {GATEWAY}", timeout=60)
    match = re.search(rf"^{count} packets transmitted, (\d+) received", out, re.M)
    check(match, f"ping: {out}", vm)
    return int(match.group(1))


def cable_out_and_back(vm, netdev, device, with_ping):
    out_of(vm, f"ip link set {device} up")
    check(link_line(vm, device) == ("BROADCAST,UP,LOWER_UP", "UP"), f"{device} before", vm)
    changes = transitions(vm, device)
    if with_ping:
        check(ping(vm, 3) == 3, "pings before the cable was pulled were lost", vm)

    took = set_link(vm, netdev, device, False)
    check(took < PROMPT_SECONDS, f"{device}: link down logged {took:.3f} s after set_link", vm)
    check(link_line(vm, device) == ("NO-CARRIER,BROADCAST,UP", "DOWN"), f"{device} without a carrier", vm)
    check(transitions(vm, device) == changes + 1, f"{device}: the loss was not counted", vm)
    if with_ping:
        check(ping(vm, 3) == 0, "pings went through without a carrier", vm)

    took = set_link(vm, netdev, device, True)
    check(took < PROMPT_SECONDS, f"{device}: link up logged {took:.3f} s after set_link", vm)
    check(link_line(vm, device) == ("BROADCAST,UP,LOWER_UP", "UP"), f"{device} with its carrier back", vm)
    check(transitions(vm, device) == changes + 2, f"{device}: the return was not counted", vm)
    if with_ping:
        check(ping(vm, 3) == 3, "pings after the cable was back were lost", vm)


@case(arches=("x86_64", "aarch64"))
def vnet_carrier_follows_set_link_at_once():
    """set_link off/on: logged at once, ip link's NO-CARRIER and LOWER_UP,
    transitions counted, pings lost and back (docstring of the file)."""
    with boot("panic=-1", extra=cards(ARCH), qmp=True) as vm:
        wait_eth(vm)
        load_ipv4(vm)
        configure(vm)
        notifications = config_vector_count(vm)
        cable_out_and_back(vm, "n0", "eth0", with_ping=True)
        if vm.arch == "x86_64":
            # Both changes came through the configuration vector.
            check(config_vector_count(vm) == notifications + 2, "the MSI-X configuration vector did not count 2", vm)
            second = wait_eth(vm, "eth1")
            check(second.group(2) == SECOND_MAC, f"eth1 is not the INTx card: {second.group(0)}", vm)
            check(re.search(r"virtio_pci: \S+: virtio type 1[^,\n]*, \d+ queue\(s\), 1 INTx interrupt",
                            out_of(vm, "dmesg")), "the second card does not use INTx", vm)
            cable_out_and_back(vm, "n1", "eth1", with_ping=False)
        # The poll is gone: nothing about the link from the driver itself.
        check(not re.search(r"virtio_net: \S+: link (up|down)", out_of(vm, "dmesg")), "virtio_net polled", vm)


@case(arches=("x86_64", "aarch64"))
def vnet_carrier_changes_during_unbind_leave_the_baseline():
    """The cable pulled and plugged back while virtio_net is unloaded and
    loaded again: each binding reads the link it finds (NO-CARRIER when it
    binds with the cable out); then the cable flaps every few milliseconds
    through three more unload/load cycles, so notifications race remove()
    and probe (a callback after remove() would reach a freed netdev); the
    link ends up as the cable is, and the device model's counters and the
    heap end where they began."""
    with boot("panic=-1", extra=cards(ARCH, second=False), qmp=True) as vm:
        wait_eth(vm)
        baseline, pages = counters(vm), free_pages(vm)
        for cycle in range(3):
            up = cycle % 2 == 1
            vm.qmp("set_link", name="n0", up=False)
            out = out_of(vm, "rmmod virtio_net")
            check(re.search(r"virtio_net: virtio\d+: eth0 removed after", out), f"cycle {cycle}: rmmod: {out}", vm)
            vm.qmp("set_link", name="n0", up=up)
            out_of(vm, "modprobe virtio_net")
            wait_log(vm, r"(virtio_net: virtio\d+: eth0: [\s\S]*){%d}" % (cycle + 2))
            out_of(vm, "ip link set eth0 up")
            flags, state = link_line(vm, "eth0")
            want = ("BROADCAST,UP,LOWER_UP", "UP") if up else ("NO-CARRIER,BROADCAST,UP", "DOWN")
            check((flags, state) == want, f"cycle {cycle}: eth0 is {flags} {state}, not {want}", vm)
        # Notifications racing remove(): the cable flaps every few
        # milliseconds while the driver goes and comes back.
        stop = threading.Event()
        flapper = threading.Thread(target=flap, args=(vm, stop), daemon=True)
        flapper.start()
        try:
            for cycle in range(3):
                out = out_of(vm, "rmmod virtio_net")
                check(re.search(r"virtio_net: virtio\d+: eth0 removed after", out), f"flapping: rmmod: {out}", vm)
                out_of(vm, "modprobe virtio_net")
                wait_log(vm, r"(virtio_net: virtio\d+: eth0: [\s\S]*){%d}" % (cycle + 5))
        finally:
            stop.set()
            flapper.join()
        # The flapper's last command may already have plugged the cable in
        # before the last bind, so set_link up may change nothing and log
        # nothing: wait for the state, not for a line.
        vm.qmp("set_link", name="n0", up=True)
        out_of(vm, "ip link set eth0 up")
        deadline = time.monotonic() + 30
        while link_line(vm, "eth0") != ("BROADCAST,UP,LOWER_UP", "UP") and time.monotonic() < deadline:
            time.sleep(0.1)
        check(link_line(vm, "eth0") == ("BROADCAST,UP,LOWER_UP", "UP"), "eth0 after the flapping", vm)
        after = counters(vm)
        for key in KEYS:
            check(after.get(key) == baseline.get(key), f"{key}: {baseline.get(key)} -> {after.get(key)}", vm)
        check(free_pages(vm) >= pages, f"free pages {pages} -> {free_pages(vm)}", vm)
