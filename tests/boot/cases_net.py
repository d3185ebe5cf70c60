"""Network scenarios: the netdev core (lo, ip link, the ethertype table,
device references) and the protocol modules (inet, icmp, udp, tcp) over lo, driven
from the console with Linux's ping syntax."""

import re
import time

from cases_devices import wait_log
from harness import TEST_INITRAMFS, boot, case, check, free_pages


def heap_bytes(vm):
    match = re.search(r"heap: (\d+) bytes in (\d+) allocations", vm.command_output("mem"))
    check(match, "mem printed no heap use", vm)
    return int(match.group(1)), int(match.group(2))


@case
def net_loopback_ping_and_udp_echo():
    with boot("panic=-1") as vm:
        # Without the protocols the tools say what is missing.
        heap = heap_bytes(vm)
        pages = free_pages(vm)
        out = vm.command_output("ping -c 1 127.0.0.1")
        check("ping: icmp is not loaded (insmod icmp)" in out, f"ping without icmp: {out}", vm)
        out = vm.command_output("udpecho x")
        check("udpecho: udp is not loaded (insmod udp)" in out, f"udpecho without udp: {out}", vm)
        out = vm.command_output("ip addr")
        check("inet " not in out and "1: lo: <LOOPBACK,UP,LOWER_UP>" in out, f"ip addr without inet: {out}", vm)
        check(vm.command_output("ip route").strip() == "", "ip route without inet lists nothing", vm)
        # icmp and udp need inet (DT_NEEDED): loading icmp loads inet first.
        out = vm.command_output("insmod icmp")
        check("ERROR" not in out and "inet: 127.0.0.1/8 on lo" in vm.command_output("dmesg"), f"insmod icmp: {out}",
              vm)
        out = vm.command_output("insmod udp")
        check("ERROR" not in out, f"insmod udp: {out}", vm)
        out = vm.command_output("ip addr show lo")
        check(re.search(r"^1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65535 qdisc noqueue state UNKNOWN group default "
                        r"qlen 256\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
                        r"    inet 127\.0\.0\.1/8 scope host lo\n       valid_lft forever preferred_lft forever$",
                        out, re.M), f"ip addr show lo: {out}", vm)
        out = vm.command_output("ip route")
        check("127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1" in out, f"ip route: {out}", vm)
        check("Device \"eth7\" does not exist." in vm.command_output("ip addr show eth7"), "ip addr of nothing", vm)
        out = vm.command_output("ping -c 5 127.0.0.1")
        check("PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data." in out, f"ping's header line: {out}", vm)
        replies = re.findall(r"^64 bytes from 127\.0\.0\.1: icmp_seq=(\d+) ttl=64 time=\d+\.\d{3} ms$", out, re.M)
        check(replies == ["1", "2", "3", "4", "5"], f"five replies in order: {out}", vm)
        check(re.search(r"^5 packets transmitted, 5 received, 0% packet loss, time \d+ms$", out, re.M),
              f"ping's summary: {out}", vm)
        check(re.search(r"^rtt min/avg/max = [\d.]+/[\d.]+/[\d.]+ ms$", out, re.M), f"ping's rtt line: {out}", vm)

        # Any address of 127/8 answers, and big echoes fit the loopback's
        # 65535-byte MTU.
        # One request a second by default, -i INTERVAL otherwise, as Linux.
        match = re.search(r"5 packets transmitted, 5 received, 0% packet loss, time (\d+)ms", out)
        check(match and 4000 <= int(match.group(1)) < 4800, f"five pings a second apart: {out}", vm)
        out = vm.command_output("ping -c 3 -i 0.25 127.0.0.1")
        match = re.search(r"3 packets transmitted, 3 received, 0% packet loss, time (\d+)ms", out)
        check(match and 500 <= int(match.group(1)) < 900, f"-i 0.25: {out}", vm)
        out = vm.command_output("ping -c 2 -i 0 -s 9000 127.0.0.2")
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
                               ("ping -i 0.0001 127.0.0.1", "usage: ping"),
                               ("ping -i 61 127.0.0.1", "usage: ping"),
                               ("ping -i x 127.0.0.1", "usage: ping"),
                               ("udpecho -p 0 x", "usage: udpecho")]:
            out = vm.command_output(line)
            check(expected in out, f"'{line}' should say '{expected}': {out}", vm)

        # The frames went through the netdev core's lo.
        out = vm.command_output("ip -s -d link show lo")
        check("holders 1 first inet" in out, f"inet holds lo: {out}", vm)
        rx_packets = int(re.search(r"RX:.*\n\s+\d+\s+(\d+)", out).group(1))
        check(rx_packets >= 2 * (5 + 2) + 2, f"lo received the echoes and the datagrams: {out}", vm)

        # Repeated use leaves the heap and the free pages where they were,
        # and so does unloading inet: back to the boot's baseline.
        loaded_heap = heap_bytes(vm)
        loaded_pages = free_pages(vm)
        for _ in range(3):
            vm.command_output("ping -c 3 -i 0.01 -s 3000 127.0.0.1")
            vm.command_output("udpecho again")
        check(heap_bytes(vm) == loaded_heap, f"heap {loaded_heap} -> {heap_bytes(vm)}: the network tools leaked", vm)
        check(free_pages(vm) == loaded_pages, f"free pages {loaded_pages} -> {free_pages(vm)}", vm)
        for _ in range(3):
            # inet cannot go while the protocols that need it are loaded,
            # and says which they are.
            out = vm.command_output("rmmod inet")
            check("EBUSY" in out and re.search(r"inet: in use by (icmp, udp|udp, icmp)", out),
                  f"rmmod inet under icmp and udp: {out}", vm)
            for module in ("udp", "icmp", "inet"):
                out = vm.command_output(f"rmmod {module}")
                check("ERROR" not in out, f"rmmod {module}: {out}", vm)
            check("holders 0" in vm.command_output("ip -d link show lo"), "lo still held after rmmod inet", vm)
            for module in ("icmp", "udp"):
                out = vm.command_output(f"insmod {module}")
                check("ERROR" not in out, f"insmod {module} again: {out}", vm)
            out = vm.command_output("ping -c 1 127.0.0.1")
            check("1 packets transmitted, 1 received, 0% packet loss" in out, f"ping after reloading inet: {out}", vm)
            out = vm.command_output("udpecho again")
            check(out.splitlines()[0] == "again", f"udpecho after reloading udp: {out}", vm)
        # 100 loads and unloads of each protocol inside the kernel (inet
        # stays while they cycle), then of inet alone: pages and heap
        # exactly kept.
        vm.command_output("rmmod udp")
        vm.command_output("rmmod icmp")
        for module in ("icmp", "udp", "tcp"):
            out = vm.command_output(f"modtest cycles 100 {module}", timeout=240)
            check(re.search(rf"modtest: 100 cycles of {module} .*: PASS", out), f"modtest {module}: {out}", vm)
        vm.command_output("rmmod inet")
        out = vm.command_output("modtest cycles 100 inet", timeout=240)
        check(re.search(r"modtest: 100 cycles of inet .*: PASS", out), f"modtest: {out}", vm)
        check("holders 0" in vm.command_output("ip -d link show lo"), "lo held after 100 inet cycles", vm)
        check(heap_bytes(vm) == heap, f"heap {heap} -> {heap_bytes(vm)} after rmmod inet", vm)
        check(free_pages(vm) == pages, f"free pages {pages} -> {free_pages(vm)} after rmmod inet", vm)


