"""Network scenarios: the protocol library running in the kernel over the
loopback host, driven from the console with Linux's ping syntax."""

import re

from harness import boot, case, check, free_pages


def heap_bytes(vm):
    match = re.search(r"heap: (\d+) bytes in (\d+) allocations", vm.command_output("mem"))
    check(match, "mem printed no heap use", vm)
    return int(match.group(1)), int(match.group(2))


@case
def net_loopback_ping_and_udp_echo():
    with boot("panic=-1") as vm:
        out = vm.command_output("ping -c 5 127.0.0.1")
        check("PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data." in out, f"ping's header line: {out}", vm)
        replies = re.findall(r"^64 bytes from 127\.0\.0\.1: icmp_seq=(\d+) ttl=64 time=\d+\.\d{3} ms$", out, re.M)
        check(replies == ["1", "2", "3", "4", "5"], f"five replies in order: {out}", vm)
        check(re.search(r"^5 packets transmitted, 5 received, 0% packet loss, time \d+ms$", out, re.M),
              f"ping's summary: {out}", vm)
        check(re.search(r"^rtt min/avg/max = [\d.]+/[\d.]+/[\d.]+ ms$", out, re.M), f"ping's rtt line: {out}", vm)

        # Any address of 127/8 answers, and big echoes fit the loopback's
        # 65535-byte MTU.
        out = vm.command_output("ping -c 2 -s 9000 127.0.0.2")
        check("2 packets transmitted, 2 received, 0% packet loss" in out, f"a 9000-byte ping: {out}", vm)
        check("9008 bytes from 127.0.0.2" in out, f"a 9000-byte ping's reply size: {out}", vm)

        out = vm.command_output("udpecho -p 7007 hello from keel")
        check(out.splitlines()[0] == "hello from keel", f"the echo: {out}", vm)
        check(re.search(r"udpecho: 15 bytes from 127\.0\.0\.1:7007 to port \d+ and back", out), f"udpecho: {out}", vm)

        # Refusals, with the reason.
        for line, expected in [("ping 10.0.2.2", "Network is unreachable"),
                               ("ping 127.0.0.256", "Name or service not known"),
                               ("ping -c 0 127.0.0.1", "usage: ping"),
                               ("ping -s 65508 127.0.0.1", "usage: ping"),
                               ("udpecho -p 0 x", "usage: udpecho")]:
            out = vm.command_output(line)
            check(expected in out, f"'{line}' should say '{expected}': {out}", vm)

        # The loopback host is made once; after that the tools leave the
        # heap and the free pages as they found them.
        heap = heap_bytes(vm)
        pages = free_pages(vm)
        for _ in range(3):
            vm.command_output("ping -c 3 -s 3000 127.0.0.1")
            vm.command_output("udpecho again")
        check(heap_bytes(vm) == heap, f"heap {heap} -> {heap_bytes(vm)}: the network tools leaked", vm)
        check(free_pages(vm) == pages, f"free pages {pages} -> {free_pages(vm)}", vm)
