"""virtio-net on QEMU's user-mode network (docs/networking.md): virtio_net
autoloads as eth0 (MAC and MTU from the device's configuration), the guest
is configured statically as QEMU's user network expects (10.0.2.15/24, the
gateway 10.0.2.2), pings the gateway, resolves it with ARP and echoes UDP
datagrams a host socket sends through a hostfwd rule on 127.0.0.1; tshark
reads the capture QEMU's filter-dump wrote and finds every checksum good,
nothing malformed and every echo request answered. Unbinding and
unloading the driver while the host floods it leaves the device model's
counters and the heap at their baseline.

Nothing leaves the machine: the user network runs with restrict=on and
its only forwards are from 127.0.0.1."""

import os
import re
import socket
import subprocess
import tempfile
import threading
import time

from cases_devices import counters, function_address, out_of, wait_log
from cases_virtio import KEYS as DEVICE_KEYS
from harness import PROMPT, boot, case, check, free_pages

MAC = "52:54:00:12:34:56"
GUEST = "10.0.2.15"
GATEWAY = "10.0.2.2"
PAYLOADS = [b"hello keel", bytes(range(256)) * 4, b"x"]
GATEWAY_MAC = "52:55:0a:00:02:02"  # QEMU's user network answers ARP for its gateway with this
# The device model's counters (lsdev -s) and the heap (mem: "heap: N bytes in M allocations").
KEYS = DEVICE_KEYS + ("heap",)


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def user_net(host_port=None, guest_port=7, pcap=None, devices=""):
    """QEMU options: a restricted user network n0 with a virtio-net card on
    it, a UDP forward from 127.0.0.1:host_port, a capture of n0."""
    forward = f",hostfwd=udp:127.0.0.1:{host_port}-:{guest_port}" if host_port else ""
    options = ["-netdev", f"user,id=n0,restrict=on{forward}",
               "-device", f"virtio-net-pci,netdev=n0,mac={MAC}{devices}"]
    if pcap:
        options += ["-object", f"filter-dump,id=f0,netdev=n0,file={pcap},maxlen=2048"]
    return options


def wait_eth(vm, name="eth0"):
    """The driver's line for `name` once autoload has indexed the modules
    and bound the card."""
    wait_log(vm, r"autoload: \d+ driver module\(s\) indexed")
    return wait_log(vm, r"virtio_net: (virtio\d+): " + name + r": ([0-9a-f:]{17}), mtu (\d+), link (\w+)")


IPV4_MODULES = ("icmp", "udp", "tcp")  # each loads inet first (DT_NEEDED)


def load_ipv4(vm):
    """inet, icmp, udp and tcp: the whole IPv4 stack."""
    for module in IPV4_MODULES:
        out = out_of(vm, f"insmod {module}")
        check("ERROR" not in out, f"insmod {module}: {out}", vm)


def configure(vm):
    """inet loaded: eth0 up at 10.0.2.15/24, the default route through the gateway."""
    for line in ("ip link set eth0 up", f"ip addr add {GUEST}/24 dev eth0", f"ip route add default via {GATEWAY}"):
        out = out_of(vm, line)
        # Silent on success (as iproute2); log lines may land in the output.
        check(not re.search(r"RTNETLINK|Usage|Cannot|not loaded", out), f"{line}: {out}", vm)


def tshark(pcap, *arguments):
    command = ["tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
               "-o", "tcp.check_checksum:TRUE"] + list(arguments)
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    check(result.returncode == 0, f"{' '.join(command)}: {result.stderr}")
    return result.stdout


@case
def vnet_virtio_net_autoloads_as_eth0():
    """Two cards: eth0 and eth1 in the order they bind, MAC from the
    configuration, the MTU a card offers (host_mtu) taken; the link starts
    down, `ip link set up` brings it up with its carrier."""
    second_card = ["-netdev", "user,id=n1,restrict=on", "-device", "virtio-net-pci,netdev=n1,mac=52:54:00:ab:cd:02"]
    extra = user_net(devices=",host_mtu=4000") + second_card
    with boot("panic=-1", extra=extra) as vm:
        first = wait_eth(vm)
        second = wait_eth(vm, "eth1")
        check(first.group(2) == MAC and first.group(3) == "4000" and first.group(4) == "up",
              f"eth0: {first.group(0)}", vm)
        check(second.group(2) == "52:54:00:ab:cd:02" and second.group(3) == "1500", f"eth1: {second.group(0)}", vm)
        wait_log(vm, r"autoload: virtio\d+ virtio:d00000001v00001AF4: loaded virtio_net")
        check(re.search(r"virtio\d+ +virtio +bound +virtio_net", out_of(vm, "lsdev")), "lsdev: not bound", vm)
        out = out_of(vm, "ip link show eth0")
        check(re.search(r"^\d+: eth0: <BROADCAST> mtu 4000 [^\n]*state DOWN[^\n]*\n    link/ether " + MAC
                        + r" brd ff:ff:ff:ff:ff:ff", out, re.M), f"ip link show eth0: {out}", vm)
        out_of(vm, "ip link set eth0 up")
        out = out_of(vm, "ip link show eth0")
        check(re.search(r"eth0: <BROADCAST,UP,LOWER_UP> mtu 4000", out), f"eth0 after set up: {out}", vm)
        out = out_of(vm, "ip link show eth1")
        check(re.search(r"eth1: <BROADCAST> mtu 1500", out), f"eth1: {out}", vm)