def dmesg_lines(vm, needle):
    return [line for line in vm.command_output("dmesg").splitlines() if needle in line]


def first_index(lines, text):
    for number, line in enumerate(lines):
        if text in line:
            return number
    return -1


@case
def net_netdev_lo_and_ip_link():
    with boot("panic=-1") as vm:
        out = vm.command_output("ip link")
        check(re.search(r"^1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65535 qdisc noqueue state UNKNOWN mode DEFAULT "
                        r"group default qlen 256$", out, re.M), f"ip link's lo line: {out}", vm)
        check("    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00" in out, f"lo's link line: {out}", vm)
        out = vm.command_output("ip -s link show lo")
        check(re.search(r"RX:  bytes packets errors dropped", out), f"ip -s link: {out}", vm)
        check("Device \"eth9\" does not exist." in vm.command_output("ip link show eth9"), "unknown device", vm)
        check("Cannot find device \"eth9\"" in vm.command_output("ip link set eth9 up"), "set on unknown device", vm)
        check("Usage: ip" in vm.command_output("ip link set lo sideways"), "ip link set usage", vm)
        check("Object \"bogus\" is unknown" in vm.command_output("ip bogus"), "unknown object", vm)
        vm.command_output("ip link set lo down")
        check("state DOWN" in vm.command_output("ip link show lo"), "lo down", vm)
        vm.command_output("ip link set lo up")
        check("state UNKNOWN" in vm.command_output("ip link show lo"), "lo up again", vm)


