"""ping's wait for its reply (docs/networking.md, "icmp.kmod"): the
waiting thread blocks on a completion that icmp's receive path completes
(keel_completion_wait_timeout, KABI_CORE_1.2), so a reply wakes it at once
and a request nobody answers ends after the timeout; the wait itself is
checked by tests/modules/waittest.c."""

import re

from cases_devices import out_of, wait_log
from cases_vnet import GATEWAY, configure, load_ipv4, wait_eth
from harness import ALL_ARCHES, ARCH, TEST_INITRAMFS, boot, case, check

SILENT = "10.0.2.77"  # on the user network's subnet; nothing answers for it


def user_net():
    """A restricted user network with the card virtio_net binds: PCI on
    x86_64, virtio-mmio on AArch64 (as cases_udp)."""
    card = "virtio-net-device" if ARCH == "aarch64" else "virtio-net-pci"
    return ["-netdev", "user,id=n0,restrict=on", "-device", f"{card},netdev=n0"]


@case(arches=ALL_ARCHES)
def icmp_ping_blocks_until_its_reply_or_the_timeout():
    with boot("panic=-1", initrd=TEST_INITRAMFS, extra=user_net()) as vm:
        out = out_of(vm, "insmod /lib/test/waittest.kmod")
        check("ERROR" not in out, f"insmod waittest: {out}", vm)
        line = wait_log(vm, r"waittest: zero (-?\d+) in (\d+) us, timeout (-?\d+) in (\d+) us, done (-?\d+) in "
                            r"(\d+) us, woken (-?\d+) in (\d+) us")
        zero, _, timed_out, timed_out_us, done, _, woken, woken_us = (int(value) for value in line.groups())
        check(zero == -110 and timed_out == -110 and timed_out_us >= 20000 and done == 0 and woken == 0
              and 5000 <= woken_us < 1000000, f"waittest: {line.group(0)}", vm)

        wait_eth(vm)
        load_ipv4(vm)
        configure(vm)
        # Through lo: the reply comes from the receive thread, which wakes
        # the waiter (no request, no wait is left behind).
        out = out_of(vm, "ping -c 3 -i 0 127.0.0.1")
        check(re.search(r"^3 packets transmitted, 3 received, 0% packet loss, time \d+ms$", out, re.M),
              f"ping 127.0.0.1: {out}", vm)
        out = out_of(vm, f"ping -c 10 -i 0.1 {GATEWAY}", timeout=60)
        check(re.search(r"^10 packets transmitted, 10 received, 0% packet loss, time \d+ms$", out, re.M),
              f"ping {GATEWAY}: {out}", vm)
        check(len(re.findall(r"^64 bytes from 10\.0\.2\.2: icmp_seq=\d+ ttl=\d+ time=\d+\.\d{3} ms$", out, re.M)) == 10,
              f"reply lines: {out}", vm)
        check(re.search(r"^rtt min/avg/max = [\d.]+/[\d.]+/[\d.]+ ms$", out, re.M), f"no rtt line: {out}", vm)
        # Nobody answers: each request waits its whole second, then the
        # next goes; Linux's summary without an rtt line.
        out = out_of(vm, f"ping -c 2 -i 0.1 {SILENT}", timeout=60)
        match = re.search(r"^2 packets transmitted, 0 received, 100% packet loss, time (\d+)ms$", out, re.M)
        check(match and 2000 <= int(match.group(1)) < 4000, f"ping {SILENT}: {out}", vm)
        check("rtt min/avg/max" not in out and "bytes from" not in out, f"ping {SILENT} printed replies: {out}", vm)
        # The gateway still answers after the timeouts, and icmp unloads
        # with no waiter left (its exit would find one).
        out = out_of(vm, f"ping -c 2 -i 0.1 {GATEWAY}", timeout=60)
        check("2 packets transmitted, 2 received, 0% packet loss" in out, f"ping after the timeouts: {out}", vm)
        out = out_of(vm, "rmmod icmp")
        check("ERROR" not in out and not re.search(r"^icmp ", out_of(vm, "lsmod"), re.M), f"rmmod icmp: {out}", vm)
        out = out_of(vm, "insmod icmp")
        check("ERROR" not in out, f"insmod icmp again: {out}", vm)
        out = out_of(vm, f"ping -c 1 {GATEWAY}", timeout=60)
        check("1 packets transmitted, 1 received" in out, f"ping after reloading icmp: {out}", vm)