@case
def vnet_ping_gateway_and_udp_echo_through_user_net():
    """ping the user network's gateway, ARP for it, a host socket's
    datagrams echoed through hostfwd; tshark judges the capture."""
    port = free_udp_port()
    with tempfile.TemporaryDirectory() as directory:
        pcap = os.path.join(directory, "n0.pcap")
        with boot("panic=-1", extra=user_net(port, 7007, pcap)) as vm:
            wait_eth(vm)
            # Without an address there is no route; bad commands say why.
            load_ipv4(vm)
            out = out_of(vm, f"ping -c 1 {GATEWAY}")
            check("Network is unreachable" in out, f"ping without a route: {out}", vm)
            for line, expected in [("ip addr add 10.0.2.15/33 dev eth0", "Usage: ip addr"),
                                   ("ip addr add 10.0.2.15/24 dev eth9", 'Cannot find device "eth9"'),
                                   ("ip addr add 10.0.2.15/24 dev lo", "RTNETLINK answers: Invalid argument"),
                                   (f"ip route add default via {GATEWAY}", "RTNETLINK answers: Network is unreachable"),
                                   ("ip route add 10.0.0.0/8 via 10.0.2.2", "Usage: ip route")]:
                out = out_of(vm, line)
                check(expected in out, f"'{line}' should say '{expected}': {out}", vm)
            configure(vm)
            out = out_of(vm, f"ip addr add {GUEST}/24 dev eth0")
            check("RTNETLINK answers: File exists" in out, f"a second address: {out}", vm)
            out = out_of(vm, "ip addr show eth0")
            check(re.search(r"inet 10\.0\.2\.15/24 scope global eth0", out), f"ip addr show eth0: {out}", vm)
            out = out_of(vm, "ip route")
            check(out.startswith("default via 10.0.2.2 dev eth0\n")
                  and re.search(r"^10\.0\.2\.0/24 dev eth0 proto kernel scope link src 10\.0\.2\.15$", out, re.M),
                  f"ip route: {out}", vm)

            out = out_of(vm, f"ping -c 20 -i 0.1 {GATEWAY}", timeout=120)
            check(re.search(r"^20 packets transmitted, 20 received, 0% packet loss, time \d+ms$", out, re.M),
                  f"ping {GATEWAY}: {out}", vm)
            check(re.search(r"^rtt min/avg/max = [\d.]+/[\d.]+/[\d.]+ ms$", out, re.M), f"no rtt line: {out}", vm)
            check(len(re.findall(r"^64 bytes from 10\.0\.2\.2: icmp_seq=\d+ ttl=\d+ time=", out, re.M)) == 20,
                  f"reply lines: {out}", vm)
            out = out_of(vm, "ip neigh")
            check(f"{GATEWAY} dev eth0 lladdr {GATEWAY_MAC} REACHABLE" in out, f"ip neigh: {out}", vm)
            out = out_of(vm, f"ping -c 2 -s 1400 -i 0.2 {GATEWAY}", timeout=60)
            check("2 received, 0% packet loss" in out and "1408 bytes from 10.0.2.2" in out, f"1400 bytes: {out}", vm)
            # Ctrl-C stops ping between its requests, and the statistics
            # still come, as with Linux's.
            vm.send(f"ping -c 100 -i 5 {GATEWAY}")
            vm.expect("icmp_seq=1 ", 30)
            started = time.monotonic()
            vm.interrupt()
            out = vm.expect_re(r"\d+ packets transmitted.*\n", 10).group(0)
            check(time.monotonic() - started < 2, "ping took its time to stop", vm)
            check("1 packets transmitted, 1 received, 0% packet loss" in out, f"ping after Ctrl-C: {out}", vm)
            vm.expect(PROMPT, 10)

            # UDP: the guest serves echo on 7007; a host socket sends through
            # the forward on 127.0.0.1. With restrict=on QEMU's user network
            # drops every UDP datagram the guest sends except DHCP and TFTP,
            # echoes included, so the echoes are judged in the capture
            # (below), where they cross the wire between guest and QEMU.
            vm.send(f"udpecho -l -p 7007 -c {len(PAYLOADS)} -w 30")
            vm.expect("udpecho: listening on 0.0.0.0:7007", 30)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
                for index, payload in enumerate(PAYLOADS):
                    client.sendto(payload, ("127.0.0.1", port))
                    vm.expect_re(r"udpecho: %d bytes from 10\.0\.2\.2:\d+ echoed" % len(payload), 30)
            vm.expect(f"udpecho: {len(PAYLOADS)} datagram(s) echoed", 30)
            vm.expect(PROMPT, 30)
            out = out_of(vm, "ip -s link show eth0")
            check(re.search(r"RX:.*\n\s+\d+\s+\d+\s+0\s+0", out), f"eth0 counted errors or drops: {out}", vm)
            vm.kill()

        # tshark: no malformed frame, no bad checksum, no error-level expert item.
        out = tshark(pcap, "-Y", "_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || "
                     "udp.checksum.status == 0 || icmp.checksum.status == 0")
        check(out.strip() == "", f"tshark found bad frames:\n{out}")
        requests = tshark(pcap, "-Y", f"icmp.type == 8 && ip.src == {GUEST}", "-T", "fields", "-e", "icmp.seq")
        replies = tshark(pcap, "-Y", f"icmp.type == 0 && ip.dst == {GUEST} && icmp.resp_to", "-T", "fields",
                         "-e", "icmp.seq")
        check(len(requests.split()) >= 22 and sorted(requests.split()) == sorted(replies.split()),
              f"echo requests {requests.split()} and replies {replies.split()} do not pair up")
        arp = tshark(pcap, "-Y", f"arp.opcode == 1 && arp.src.proto_ipv4 == {GUEST} && arp.dst.proto_ipv4 == {GATEWAY}")
        check(arp.strip(), "no ARP request for the gateway in the capture")
        sent = tshark(pcap, "-Y", f"udp.dstport == 7007 && ip.dst == {GUEST}", "-T", "fields", "-e", "udp.srcport",
                      "-e", "udp.payload").split()
        echoes = tshark(pcap, "-Y", f"udp.srcport == 7007 && ip.src == {GUEST} && ip.dst == {GATEWAY}", "-T",
                        "fields", "-e", "udp.dstport", "-e", "udp.payload").split()
        check(sent == echoes and [bytes.fromhex(value) for value in sent[1::2]] == PAYLOADS,
              f"datagrams to the guest {sent} and its echoes {echoes} differ")