@case
def net_ethertype_unregister_waits_for_running_handler():
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        # The baseline after autoload's index, which the kmodprobe thread
        # builds (and keeps) beside the console.
        wait_log(vm, r"autoload: \d+ driver module\(s\) indexed")
        heap = heap_bytes(vm)
        pages = free_pages(vm)
        out = vm.command_output("insmod /lib/test/nettest.kmod frames=2 hold_ms=1500")
        check("insmod: ERROR" not in out, f"insmod nettest: {out}", vm)
        # lo is referenced by nettest while it is loaded.
        out = vm.command_output("ip -d link show lo")
        check(re.search(r"holders [12] first nettest$", out, re.M), f"lo's holders: {out}", vm)
        # rmmod while the handler sleeps inside the first frame: the
        # unregister must wait until both frames have left the handler.
        out = vm.command_output("rmmod nettest", timeout=30)
        check("ERROR" not in out, f"rmmod nettest: {out}", vm)
        lines = dmesg_lines(vm, "nettest:")
        check(any("second register of 0x88b5: -17" in line for line in lines), f"EEXIST: {lines}", vm)
        # Ops tables are checked by their {size, version} header first.
        check(any("version 99 config: -22" in line for line in lines), f"a future version: {lines}", vm)
        check(any("16-byte config: -22" in line for line in lines), f"a short table: {lines}", vm)
        log = vm.command_output("dmesg")
        check("net: device refused: version 99 is not supported (1..1)" in log, "the refusal names the version", vm)
        check("net: device refused: size 16 is too small" in log, "the refusal names the size", vm)
        entered = first_index(lines, "handler entered frame 1 (46 bytes)")
        unregistering = first_index(lines, "unregistering 0x88b5")
        left = first_index(lines, "handler left frame 1")
        done = first_index(lines, "unregistered 0x88b5 (0)")
        check(0 <= entered < unregistering < left < done, f"the order of events: {lines}", vm)
        # The second frame was queued before the unregister began: either it
        # ran to the end before, or it was never entered; never half.
        check(re.search(r"unregistered 0x88b5 \(0\): (\d+) entered, \1 left", lines[done]),
              f"every entered handler left before unregister returned: {lines[done]}", vm)
        check("holders 0" in vm.command_output("ip -d link show lo"), "lo's references after rmmod", vm)
        # Everything the module and the frames took is back.
        check(heap_bytes(vm) == heap, f"heap {heap} -> {heap_bytes(vm)}: nettest leaked", vm)
        check(free_pages(vm) == pages, f"free pages {pages} -> {free_pages(vm)}", vm)


def thread_names(vm):
    return [line.split()[1] for line in vm.command_output("threads").splitlines()[1:] if len(line.split()) > 2]


