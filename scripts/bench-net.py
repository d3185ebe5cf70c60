#!/usr/bin/env python3
"""Network figures for scripts/bench (issue 16, "Benchmark"), Keel and
Debian's Linux under the same QEMU with the same virtio-net-pci card on the
same restricted user-mode network, interleaved in each run:

- load and bind the network stack until eth0 exists. Keel: `modprobe -a
  virtio_pci virtio_net inet icmp udp tcp`, one command as Linux's side is
  one command line (virtio_net is loaded by whichever comes first, the
  command or the autoload virtio_pci's device asks for; the other finds it
  loaded): the sum of the loader's "loaded ... in N us" times (TSC). With
  one insmod per console line, the next line's characters arrived while
  the autoload loaded virtio_net, and their interrupts and echo were
  counted in its load. Linux:
  virtio_pci's and virtio_net's modules with their dependencies insmodded
  by busybox (its IPv4, UDP and TCP are built in, so cost it nothing here),
  timed by the printk clock between /dev/kmsg markers written before the
  first insmod and after /sys/class/net/eth0 exists;
- ping RTT to the user network's gateway (10.0.2.2): the average of
  Keel's `ping` and busybox's over the same count and interval;
- TCP from the host to the guest: the guest's wget of 16 MiB from the
  host's `python3 -m http.server` through a guestfwd rule (each connection
  bridged to 127.0.0.1 by scripts/keel/tcp_bridge.py), into a file in RAM
  (Keel's tmpfs, Linux's initramfs): Keel's wget times itself; Linux's
  busybox wget by the printk clock around it;
- TCP from the guest to the host: the host's curl of that file from the
  guest's httpd (Keel's, busybox's) through hostfwd, timed by curl.

UDP, in boots of their own: QEMU's user network with restrict=on drops
every datagram a guest sends, so the card is on a `-netdev stream` link to
a host endpoint (scripts/keel/udp_wire.py, a host at 10.0.3.2 on the link;
the guest is 10.0.3.1), the same for both kernels. With 1,400-byte
datagrams:
- round trip: the host sends one datagram at a time to the guest's echo
  server (Keel's `udpperf -s -e`, Linux's tests/peer/udppeer.c `count ...
  echo`, built static) and times the answer, checked byte for byte: p50;
- host to guest: the host sends as fast as QEMU takes the frames for
  UDP_SECONDS; the guest counts what its socket received between the
  first and the last (`udpperf -s`, `udppeer count`): datagrams/s;
- guest to host: the guest sends for UDP_SECONDS (`udpperf -c`, `udppeer
  blast`); the host counts what arrives between the first and the last;
- then a few round trips again: a guest that stopped answering fails the
  benchmark;
- the round trip's floor, in a Keel boot of its own: virtio_net loaded
  again with `floor_echo_port` (measurement only,
  modules/virtio_net/floor_echo.c) answers the datagrams from its receive
  interrupt, with no protocol, socket or thread switch. It is what no
  guest that waits for its interrupt goes without (QEMU's path both ways,
  the interrupt waking the vCPU, a copy and a kick), so Linux's round trip
  over it is the best ratio any stack above the driver could reach on
  this host in this run.

Run alone (`scripts/bench-net.py [--runs N] [--peer none] [--only
PARTS]`, KEEL_BUILD naming the build directory) or from scripts/bench.
`--only ping,udp` (any of ping, tcp, udp, comma-separated) measures those
parts only; the stack's load is measured in every run (the rest needs the
stack).
"""

import argparse
import http.server
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import machine, network as user_network, peer, udp_wire  # noqa: E402

