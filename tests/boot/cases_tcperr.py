"""TCP's errors and its closing states in QEMU (docs/networking.md, "TCP"):
a connection to a closed port of the user network's gateway, or of an
address no forward serves, fails at once with "Connection refused" (QEMU
answers a closed TCP port with RST, not ICMP); ICMP errors from a host
endpoint on the guest's link (scripts/keel/udp_wire.py) refuse a connect
when they are genuine and are ignored when forged; and `ss -t -a` lists a
connection the guest closed, after its socket is gone, in FIN-WAIT-2 and
TIME-WAIT until it is over.

Nothing leaves the machine: restrict=on, forwards to 127.0.0.1 only, and
the endpoint's link is a socket file."""

import os
import re
import sys
import tempfile
import threading
import time

from cases_devices import out_of
from cases_tcp import free_tcp_port, pong_server
from cases_vnet import GATEWAY, GUEST, configure, load_ipv4, tshark, user_net, wait_eth
from harness import ALL_ARCHES, ARCH, boot, case, check

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from keel import network, udp_wire  # noqa: E402

SERVER = "10.0.2.100"  # guestfwd takes it to the host
MSL_MS = 2500  # tcp's msl_ms for the closing states: TIME-WAIT lasts 5 s


def refused_at_once(vm, host, port, what):
    """nc to host:port fails with "Connection refused" within 5 s."""
    start = time.monotonic()
    out = out_of(vm, f"nc -w 3 {host} {port} x")
    took = time.monotonic() - start
    check(f"nc: connect to {host} port {port} (tcp) failed: Connection refused" in out, f"nc to {what}: {out}", vm)
    check(took < 5, f"nc to {what} took {took:.1f} s", vm)


def ss_lines(vm, arguments, state):
    out = out_of(vm, f"ss {arguments}")
    lines = [line.rstrip() for line in out.splitlines()]
    return out, [line for line in lines if line.startswith("tcp") and f" {state} " in line]


@case(arches=ALL_ARCHES)
def tcperr_closed_ports_refuse_and_ss_lists_closing_connections():
    """nc to a closed port of the gateway and of an unforwarded address:
    "Connection refused" within a second, from QEMU's RST; then nc to a
    host server that reads the guest's end of stream but keeps its own side
    open: once nc has exited, `ss -t -a` lists the connection in FIN-WAIT-2,
    and in TIME-WAIT once the host closed, Linux's line shape; after 2 MSL
    it is gone (tcp loaded with msl_ms=2500, so 5 s rather than 60 s; an
    MSL of 0 is refused). tshark finds nothing malformed."""
    linger_port = free_tcp_port()
    release = threading.Event()
    received = []
    pong_server(linger_port, received, hold=release)
    with tempfile.TemporaryDirectory() as directory:
        pcap = os.path.join(directory, "n0.pcap")
        extra = user_net(pcap=pcap)
        extra[1] += f",{network.guestfwd(f'tcp:{SERVER}:7000:{linger_port}')}"
        with boot("panic=-1", extra=extra, memory="512M") as vm:
            wait_eth(vm)
            out = out_of(vm, "insmod tcp msl_ms=0")
            check("tcp: msl_ms=0 is out of range (1 to 120000 ms)" in out and "EINVAL" in out,
                  f"insmod tcp msl_ms=0: {out}", vm)
            check(not re.search(r"^tcp ", out_of(vm, "lsmod"), re.M), "tcp stayed loaded", vm)
            for module in ("icmp", "udp", f"tcp msl_ms={MSL_MS}"):
                out = out_of(vm, f"insmod {module}")
                check("ERROR" not in out, f"insmod {module}: {out}", vm)
            configure(vm)
            for host, port in ((GATEWAY, 9), (SERVER, 7002), (GUEST, 9)):
                refused_at_once(vm, host, port, f"closed {host}:{port}")

            # The guest ends its side first; the host's stays open.
            out = out_of(vm, f"nc -w 2 {SERVER} 7000 from keel", timeout=60)
            check("failed" not in out, f"nc to the lingering server: {out}", vm)
            deadline = time.monotonic() + 30
            while not received and time.monotonic() < deadline:
                time.sleep(0.1)
            check(received == [b"from keel\n"], f"the host got {received}", vm)
            pattern = re.compile(r"^tcp   (\S+) +0      0      10\.0\.2\.15:(\d+) +10\.0\.2\.100:7000$", re.M)
            out, lines = ss_lines(vm, "-t -a", "FIN-WAIT-2")
            check(len(lines) == 1 and pattern.match(lines[0]), f"ss -t -a without FIN-WAIT-2:\n{out}", vm)
            local_port = pattern.match(lines[0]).group(2)
            # Without -a too: it is not a listening socket (as Linux's ss).
            out, lines = ss_lines(vm, "-t", "FIN-WAIT-2")
            check(len(lines) == 1, f"ss -t without FIN-WAIT-2:\n{out}", vm)
            out, lines = ss_lines(vm, "-t -l", "FIN-WAIT-2")
            check(not lines, f"ss -t -l lists FIN-WAIT-2:\n{out}", vm)

            release.set()
            deadline = time.monotonic() + 30
            while True:
                out, lines = ss_lines(vm, "-t -a", "TIME-WAIT")
                if lines or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            check(len(lines) == 1 and pattern.match(lines[0]).group(2) == local_port,
                  f"ss -t -a without TIME-WAIT for port {local_port}:\n{out}", vm)
            check(re.match(r"^Netid State      Recv-Q Send-Q Local Address:Port    Peer Address:Port$",
                           out.strip().splitlines()[0]), f"ss's heading:\n{out}", vm)
            # It lasts 2 MSL, then the connection is gone.
            entered = time.monotonic()
            time.sleep(MSL_MS / 1000)
            out, lines = ss_lines(vm, "-t -a", "TIME-WAIT")
            check(len(lines) == 1, f"TIME-WAIT gone after 1 MSL:\n{out}", vm)
            time.sleep(max(0.0, entered + 2 * MSL_MS / 1000 + 2 - time.monotonic()))
            out, lines = ss_lines(vm, "-t -a", "TIME-WAIT")
            check(not lines, f"TIME-WAIT still listed 2 s after 2 MSL:\n{out}", vm)
        bad = tshark(pcap, "-Y", "_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || "
                     "tcp.checksum.status == 0")
        check(bad.strip() == "", f"tshark found bad frames:\n{bad}")
        resets = tshark(pcap, "-Y", "tcp.flags.reset == 1 && ip.dst == 10.0.2.15", "-T", "fields",
                        "-e", "ip.src", "-e", "tcp.srcport").split("\n")
        check({"10.0.2.2\t9", f"{SERVER}\t7002"} <= set(resets), f"QEMU's resets: {resets}")