@case
def net_what_a_module_leaves_behind_is_swept():
    """tests/modules/nettest.c: an ethertype handler left registered at exit
    is removed by the loader (the type can be registered again); a thread
    the module never joined is reaped when it has finished, and while it
    still runs the module's memory stays mapped under it. inettest.c and
    inetpeer.c: what a module leaves in inet's tables goes with it."""
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        wait_log(vm, r"autoload: \d+ driver module\(s\) indexed")
        check("insmod: ERROR" not in vm.command_output("insmod /lib/test/nettest.kmod frames=0 careless=1"),
              "insmod nettest careless=1", vm)
        out = vm.command_output("rmmod nettest")
        check("nettest: removing ethertype handler 0x88b5 it left registered" in out, f"the sweep: {out}", vm)
        out = vm.command_output("insmod /lib/test/nettest.kmod frames=1")
        check("ready, 1 frame(s) sent, 1 handled" in out, f"0x88b5 after the sweep: {out}", vm)
        vm.command_output("rmmod nettest")

        threads = thread_names(vm)
        vm.command_output("insmod /lib/test/nettest.kmod frames=0 stray=2")
        time.sleep(0.3)
        out = vm.command_output("rmmod nettest")
        check("still runs" not in out and "nettest: unloaded" in out, f"a finished stray thread: {out}", vm)
        check(thread_names(vm) == threads, f"the finished thread was not reaped: {thread_names(vm)}", vm)

        vm.command_output("insmod /lib/test/nettest.kmod frames=0 stray=1")
        out = vm.command_output("rmmod nettest")
        check(re.search(r"nettest: thread nettest-stray still runs its code: its \d+ KiB stay mapped", out),
              f"a running stray thread: {out}", vm)
        # It goes on waking in the module's code every 10 ms: the kernel
        # lives on, and the thread with it.
        time.sleep(1)
        check("nettest-stray" in thread_names(vm), "the stray thread is gone", vm)
        check("nettest" not in vm.command_output("lsmod"), "nettest is still listed", vm)

        # Tables other modules keep: inettest careless=1 leaves IP protocol
        # 253 registered with inet, and a module watch with the loader.
        # Each goes with it, and 253 can be registered again.
        out = vm.command_output("insmod /lib/test/inettest.kmod datagrams=1 careless=1")
        check(any("1 of 1 datagrams of 253 received" in line for line in dmesg_lines(vm, "inettest:")),
              f"insmod inettest careless=1: {out}", vm)
        vm.command_output("insmod hello")
        out = vm.command_output("rmmod hello")
        check("inettest: saw hello go" in vm.command_output("dmesg"), f"the watch did not see hello go: {out}", vm)
        out = vm.command_output("rmmod inettest")
        check("inettest: removing 1 module watch(es) it left registered" in out, f"the loader's sweep: {out}", vm)
        check("inet: removing IP protocol 253 that inettest left registered" in out, f"inet's sweep: {out}", vm)
        check(out.count("left registered") == 2, f"inettest left more than 253 and its watch: {out}", vm)
        vm.command_output("insmod hello")
        vm.command_output("rmmod hello")
        check(vm.command_output("dmesg").count("inettest: saw hello go") == 1, "the watch outlived inettest", vm)
        out = vm.command_output("insmod /lib/test/inettest.kmod datagrams=2")
        check(any("2 of 2 datagrams of 253 received" in line for line in dmesg_lines(vm, "inettest:")),
              f"253 after the sweep: {out}", vm)
        # Calls a module left set on another module's entry, which stays:
        # inetpeer sets a writable and an ICMP reporter of its own on
        # inettest's 254 and leaves them. inet clears them as inetpeer
        # goes; an ICMP error about 254 then finds no reporter, where it
        # would have called inetpeer's freed code.
        vm.command_output("rmmod inettest")
        vm.command_output("insmod /lib/test/inettest.kmod datagrams=0 peer=1")
        out = vm.command_output("insmod /lib/test/inetpeer.kmod")
        check("inetpeer: set on inettest-254: writable 0, reports 0; delivered 0" in out
              and "inetpeer: an ICMP error (type 3, code 2) about protocol 254" in out, f"insmod inetpeer: {out}", vm)
        check("EBUSY" in vm.command_output("rmmod inettest"), "inettest went under inetpeer's reference", vm)
        out = vm.command_output("rmmod inetpeer")
        check("inet: clearing the calls inetpeer left set on IP protocol 254" in out, f"inet's sweep: {out}", vm)
        out = vm.command_output("rmmod inettest")
        check("inettest: an ICMP error about 254: -2; removed 254 (0)" in out, f"254 after the sweep: {out}", vm)
        vm.command_output("insmod /lib/test/inettest.kmod datagrams=0")
        for module in ("inettest", "inet"):
            out = vm.command_output(f"rmmod {module}")
            check("ERROR" not in out and "left registered" not in out, f"rmmod {module}: {out}", vm)


@case
def net_stuck_unregister_names_its_holder():
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        out = vm.command_output("insmod /lib/test/nettest.kmod frames=0 stuck_ms=7000")
        check("insmod: ERROR" not in out, f"insmod nettest: {out}", vm)
        out = vm.command_output("ip -d link show nettest0")
        check(re.search(r"^2: nettest0: <BROADCAST> mtu 1500 qdisc noqueue state DOWN ", out, re.M),
              f"nettest0 listed, down: {out}", vm)
        check("    link/ether 02:00:00:00:00:42 brd ff:ff:ff:ff:ff:ff" in out, f"nettest0's address: {out}", vm)
        check("holders 1 first nettest-late" in out, f"nettest0's holder: {out}", vm)
        out = vm.command_output("rmmod nettest", timeout=30)
        check("ERROR" not in out, f"rmmod nettest: {out}", vm)
        lines = dmesg_lines(vm, "nettest0")
        check(any("unregister waits for holder nettest-late" in line for line in lines),
              f"the stuck unregister names its holder: {lines}", vm)
        check(any("nettest0 unregistered" in line for line in lines), f"nettest0 went away: {lines}", vm)
        check("does not exist" in vm.command_output("ip link show nettest0"), "nettest0 still listed", vm)