def flood(port, stop):
    """Datagrams at the guest through the forward until `stop` is set."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        while not stop.is_set():
            try:
                sender.sendto(b"flood" * 40, ("127.0.0.1", port))
            except OSError:
                pass
            time.sleep(0.001)


@case
def vnet_unbind_and_rmmod_under_traffic_keep_the_baseline():
    """The driver unloaded and the card unbound while the host floods UDP
    at a closed port (each datagram answered with port unreachable) and
    the guest pings: eth0 goes and comes back, inet forgets its address,
    and the counters and heap end where they began."""
    port = free_udp_port()
    with boot("panic=-1", extra=user_net(port, 9)) as vm:
        wait_eth(vm)
        load_ipv4(vm)
        baseline, pages = counters(vm), free_pages(vm)
        address = function_address(vm, "1af4:10(?:00|41)", "a virtio network device (1af4:1000 or 1af4:1041)")
        stop = threading.Event()
        sender = threading.Thread(target=flood, args=(port, stop), daemon=True)
        sender.start()
        try:
            for cycle in range(4):
                configure(vm)
                out = out_of(vm, f"ping -c 3 -i 0.1 {GATEWAY}", timeout=60)
                check("3 packets transmitted, 3 received" in out, f"cycle {cycle}: ping: {out}", vm)
                out = out_of(vm, "ip -s link show eth0")
                rx = int(re.search(r"RX:.*\n\s+\d+\s+(\d+)", out).group(1))
                check(rx > 3, f"cycle {cycle}: the flood did not arrive: {out}", vm)
                if cycle % 2 == 0:
                    out = out_of(vm, "rmmod virtio_net")
                    check(re.search(r"virtio_net: virtio\d+: eth0 removed after \d+ frames received", out),
                          f"rmmod: {out}", vm)
                    out_of(vm, "modprobe virtio_net")
                else:
                    out = out_of(vm, f"devtest cycles 1 {address}", timeout=120)
                    check("unbind/bind cycles of" in out and "PASS" in out, f"devtest: {out}", vm)
                wait_log(vm, r"(inet: eth0 is gone: 10\.0\.2\.15/24 removed[\s\S]*){%d}" % (cycle + 1))
                wait_log(vm, r"(virtio_net: virtio\d+: eth0: [\s\S]*){%d}" % (cycle + 2))
        finally:
            stop.set()
            sender.join()
        out = out_of(vm, "ip addr show eth0")
        check("inet 10.0.2.15" not in out and "state DOWN" in out, f"eth0 after the cycles: {out}", vm)
        after = counters(vm)
        for key in KEYS:
            check(after.get(key) == baseline.get(key), f"{key}: {baseline.get(key)} -> {after.get(key)}", vm)
        # A leak shows as fewer free pages; a page more is one the boot still
        # held when the baseline was taken (seen: 64170 -> 64171).
        check(free_pages(vm) >= pages, f"free pages {pages} -> {free_pages(vm)}", vm)