SERVER = "10.0.2.100"
BIG = 16 * 1024 * 1024
PINGS = 20
PARTS = ("ping", "tcp", "udp")
KEEL_MODULES = ("virtio_pci", "virtio_net", "inet", "icmp", "udp", "tcp")
KEEL_LOADED = re.compile(r"(virtio_pci|virtio_net|inet|icmp|udp|tcp): loaded at \S+ \(\d+ KiB\) in (\d+) us")
KEEL_SAVED = re.compile(r"saved \((\d+) bytes in (\d+) ms")
RTT = re.compile(r"(?:rtt|round-trip) min/avg/max = ([\d.]+)/([\d.]+)/[\d.]+ ms")
KMSG = re.compile(r"^\[\s*([\d.]+)\] (bench-start|bench-ready)$", re.M)
LOAD_TARGET = 10     # Linux's stack load over Keel's, at least
RTT_TARGET = 2       # Linux's RTT over Keel's, at least
TCP_TARGET = 1       # Keel's throughput over Linux's, at least
UDP_SIZE = 1400
UDP_ROUND_TRIPS = 500
UDP_FLOOR_PORT = 7001
UDP_SECONDS = 3
UDP_RTT_TARGET = 2   # Linux's UDP round trip over Keel's, at least
UDP_RATE_TARGET = 1.5  # Keel's datagrams/s over Linux's, at least
UDP_REPORT = re.compile(r"(\d+) datagrams, (\d+) bytes in (\d+) us from [\d.:]+ \((\d+) datagrams/s\)")
UDPPEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "peer", "udppeer.c")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def network(web_port, guest_port):
    forwards = (f",hostfwd=tcp:127.0.0.1:{guest_port}-:8080"
                f",{user_network.guestfwd(f'tcp:{SERVER}:8000:{web_port}')}")
    return ["-netdev", f"user,id=n0,restrict=on{forwards}", "-device", "virtio-net-pci,netdev=n0"]


def serve(directory, port):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *arguments, **keywords):
            super().__init__(*arguments, directory=directory, **keywords)

        def log_message(self, *arguments):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def curl_seconds(port):
    """The host's curl of /big.bin from the guest through hostfwd."""
    result = subprocess.run(["curl", "-sS", "--max-time", "300", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
                             f"http://127.0.0.1:{port}/big.bin"], capture_output=True, text=True, timeout=400)
    status, _, seconds = result.stdout.partition(" ")
    if status != "200":
        raise peer.PeerError(f"curl from the guest's httpd: {result.stdout} {result.stderr}")
    return float(seconds)


def rtt(out, who):
    """The ping figures: the average, as each ping prints it, and the
    minimum (the average carries the host's scheduling outliers)."""
    match = RTT.search(out)
    if not match or f"{PINGS} packets transmitted, {PINGS}" not in out:
        raise peer.PeerError(f"{who}: ping lost replies or printed no rtt line:\n{out[-1000:]}")
    return {"ping ms": float(match.group(2)), "ping min ms": float(match.group(1))}


def keel_round(web_port, guest_port, loads, parts=PARTS):
    with peer.KeelGuest() as guest:
        guest.start(network(web_port, guest_port))
        if "eth0" not in guest.run("ip link"):
            for _ in range(100):
                if "eth0" in guest.run("ip link"):
                    break
            else:
                raise peer.PeerError("Keel: eth0 never appeared (autoload of virtio_pci and virtio_net)")
        times = []
        for _ in range(loads):
            for name in reversed(KEEL_MODULES):
                guest.run(f"rmmod {name}")
            out = guest.run("modprobe -a " + " ".join(KEEL_MODULES))
            if "modprobe: ERROR" in out:
                raise peer.PeerError(f"Keel: the stack did not load:\n{out[-1000:]}")
            loaded = dict(KEEL_LOADED.findall(guest.run("dmesg")))  # the last of each
            if set(loaded) != set(KEEL_MODULES) or "eth0" not in guest.run("ip link"):
                raise peer.PeerError(f"Keel: the log did not time every load, or no eth0: {loaded}")
            times.append(sum(int(us) for us in loaded.values()))
        for line in ("ip link set eth0 up", "ip addr add 10.0.2.15/24 dev eth0", "ip route add default via 10.0.2.2"):
            guest.run(line)
        figures = {"load us": statistics.median(times)}
        if "ping" in parts:
            figures.update(rtt(guest.run(f"ping -c {PINGS} -i 0.1 10.0.2.2", timeout=120), "Keel"))
        if "tcp" not in parts:
            return figures
        out = guest.run(f"wget -O /big.bin http://{SERVER}:8000/big.bin", timeout=600)
        match = KEEL_SAVED.search(out)
        if not match or int(match.group(1)) != BIG:
            raise peer.PeerError(f"Keel: wget did not save the file:\n{out[-1000:]}")
        download = BIG / (int(match.group(2)) / 1000 or 0.001)
        guest.vm.send("httpd -p 8080 -c 1 -w 120 /")
        guest.vm.expect("httpd: serving / on 0.0.0.0:8080", 30)
        upload = BIG / curl_seconds(guest_port)
        guest.vm.expect(machine.PROMPT, 60)
    return dict(figures, **{"download MB/s": download / 1e6, "upload MB/s": upload / 1e6})