@case(arches=ALL_ARCHES)
def tcperr_icmp_unreachable_refuses_a_connect_and_forged_errors_are_ignored():
    """A host endpoint on the guest's link answers SYNs to port 9 with ICMP
    port unreachable and to port 10 with protocol unreachable: nc fails at
    once with "Connection refused", and no RST was involved. To port 11 it
    answers with port unreachable quoting a sequence number the guest never
    sent: the guest ignores it, retries its SYN, and nc gives up only when
    its own 10 s run out ("Connection timed out")."""
    card = "virtio-net-device" if ARCH == "aarch64" else "virtio-net-pci"
    with tempfile.TemporaryDirectory() as directory, udp_wire.UdpWire(directory) as wire:
        pcap = os.path.join(directory, "wire.pcap")
        wire.icmp_for_tcp(9, 3, 3)
        wire.icmp_for_tcp(10, 3, 2)
        wire.icmp_for_tcp(11, 3, 3, sequence_offset=100000)
        with boot("panic=-1", extra=wire.qemu_options(device=card, pcap=pcap)) as vm:
            wait_eth(vm)
            load_ipv4(vm)
            wire.serve_echo()  # answers ARP, and the TCP segments above
            for line in ("ip link set eth0 up", f"ip addr add {udp_wire.GUEST}/24 dev eth0"):
                out = out_of(vm, line)
                check(not re.search(r"ERROR|RTNETLINK|Usage|Cannot|not loaded", out), f"{line}: {out}", vm)
            for port in (9, 10):
                refused_at_once(vm, udp_wire.HOST, port, f"{port}, answered by ICMP")
            sent = wire.icmp_sent
            start = time.monotonic()
            out = out_of(vm, f"nc -w 3 {udp_wire.HOST} 11 x", timeout=60)
            took = time.monotonic() - start
            check(f"nc: connect to {udp_wire.HOST} port 11 (tcp) failed: Connection timed out" in out,
                  f"nc to 11, answered by forged ICMP: {out}", vm)
            check(took >= 9, f"nc to 11 gave up after {took:.1f} s", vm)
            # The SYN was sent again after the forged error (1 s, 3 s, 7 s).
            check(wire.icmp_sent - sent >= 3, f"{wire.icmp_sent - sent} SYNs to port 11", vm)
            wire.stop_echo()
        resets = tshark(pcap, "-Y", "tcp.flags.reset == 1")
        check(resets.strip() == "", f"resets on the link:\n{resets}")
        errors = tshark(pcap, "-Y", "icmp.type == 3", "-T", "fields", "-e", "icmp.code", "-e", "tcp.dstport").split()
        check(errors[:4] == ["3", "9", "2", "10"], f"the ICMP errors: {errors}")


