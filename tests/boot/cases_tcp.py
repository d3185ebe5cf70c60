"""TCP through the kernel's sockets (KABI_SOCKET_1.0, docs/networking.md)
on QEMU's user-mode network: the guest's wget fetches 16 MiB from the
host's `python3 -m http.server` through a guestfwd rule and sha256sum
matches; the host's curl fetches the file back from the guest's httpd
through hostfwd, byte-identical; nc talks both ways; a kernel socket
waiting on a connection sees ENETDOWN when virtio_net unloads under it;
tshark judges the capture.

Nothing leaves the machine: the user network runs with restrict=on, the
forwards are from and to 127.0.0.1 only."""

import hashlib
import http.server
import ipaddress
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading

from cases_devices import out_of, wait_log
from cases_net import heap_bytes
from cases_vnet import GUEST, configure, load_ipv4, tshark, user_net, wait_eth
from harness import PROMPT, TEST_INITRAMFS, boot, case, check, free_pages

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from keel import network  # noqa: E402

SERVER = "10.0.2.100"  # what the guest connects to; guestfwd takes it to the host
BIG = 16 * 1024 * 1024


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *arguments):
        pass


def serve_directory(directory, port):
    """The host's http.server on 127.0.0.1:port, in a thread."""
    class Handler(QuietHandler):
        def __init__(self, *arguments, **keywords):
            super().__init__(*arguments, directory=directory, **keywords)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def listen_once(port):
    """A listening socket on 127.0.0.1:port for one connection."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1)
    listener.settimeout(120)
    return listener


def overlong_server(port):
    """One HTTP request on 127.0.0.1:port, answered with more bytes than
    its Content-Length says (5: "hello")."""
    listener = listen_once(port)

    def run():
        try:
            connection, _ = listener.accept()
            with connection:
                request = b""
                while b"\r\n\r\n" not in request and (chunk := connection.recv(4096)):
                    request += chunk
                connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello, and bytes beyond it")
        finally:
            listener.close()
    threading.Thread(target=run, daemon=True).start()


def pong_server(port, received, hold=None):
    """One TCP connection on 127.0.0.1:port: reads to the end, answers; or,
    given the event `hold`, keeps its own side open until it is set."""
    listener = listen_once(port)

    def run():
        try:
            connection, _ = listener.accept()
            with connection:
                data = b""
                while chunk := connection.recv(4096):
                    data += chunk
                received.append(data)
                if hold:
                    hold.wait(300)
                else:
                    connection.sendall(b"pong from the host\n")
        finally:
            listener.close()
    threading.Thread(target=run, daemon=True).start()


@case
def tcp_wget_httpd_nc_through_user_net():
    """16 MiB both ways between the guest and the host's own HTTP tools,
    nc both ways; sha256sum and curl agree on the bytes; tshark finds no
    malformed frame and no bad checksum."""
    web_port, pong_port, guest_port, overlong_port = free_tcp_port(), free_tcp_port(), free_tcp_port(), free_tcp_port()
    with tempfile.TemporaryDirectory() as directory:
        content = os.urandom(BIG)
        with open(os.path.join(directory, "big.bin"), "wb") as file:
            file.write(content)
        digest = hashlib.sha256(content).hexdigest()
        server = serve_directory(directory, web_port)
        received = []
        pong_server(pong_port, received)
        overlong_server(overlong_port)
        pcap = os.path.join(directory, "n0.pcap")
        extra = user_net(pcap=pcap)
        extra[1] += (f",hostfwd=tcp:127.0.0.1:{guest_port}-:8080"
                     f",{network.guestfwd(f'tcp:{SERVER}:8000:{web_port}')}"
                     f",{network.guestfwd(f'tcp:{SERVER}:7000:{pong_port}')}"
                     f",{network.guestfwd(f'tcp:{SERVER}:7001:{overlong_port}')}")
        try:
            with boot("panic=-1", extra=extra, memory="512M", initrd=TEST_INITRAMFS) as vm:
                wait_eth(vm)
                load_ipv4(vm)
                configure(vm)
                # The host's own address goes through lo, and answers from itself.
                out = out_of(vm, f"ping -c 2 -i 0.2 {GUEST}")
                check("2 received, 0% packet loss" in out and f"bytes from {GUEST}: icmp_seq=1" in out,
                      f"ping {GUEST}: {out}", vm)

                # The guest's wget against the host's http.server.
                # Each transfer's wait stays well inside the test's own
                # 300 s, so that a stall fails with the guest's output.
                out = out_of(vm, f"wget -O /big.bin http://{SERVER}:8000/big.bin", timeout=120)
                check(re.search(r"'/big\.bin' saved \(16777216 bytes in \d+ ms, \d+ KiB/s\)", out), f"wget: {out}", vm)
                out = out_of(vm, "sha256sum /big.bin", timeout=60)
                check(out.strip() == f"{digest}  /big.bin", f"sha256sum: {out} (want {digest})", vm)
                out = out_of(vm, f"wget -O /missing http://{SERVER}:8000/missing")
                check("wget: server returned error: HTTP/1.0 404 File not found" in out, f"wget 404: {out}", vm)
                out = out_of(vm, "ls /missing")
                check("No such file" in out, f"a failed wget left a file: {out}", vm)
                # Bytes past Content-Length are not the file's.
                out = out_of(vm, f"wget -O /short http://{SERVER}:7001/short")
                check("'/short' saved (5 bytes" in out, f"wget, more than Content-Length: {out}", vm)
                out = out_of(vm, "sha256sum /short")
                check(out.strip() == f"{hashlib.sha256(b'hello').hexdigest()}  /short", f"sha256sum: {out}", vm)
                out = out_of(vm, f"wget http://{SERVER}:8001/x")
                check(re.search(r"wget: can't connect to remote host \(10\.0\.2\.100\): "
                                r"Connection (refused|reset|timed out)", out), f"wget to a closed port: {out}", vm)
                out = out_of(vm, "wget http://example.com/x")
                check("unable to resolve host address 'example.com'" in out, f"wget by name: {out}", vm)

                # nc: the guest to a host server (guestfwd) ...
                out = out_of(vm, f"nc -w 10 {SERVER} 7000 ping from keel", timeout=60)
                check("pong from the host" in out, f"nc to the host: {out}", vm)
                check(received == [b"ping from keel\n"], f"the host got {received}")
                # ... and a host client to the guest's nc -l (hostfwd).
                vm.send("nc -l -w 60 8080 hello from keel")
                vm.expect("Listening on 0.0.0.0 8080", 30)
                with socket.create_connection(("127.0.0.1", guest_port), timeout=60) as client:
                    client.sendall(b"hello from the host\n")
                    answer = b""
                    while b"\n" not in answer:
                        chunk = client.recv(100)
                        check(chunk, f"nc -l closed early: {answer}", vm)
                        answer += chunk
                    check(answer == b"hello from keel\n", f"nc -l answered {answer}", vm)
                vm.expect_re(r"Connection received on 10\.0\.2\.2:\d+", 30)
                vm.expect("hello from the host", 30)
                vm.expect(PROMPT, 90)

                # The guest's httpd, the host's curl through hostfwd.
                vm.send("httpd -p 8080 -c 5 -w 120 /")
                vm.expect("httpd: serving / on 0.0.0.0:8080", 30)
                fetched = os.path.join(directory, "fetched.bin")
                base = f"http://127.0.0.1:{guest_port}"
                result = subprocess.run(["curl", "-sS", "--max-time", "100", "-o", fetched, "-w", "%{http_code}",
                                         f"{base}/big.bin"], capture_output=True, text=True, timeout=120)
                check(result.stdout == "200", f"curl: {result.stdout} {result.stderr}", vm)
                with open(fetched, "rb") as file:
                    check(file.read() == content, "curl's copy differs from the original", vm)
                for path, status in [("/nothing", "404"), ("/../etc", "403")]:
                    result = subprocess.run(["curl", "-sS", "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}",
                                             f"{base}{path}"], capture_output=True, text=True, timeout=120)
                    check(result.stdout == status, f"curl {path}: {result.stdout} {result.stderr}", vm)
                result = subprocess.run(["curl", "-sS", "-X", "POST", "-o", "/dev/null", "-w", "%{http_code}",
                                         f"{base}/big.bin"], capture_output=True, text=True, timeout=120)
                check(result.stdout == "405", f"curl POST: {result.stdout} {result.stderr}", vm)
                # With a body httpd never reads: it drains it before the
                # close, which a reset would cut the answer short.
                body = os.path.join(directory, "body.bin")
                with open(body, "wb") as file:
                    file.write(content[:300000])
                result = subprocess.run(["curl", "-sS", "-X", "POST", "--data-binary", f"@{body}", "-o", "/dev/null",
                                         "-w", "%{http_code}", f"{base}/big.bin"],
                                        capture_output=True, text=True, timeout=120)
                check(result.returncode == 0 and result.stdout == "405",
                      f"curl POST with a body: {result.returncode} {result.stdout} {result.stderr}", vm)
                vm.expect_re(r'httpd: 10\.0\.2\.2:\d+ "GET /big\.bin HTTP/1\.1" 200 16777216', 60)
                vm.expect("httpd: 5 request(s) served", 60)
                vm.expect(PROMPT, 30)
                out = out_of(vm, "ss -ta")
                check(out.startswith("Netid State"), f"ss: {out}", vm)

                # A kernel socket waiting on a connection whose device goes
                # away: tcp fails the connection, the wait ends with
                # ENETDOWN (-100), and the module unloads cleanly.
                address = int(ipaddress.ip_address(SERVER))
                out = out_of(vm, f"insmod /lib/test/sockwatch.kmod address={address} port=8000 seconds=120")
                check("ERROR" not in out, f"insmod sockwatch: {out}", vm)
                out = out_of(vm, "ss -t")
                check(re.search(rf"^tcp +ESTAB +0 +0 +{GUEST}:\d+ +{SERVER}:8000$", out, re.M), f"ss -t: {out}", vm)
                out = out_of(vm, "rmmod virtio_net")
                check(re.search(r"virtio_net: virtio\d+: eth0 removed after", out), f"rmmod virtio_net: {out}", vm)
                wait_log(vm, r"sockwatch: receive returned -100\n", timeout=30)
                out = out_of(vm, "rmmod sockwatch")
                check("ERROR" not in out, f"rmmod sockwatch: {out}", vm)
                vm.kill()
        finally:
            server.shutdown()

        out = tshark(pcap, "-Y", "_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || "
                     "tcp.checksum.status == 0")
        check(out.strip() == "", f"tshark found bad frames:\n{out}")
        syns = tshark(pcap, "-Y", f"tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.src == {GUEST}", "-T", "fields",
                      "-e", "tcp.dstport").split()
        check("8000" in syns and "7000" in syns, f"the guest's SYNs: {syns}")


@case(arches=("x86_64", "aarch64"))
def tcp_kernel_sockets_from_a_module_over_loopback():
    """tests/modules/socktest.c uses KABI_SOCKET_1.0 with no link to the
    protocol modules: without tcp there is no AF_INET; with tcp and udp,
    the family table's refusals, 1 MiB each way over TCP on 127.0.0.1,
    timeouts, the end of the stream, a refused connection, UDP datagrams,
    and a close while other threads wait in a receive and an accept. Its
    kept sockets show in ss and pin tcp and udp (each says so); unloading
    everything returns the heap and the pages to where they were before
    inet loaded."""
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        out = vm.command_output("insmod /lib/test/socktest.kmod")
        check("ERROR" in out and "socktest: no AF_INET stream sockets: -97" in vm.command_output("dmesg"),
              f"socktest without inet: {out}", vm)
        heap, pages = heap_bytes(vm), free_pages(vm)
        for module in ("tcp", "udp"):
            check("ERROR" not in vm.command_output(f"insmod {module}"), f"insmod {module}", vm)
        out = vm.command_output("insmod /lib/test/socktest.kmod keep=1", timeout=300)
        log = vm.command_output("dmesg")
        check("ERROR" not in out and "socktest: passed, keeping a listener and a udp socket" in log,
              f"insmod socktest: {out}\n{log}", vm)
        for line in ("family table refusals ok", "close under a waiting receive and accept ok",
                     "1048576 bytes each way ok", "closed port refused ok", "udp datagrams ok"):
            check(f"socktest: {line}" in log, f"socktest did not log '{line}'", vm)
        check(re.search(r"socktest: receive timeout (\d+) ms, end of stream ok", log), "no timeout line", vm)
        check("socket: family refused: version 0 is not supported" in log
              and "socket: family refused: type 3 is not" in log and "socket: family refused: accept is missing" in log,
              f"the refusals were not logged with their reason: {log}", vm)
        out = vm.command_output("ss -tl")
        check(re.search(r"^tcp +LISTEN +0 +4 +127\.0\.0\.1:5555 +0\.0\.0\.0:\*$", out, re.M), f"ss -tl: {out}", vm)
        out = vm.command_output("ss -ua")
        check(re.search(r"^udp +UNCONN +0 +0 +0\.0\.0\.0:5555 +0\.0\.0\.0:\*$", out, re.M), f"ss -ua: {out}", vm)
        # Without -l: no listener; the connections socktest closed are still
        # in TIME-WAIT and listed, as Linux's ss lists them.
        out = vm.command_output("ss")
        check(not re.search(r"LISTEN|UNCONN", out), f"ss without -l listed listeners: {out}", vm)
        check(re.search(r"^tcp +TIME-WAIT +0 +0 +127\.0\.0\.1:\d+ +127\.0\.0\.1:5555$", out, re.M),
              f"ss without socktest's closed connection in TIME-WAIT: {out}", vm)
        for module in ("tcp", "udp"):
            out = vm.command_output(f"rmmod {module}")
            check("EBUSY" in out and "in use by 1 mount(s) or open socket(s)" in out,
                  f"rmmod {module} under its socket: {out}", vm)
        out = vm.command_output("rmmod inet")
        check("EBUSY" in out and re.search(r"inet: in use by (tcp, udp|udp, tcp)", out), f"rmmod inet: {out}", vm)
        check("ERROR" not in vm.command_output("rmmod socktest"), "rmmod socktest", vm)
        # No socket is left; a closed connection's TIME-WAIT may still be
        # listed (it goes with tcp's stack when tcp unloads).
        out = vm.command_output("ss -a")
        check(all(" TIME-WAIT " in line for line in out.strip().splitlines()[1:]),
              f"sockets left after rmmod socktest: {out}", vm)
        # Connections in TIME-WAIT live on in tcp's stack until it unloads.
        for module in ("tcp", "udp", "inet"):
            check("ERROR" not in vm.command_output(f"rmmod {module}"), f"rmmod {module}", vm)
        check(heap_bytes(vm) == heap and free_pages(vm) == pages,
              f"heap {heap_bytes(vm)} pages {free_pages(vm)}, before {heap} {pages}", vm)