def kernel_span(guest, command):
    guest.run("dmesg -c > /dev/null")
    guest.run(f"echo bench-start > /dev/kmsg && {command} && echo bench-ready > /dev/kmsg", timeout=600)
    marks = {name: float(at) for at, name in KMSG.findall(guest.run("dmesg"))}
    if set(marks) != {"bench-start", "bench-ready"}:
        raise peer.PeerError(f"Linux: the markers are missing from the log: {marks}")
    return marks["bench-ready"] - marks["bench-start"]


def linux_round(assets, web_port, guest_port, loads, parts=PARTS):
    modules = assets.module_stack(("virtio_pci", "virtio_net"))
    files = {f"/lib/peer/{name}.ko": assets.module(name) for name in modules}
    with peer.LinuxGuest(assets, files, memory="256M") as guest:
        guest.start(network(web_port, guest_port))
        insmods = " && ".join(f"insmod /lib/peer/{name}.ko" for name in modules)
        rmmods = " && ".join(f"rmmod {name}" for name in reversed(modules))
        times = []
        for _ in range(loads):
            times.append(kernel_span(guest, f"{insmods} && while [ ! -e /sys/class/net/eth0 ]; do :; done") * 1e6)
            if len(times) < loads:
                guest.run(rmmods)
        for line in ("ip link set eth0 up", "ip addr add 10.0.2.15/24 dev eth0", "ip route add default via 10.0.2.2"):
            guest.run(line)
        figures = {"load us": statistics.median(times), "modules": len(modules)}
        if "ping" in parts:
            figures.update(rtt(guest.run(f"ping -c {PINGS} -i 0.1 10.0.2.2", timeout=120), "Linux"))
        if "tcp" not in parts:
            return figures
        seconds = kernel_span(guest, f"wget -q -O /big.bin http://{SERVER}:8000/big.bin")
        size = guest.run("wc -c < /big.bin").strip()
        if size != str(BIG):
            raise peer.PeerError(f"Linux: wget saved {size} bytes")
        guest.run("httpd -p 8080 -h /")
        upload = BIG / curl_seconds(guest_port)
    return dict(figures, **{"download MB/s": BIG / seconds / 1e6, "upload MB/s": upload / 1e6})


def udp_rate(out, who):
    match = UDP_REPORT.search(out)
    if not match or int(match.group(1)) < 2:
        raise peer.PeerError(f"{who}: the guest counted no datagrams:\n{out[-1000:]}")
    return int(match.group(4))


def udp_measure(wire, who, serve, wait_served, send):
    """The UDP figures of one boot; `serve(port, echo)` starts the guest's
    server, `wait_served()` returns what it printed, `send(port)` makes
    the guest send for UDP_SECONDS."""
    serve(7001, True)
    times = wire.round_trips(7001, UDP_ROUND_TRIPS, UDP_SIZE)
    wait_served()
    serve(7002, False)
    wire.blast(7002, UDP_SIZE, UDP_SECONDS)
    inbound = udp_rate(wait_served(), who)
    counted = {}
    counter = threading.Thread(target=lambda: counted.update(result=wire.count(5001)))
    counter.start()
    send(5001)
    counter.join()
    datagrams, _, seconds = counted["result"]
    if datagrams < 2 or not seconds:
        raise peer.PeerError(f"{who}: no datagrams reached the host")
    serve(7003, True)
    wire.round_trips(7003, 20, UDP_SIZE)    # still answering after the floods
    wait_served()
    return {"udp rtt us": statistics.median(times), "udp in /s": inbound, "udp out /s": (datagrams - 1) / seconds}


def wait_eth0(guest, what):
    """Until Keel's `ip link` lists eth0; PeerError naming `what` when it never does."""
    if not any("eth0" in guest.run("ip link") for _ in range(100)):
        raise peer.PeerError(f"Keel: eth0 never appeared ({what})")