SYN, RST, PSH_ACK, ACK, FIN_ACK = 0x02, 0x04, 0x18, 0x10, 0x11
SYN_OPTIONS = b"\x02\x04\x05\xb4" + b"\x01\x03\x03\x07"  # MSS 1460, window scale 7
HOSTNAME = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "initramfs", "rootfs", "etc",
                        "hostname")


@case(arches=ALL_ARCHES)
def tcperr_a_syn_flood_gets_cookies_and_a_client_still_gets_in():
    """A host endpoint on the guest's link plays the TCP peers itself: 40
    SYNs to httpd's port from ports that never answer fill its backlog (8)
    with handshakes, and a real client's SYN right after them is answered
    with a SYN cookie (a SYN-ACK without window scaling, as are the flood's
    after the first 8). Its ACK, carrying the request, makes the connection:
    httpd serves the file, whole, and logs the request. tshark finds nothing
    malformed and no bad checksum."""
    card = "virtio-net-device" if ARCH == "aarch64" else "virtio-net-pci"
    with open(HOSTNAME, "rb") as file:
        hostname = file.read()
    with tempfile.TemporaryDirectory() as directory, udp_wire.UdpWire(directory) as wire:
        pcap = os.path.join(directory, "wire.pcap")
        with boot("panic=-1", extra=wire.qemu_options(device=card, pcap=pcap)) as vm:
            wait_eth(vm)
            load_ipv4(vm)
            for line in ("ip link set eth0 up", f"ip addr add {udp_wire.GUEST}/24 dev eth0"):
                out = out_of(vm, line)
                check(not re.search(r"ERROR|RTNETLINK|Usage|Cannot|not loaded", out), f"{line}: {out}", vm)
            vm.send("httpd -p 80 -c 1 -w 60 /etc")
            vm.expect("httpd: serving /etc on 0.0.0.0:80", 30)
            for port in range(20000, 20040):
                wire.send_frame(wire.tcp_frame(port, 80, 1000 * port, 0, SYN, options=SYN_OPTIONS))
            client, isn = 30000, 123456
            wire.send_frame(wire.tcp_frame(client, 80, isn, 0, SYN, options=SYN_OPTIONS))
            syn_acks = {}
            deadline = time.monotonic() + 30
            while client not in syn_acks or len(syn_acks) < 41:
                segment = wire.tcp_segment(max(0.1, deadline - time.monotonic()))
                check(segment or time.monotonic() < deadline, f"SYN-ACKs for {sorted(syn_acks)} only", vm)
                if segment and segment["flags"] & SYN:
                    syn_acks.setdefault(segment["port"], segment)
            answer = syn_acks[client]
            check(answer["acknowledgment"] == isn + 1, f"the client's SYN-ACK: {answer}", vm)
            check(3 not in answer["options"] and answer["options"].get(2) == b"\x05\xb4",
                  f"the client's SYN-ACK is no cookie's: {answer['options']}", vm)
            cookies = [port for port, segment in syn_acks.items() if 3 not in segment["options"]]
            check(len(cookies) == 33, f"{len(cookies)} SYN-ACKs without window scaling (a cookie's): {cookies}", vm)

            # The handshake's last ACK carries the request.
            request = b"GET /hostname HTTP/1.0\r\n\r\n"
            iss = answer["sequence"]
            wire.send_frame(wire.tcp_frame(client, 80, isn + 1, iss + 1, PSH_ACK, request))
            received, expected = b"", iss + 1
            deadline = time.monotonic() + 30
            while True:
                segment = wire.tcp_segment(max(0.1, deadline - time.monotonic()))
                check(segment or time.monotonic() < deadline, f"the answer stopped at {received!r}", vm)
                if not segment or segment["port"] != client:
                    continue
                check(not segment["flags"] & RST, f"reset after {received!r}", vm)
                if segment["sequence"] == expected:
                    received += segment["payload"]
                    expected += len(segment["payload"]) + (segment["flags"] & 1)
                wire.send_frame(wire.tcp_frame(client, 80, isn + 1 + len(request), expected, ACK))
                if segment["flags"] & 1 and segment["sequence"] + len(segment["payload"]) + 1 == expected:
                    break
            wire.send_frame(wire.tcp_frame(client, 80, isn + 1 + len(request), expected, FIN_ACK))
            head, _, body = received.partition(b"\r\n\r\n")
            check(head.startswith(b"HTTP/1.0 200 OK") and body == hostname, f"the answer: {received!r}", vm)
            vm.expect(f'httpd: {udp_wire.HOST}:{client} "GET /hostname HTTP/1.0" 200 {len(hostname)}', 30)
            vm.expect("httpd: 1 request(s) served", 30)
        out = tshark(pcap, "-Y", "_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || "
                     "tcp.checksum.status == 0")
        check(out.strip() == "", f"tshark found bad frames:\n{out}")
