"""The protocol modules (inet, icmp, udp, tcp) unloaded and loaded again
while traffic arrives (docs/networking.md, "The protocol modules"): the
host floods UDP at a closed port (answered with port unreachable while icmp
is loaded) and keeps opening TCP connections to a port nobody listens on
(answered with a reset while tcp is loaded, with protocol unreachable while
only icmp is), while the console unloads tcp, udp and icmp and loads them
again 100 times. Each removal from inet's protocol table waits for a
running input, so none may run in an unloaded module; afterwards the
device model's counters, the heap and the free pages are where they were,
and the stack still works.

Nothing leaves the machine: the user network runs with restrict=on and
forwards from 127.0.0.1 only."""

import re
import socket
import threading

from cases_devices import counters, out_of
from cases_vnet import GATEWAY, IPV4_MODULES, KEYS, MAC, configure, flood, free_udp_port, load_ipv4, wait_eth
from harness import boot, case, check, free_pages

CYCLES = 100


def connect_repeatedly(port, stop, attempts):
    """TCP connections through the forward until `stop`; each is refused
    or reset (nobody listens), counted in attempts[0]."""
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as connection:
                connection.recv(1)
        except OSError:
            pass
        attempts[0] += 1


@case
def protocols_cycle_100_times_under_traffic_keep_the_baseline():
    """See the file's docstring."""
    udp_port = free_udp_port()
    tcp_port = free_udp_port()
    extra = ["-netdev", f"user,id=n0,restrict=on,hostfwd=udp:127.0.0.1:{udp_port}-:9"
             f",hostfwd=tcp:127.0.0.1:{tcp_port}-:9",
             "-device", f"virtio-net-pci,netdev=n0,mac={MAC}"]
    with boot("panic=-1", extra=extra) as vm:
        wait_eth(vm)
        load_ipv4(vm)
        configure(vm)
        out = out_of(vm, f"ping -c 2 -i 0.1 {GATEWAY}", timeout=60)
        check("2 packets transmitted, 2 received" in out, f"ping before: {out}", vm)
        baseline, pages = counters(vm), free_pages(vm)
        stop = threading.Event()
        attempts = [0]
        threads = [threading.Thread(target=flood, args=(udp_port, stop), daemon=True),
                   threading.Thread(target=connect_repeatedly, args=(tcp_port, stop, attempts), daemon=True)]
        for thread in threads:
            thread.start()
        try:
            for cycle in range(CYCLES):
                for module in reversed(IPV4_MODULES):
                    out = out_of(vm, f"rmmod {module}")
                    check("ERROR" not in out, f"cycle {cycle}: rmmod {module}: {out}", vm)
                for module in IPV4_MODULES:
                    out = out_of(vm, f"insmod {module}")
                    check("ERROR" not in out, f"cycle {cycle}: insmod {module}: {out}", vm)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        check(attempts[0] >= 5, f"only {attempts[0]} TCP connections were tried", vm)
        out = out_of(vm, "ip -s link show eth0")
        rx = int(re.search(r"RX:.*\n\s+\d+\s+(\d+)", out).group(1))
        check(rx > CYCLES, f"the traffic did not arrive: {out}", vm)
        # The stack still works: eth0 kept its address (inet stayed).
        out = out_of(vm, f"ping -c 2 -i 0.1 {GATEWAY}", timeout=60)
        check("2 packets transmitted, 2 received" in out, f"ping after the cycles: {out}", vm)
        after = counters(vm)
        for key in KEYS:
            check(after.get(key) == baseline.get(key), f"{key}: {baseline.get(key)} -> {after.get(key)}", vm)
        check(free_pages(vm) >= pages, f"free pages {pages} -> {free_pages(vm)}", vm)