def keel_udp_round():
    with tempfile.TemporaryDirectory() as scratch, udp_wire.UdpWire(scratch) as wire, peer.KeelGuest() as guest:
        guest.start(wire.qemu_options())
        wait_eth0(guest, "autoload of virtio_pci and virtio_net")
        for line in ("insmod icmp", "insmod udp", "insmod tcp", "ip link set eth0 up",
                     f"ip addr add {udp_wire.GUEST}/24 dev eth0"):
            guest.run(line)

        def serve(port, echo):
            guest.vm.send(f"udpperf -s{' -e' if echo else ''} -p {port} -t 60")
            guest.vm.expect(f"udpperf: listening on 0.0.0.0:{port}", 30)

        def wait_served():
            start = guest.vm.cursor
            guest.vm.expect(machine.PROMPT, 120)
            return guest.vm.output[start:]

        def send(port):
            guest.run(f"udpperf -c {udp_wire.HOST} -p {port} -l {UDP_SIZE} -t {UDP_SECONDS}", timeout=120)
        try:
            return udp_measure(wire, "Keel", serve, wait_served, send)
        except (TimeoutError, ValueError) as error:
            raise peer.PeerError(f"Keel: UDP: {error}") from None


def keel_udp_floor():
    """The round trip's floor: virtio_net answering from its interrupt."""
    with tempfile.TemporaryDirectory() as scratch, udp_wire.UdpWire(scratch) as wire, peer.KeelGuest() as guest:
        guest.start(wire.qemu_options())
        wait_eth0(guest, "autoload of virtio_pci and virtio_net")
        guest.run("rmmod virtio_net")
        guest.run(f"insmod virtio_net floor_echo_port={UDP_FLOOR_PORT}")
        wait_eth0(guest, "virtio_net loaded with floor_echo_port")
        if "measurement mode" not in guest.run("dmesg"):
            raise peer.PeerError("Keel: virtio_net did not take floor_echo_port")
        try:
            times = wire.round_trips(UDP_FLOOR_PORT, UDP_ROUND_TRIPS, UDP_SIZE)
        except (TimeoutError, ValueError) as error:
            raise peer.PeerError(f"Keel: the UDP floor: {error}") from None
        return {"udp floor us": statistics.median(times)}


def linux_udp_round(assets, udppeer):
    modules = assets.module_stack(("virtio_pci", "virtio_net"))
    files = {f"/lib/peer/{name}.ko": assets.module(name) for name in modules}
    files["/bin/udppeer"] = udppeer
    with tempfile.TemporaryDirectory() as scratch, udp_wire.UdpWire(scratch) as wire, \
            peer.LinuxGuest(assets, files, memory="256M") as guest:
        guest.start(wire.qemu_options())
        guest.run(" && ".join(f"insmod /lib/peer/{name}.ko" for name in modules))
        guest.run(f"while [ ! -e /sys/class/net/eth0 ]; do :; done && ip link set eth0 up && "
                  f"ip addr add {udp_wire.GUEST}/24 dev eth0")

        def serve(port, echo):
            guest.run(f"(udppeer count {port} 60{' echo' if echo else ''} > /tmp/udp.log 2>&1 &) ; "
                      f"while ! netstat -lun | grep -q ':{port} '; do sleep 0.1; done")

        def wait_served():
            return guest.run("while pidof udppeer > /dev/null; do sleep 0.1; done; cat /tmp/udp.log", timeout=120)

        def send(port):
            guest.run(f"udppeer blast {udp_wire.HOST} {port} {UDP_SIZE} {UDP_SECONDS}", timeout=120)
        try:
            return udp_measure(wire, "Linux", serve, wait_served, send)
        except (TimeoutError, ValueError) as error:
            raise peer.PeerError(f"Linux: UDP: {error}") from None


def build_udppeer(directory):
    binary = os.path.join(directory, "udppeer")
    subprocess.run(["cc", "-static", "-O2", "-o", binary, UDPPEER], check=True)
    return binary