@case
def net_protocol_exports_are_hash_checked():
    """inet's, icmp's and udp's exports carry hashes from their interface
    descriptions (modules/*/NAME.toml): the protocol modules and inettest,
    built against them, load without a "not hash-checked" warning, and
    inetskew, built against another keel_inet_is_local, is refused naming
    the symbol and both declarations."""
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        for module in ("inet", "icmp", "udp", "tcp"):
            out = vm.command_output(f"insmod {module}")
            check("ERROR" not in out, f"insmod {module}: {out}", vm)
        out = vm.command_output("insmod /lib/test/inettest.kmod datagrams=1")
        check("ERROR" not in out, f"insmod inettest: {out}", vm)
        log = vm.command_output("dmesg")
        check("hash-checked" not in log, f"an import from a module was not hash-checked:\n{log[-2000:]}", vm)
        out = vm.command_output("insmod /lib/test/inetskew.kmod")
        expected = re.search(
            r"inetskew: disagrees about the version of symbol keel_inet_is_local@KABI_INET_1\.3: module has hash "
            r"0x[0-9a-f]{16} \(function keel_inet_is_local\(uint64_t\)->int32_t\), inet has 0x[0-9a-f]{16} "
            r"\(function keel_inet_is_local\(uint32_t\)->int32_t\)", out)
        check(expected and "EINVAL" in out, f"insmod inetskew: {out}", vm)
        check("inetskew" not in vm.command_output("lsmod"), "inetskew is loaded", vm)
        out = vm.command_output("ping -c 1 -i 0 127.0.0.1")
        check("1 packets transmitted, 1 received" in out, f"inet still works: {out}", vm)


@case
def net_inet_protocol_table_and_its_users():
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        # The baseline after autoload's index, as in the ethertype case: the
        # kmodprobe thread builds it beside the console (a baseline read
        # before it made the heap check fail now and then).
        wait_log(vm, r"autoload: \d+ driver module\(s\) indexed")
        heap = heap_bytes(vm)
        pages = free_pages(vm)
        # udp takes protocol 17 in inet's table (and loads inet first, its
        # DT_NEEDED); inettest needs inet too.
        for module in ("udp", "icmp"):
            out = vm.command_output(f"insmod {module}")
            check("ERROR" not in out, f"insmod {module}: {out}", vm)
        out = vm.command_output("insmod /lib/test/inettest.kmod datagrams=5")
        check("ERROR" not in out, f"insmod inettest: {out}", vm)
        lines = dmesg_lines(vm, "inettest:")
        check(any("register 253 again: -17, 17: -17" in line for line in lines), f"EEXIST: {lines}", vm)
        check(any("5 of 5 datagrams of 253 received, 60 bytes" in line for line in lines),
              f"the datagrams went through lo to the handler: {lines}", vm)
        # A core packet taken over (KABI_INET_1.5): EINVAL for none and for
        # too little headroom, EMSGSIZE, ENETUNREACH, then one that arrives;
        # the heap check below says the refused ones were freed.
        check(any("transmit_pkt: null -22, headroom -22, size -90, route -101, sent 0, received 1" in line
                  for line in lines), f"keel_inet_transmit_pkt: {lines}", vm)
        # inet cannot go while its users are loaded, and says who they are.
        out = vm.command_output("rmmod inet")
        users = re.search(r"inet: in use by ([\w, ]+)", out)
        check("EBUSY" in out and users and sorted(users.group(1).strip().split(", ")) == ["icmp", "inettest", "udp"],
              f"rmmod inet under icmp, inettest and udp: {out}", vm)
        out = vm.command_output("ping -c 1 -i 0 127.0.0.1")
        check("1 packets transmitted, 1 received" in out, f"inet still works: {out}", vm)
        # In reverse order, both go, and memory is back at the boot's.
        out = vm.command_output("rmmod inettest")
        check("ERROR" not in out, f"rmmod inettest: {out}", vm)
        check(any("unregistered 253 (0)" in line for line in dmesg_lines(vm, "inettest:")), "unregister", vm)
        for module in ("icmp", "udp", "inet"):
            out = vm.command_output(f"rmmod {module}")
            check("ERROR" not in out, f"rmmod {module} after its users: {out}", vm)
        check("holders 0" in vm.command_output("ip -d link show lo"), "lo still held", vm)
        check(heap_bytes(vm) == heap, f"heap {heap} -> {heap_bytes(vm)} after the rmmods", vm)
        check(free_pages(vm) == pages, f"free pages {pages} -> {free_pages(vm)} after the rmmods", vm)