def row(label, keel, linux, unit, target, linux_over_keel=True):
    return peer.ratio_row(label, keel, linux, unit, target, linux_over_keel, digits=2)


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench-net.py")
    parser.add_argument("--runs", type=int, default=3, help="boots of each kernel")
    parser.add_argument("--loads", type=int, default=3, help="stack loads per boot")
    parser.add_argument("--peer", choices=("linux", "none"), default="linux")
    parser.add_argument("--only", default=",".join(PARTS),
                        help="what to measure besides the stack's load: any of ping, tcp, udp, comma-separated")
    options = parser.parse_args()
    parts = tuple(part for part in options.only.split(",") if part)
    if not parts or any(part not in PARTS for part in parts):
        parser.error(f"--only takes any of {', '.join(PARTS)}, comma-separated")
    web_port, guest_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as scratch:
        with open(os.path.join(scratch, "big.bin"), "wb") as file:
            file.write(os.urandom(BIG))
        server = serve(scratch, web_port)
        try:
            assets = peer.LinuxAssets.fetch(log=lambda m: print(m, file=sys.stderr)) \
                if options.peer == "linux" else None
            udppeer = build_udppeer(scratch) if assets and "udp" in parts else None
            keel_rounds, linux_rounds = peer.interleave(
                "bench-net", options.runs,
                lambda: dict(keel_round(web_port, guest_port, options.loads, parts),
                             **(dict(keel_udp_round(), **keel_udp_floor()) if "udp" in parts else {})),
                (lambda: dict(linux_round(assets, web_port, guest_port, options.loads, parts),
                              **(linux_udp_round(assets, udppeer) if "udp" in parts else {}))) if assets else None)
        except (peer.PeerError, machine.Timeout, OSError, subprocess.CalledProcessError) as error:
            print(f"bench-net: FAILED, no figures printed: {error}", file=sys.stderr)
            return 1
        finally:
            server.shutdown()

    def median(rounds, key):
        return statistics.median(figures[key] for figures in rounds)

    def linux(key):
        return median(linux_rounds, key) if linux_rounds else None

    print(f"network (median of {options.runs} boots each, a virtio-net-pci card on QEMU's restricted user network"
          f"{'; Keel and Linux ' + assets.release + ' interleaved' if linux_rounds else ''})")
    print(f"  {'':52}{'Keel':>16}{'Linux':>16}  ratio")
    stack = f"Linux {linux_rounds[0]['modules']} modules" if linux_rounds else "Linux not measured"
    print(row(f"load + bind virtio_pci, virtio_net, inet, icmp, udp, tcp to eth0 ({stack})",
              median(keel_rounds, "load us") / 1000, linux("load us") / 1000 if linux_rounds else None, "ms",
              LOAD_TARGET))
    if "ping" in parts:
        print(row(f"ping RTT to the gateway, average of {PINGS}", median(keel_rounds, "ping ms"), linux("ping ms"),
                  "ms", RTT_TARGET))
        print(row(f"ping RTT to the gateway, minimum of {PINGS}", median(keel_rounds, "ping min ms"),
                  linux("ping min ms"), "ms", RTT_TARGET))
    if "tcp" in parts:
        print(row("TCP host to guest: wget of 16 MiB via guestfwd", median(keel_rounds, "download MB/s"),
                  linux("download MB/s"), "MB/s", TCP_TARGET, linux_over_keel=False))
        print(row("TCP guest to host: curl of 16 MiB via hostfwd", median(keel_rounds, "upload MB/s"),
                  linux("upload MB/s"), "MB/s", TCP_TARGET, linux_over_keel=False))
    if "udp" in parts:
        print(row(f"UDP round trip to the guest's echo, p50 of {UDP_ROUND_TRIPS}", median(keel_rounds, "udp rtt us"),
                  linux("udp rtt us"), "us", UDP_RTT_TARGET))
        floor = median(keel_rounds, "udp floor us")
        print(f"  {'  its floor: virtio_net answering from its interrupt':<52}{floor:10.2f} us   "
              + (f"{'':16}{linux('udp rtt us') / floor:8.2f} x   the most a stack above it could reach"
                 if linux_rounds else ""))
        for direction, key in (("host to guest", "udp in /s"), ("guest to host", "udp out /s")):
            print(row(f"UDP {direction}, {UDP_SIZE}-byte datagrams, {UDP_SECONDS} s", median(keel_rounds, key) / 1000,
                      linux(key) / 1000 if linux_rounds else None, "k/s", UDP_RATE_TARGET, linux_over_keel=False))
        print("  (UDP on a -netdev stream link to a host endpoint, scripts/keel/udp_wire.py: restrict=on drops the "
              "guest's datagrams)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
