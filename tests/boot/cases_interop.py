"""A Keel guest and a Debian Linux guest (the benchmark's peer,
scripts/keel/peer.py) on one `-netdev stream` UNIX socket: ARP and ping
both ways, UDP both ways (Keel's nc against udppeer, built here, since
busybox's nc has no UDP), TCP both ways (Keel's wget from busybox's
httpd, busybox's wget from Keel's httpd), every byte checked by
sha256sum on both sides; tshark judges the capture. Linux judges Keel's
frames by accepting them. Nothing leaves the machine: the link is a
socket file."""

import hashlib
import os
import re
import subprocess
import sys
import tempfile

from cases_devices import out_of
from cases_vnet import load_ipv4, tshark
from harness import PROMPT, boot, case, check

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from keel import peer  # noqa: E402

KEEL = "10.0.3.1"
LINUX = "10.0.3.2"
KEEL_MAC = "52:54:00:00:03:01"
LINUX_MAC = "52:54:00:00:03:02"
# Waits until the Linux side's server (started in the background) is bound.
LISTENING = "while ! netstat -{flags} | grep -q ':{port} '; do sleep 0.1; done"
UDPPEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peer", "udppeer.c")


def build_udppeer(directory):
    binary = os.path.join(directory, "udppeer")
    subprocess.run(["cc", "-static", "-O2", "-o", binary, UDPPEER], check=True)
    return binary


@case
def interop_keel_and_linux_on_a_stream_link():
    """ARP, ping, UDP and TCP both ways between Keel and Linux."""
    assets = peer.LinuxAssets.fetch(log=lambda message: print(message, file=sys.stderr))
    with tempfile.TemporaryDirectory() as directory:
        link = os.path.join(directory, "link.sock")
        pcap = os.path.join(directory, "link.pcap")
        keel_net = ["-netdev", f"stream,id=n0,server=on,addr.type=unix,addr.path={link}",
                    "-device", f"virtio-net-pci,netdev=n0,mac={KEEL_MAC}",
                    "-object", f"filter-dump,id=f0,netdev=n0,file={pcap},maxlen=2048"]
        linux_net = ["-netdev", f"stream,id=n0,server=off,addr.type=unix,addr.path={link}",
                     "-device", f"virtio-net-pci,netdev=n0,mac={LINUX_MAC}"]
        modules = assets.module_stack(("virtio_pci", "virtio_net"))
        files = {f"/lib/peer/{name}.ko": assets.module(name) for name in modules}
        files["/bin/udppeer"] = build_udppeer(directory)
        data = os.urandom(512 * 1024)
        files["/www/data.bin"] = data
        with boot("panic=-1", extra=keel_net) as vm, peer.LinuxGuest(assets, files) as linux:
            linux.start(linux_net)
            linux.run(" && ".join(f"insmod /lib/peer/{name}.ko" for name in modules))
            linux.run("while [ ! -e /sys/class/net/eth0 ]; do :; done")
            linux.run(f"ip link set eth0 up && ip addr add {LINUX}/24 dev eth0")
            load_ipv4(vm)
            for line in ("ip link set eth0 up", f"ip addr add {KEEL}/24 dev eth0"):
                out = out_of(vm, line)
                check(not re.search(r"RTNETLINK|Usage|Cannot", out), f"{line}: {out}", vm)

            # ARP and ping, both ways.
            out = out_of(vm, f"ping -c 5 -i 0.2 {LINUX}", timeout=60)
            check("5 packets transmitted, 5 received, 0% packet loss" in out, f"Keel pings Linux: {out}", vm)
            check(f"{LINUX} dev eth0 lladdr {LINUX_MAC} REACHABLE" in out_of(vm, "ip neigh"), "Keel's ip neigh", vm)
            out = linux.run(f"ping -c 5 {KEEL}", timeout=60)
            check("5 packets transmitted, 5 packets received, 0% packet loss" in out, f"Linux pings Keel: {out}", vm)
            out = linux.run("ip neigh")
            check(f"{KEEL} dev eth0 lladdr {KEEL_MAC}" in out, f"Linux's ip neigh: {out}", vm)

            # UDP: Linux to Keel's nc -l -u, then Keel's nc -u to Linux's echo.
            vm.send("nc -l -u -w 30 9000 hello from keel")
            vm.expect("Listening on 0.0.0.0 9000", 30)
            out = linux.run(f"udppeer send {KEEL} 9000 hello-from-linux", timeout=30)
            check("reply: hello from keel\n" in out, f"udppeer's reply: {out}", vm)
            vm.expect_re(rf"Connection received on {re.escape(LINUX)}:\d+", 30)
            vm.expect("hello-from-linux", 30)
            vm.expect(PROMPT, 60)
            linux.run("(udppeer echo 9001 1 > /tmp/udp.log 2>&1 &) ; " + LISTENING.format(flags="lun", port=9001))
            out = out_of(vm, f"nc -u -w 3 {LINUX} 9001 datagram from keel", timeout=60)
            check("echo: datagram from keel" in out, f"Keel's nc -u to Linux's echo: {out}; Linux: "
                  + linux.run("cat /tmp/udp.log; ps; cat /proc/net/udp; ip -s link", check=False), vm)

            # TCP: Keel's wget from busybox's httpd ...
            linux.run("httpd -p 8000 -h /www")
            out = out_of(vm, f"wget -O /data.bin http://{LINUX}:8000/data.bin", timeout=120)
            check("'/data.bin' saved (524288 bytes" in out, f"Keel's wget from Linux: {out}", vm)
            digest = hashlib.sha256(data).hexdigest()
            check(out_of(vm, "sha256sum /data.bin").strip() == f"{digest}  /data.bin", "Keel's copy differs", vm)
            # ... and busybox's wget from Keel's httpd.
            vm.send("httpd -p 8080 -c 1 -w 60 /")
            vm.expect("httpd: serving / on 0.0.0.0:8080", 30)
            linux.run(f"wget -q -O /tmp/back.bin http://{KEEL}:8080/data.bin", timeout=120)
            vm.expect("httpd: 1 request(s) served", 60)
            vm.expect(PROMPT, 30)
            out = linux.run("sha256sum /tmp/back.bin")
            check(out.split()[0] == digest, f"Linux's copy from Keel differs: {out}", vm)
            # nc over TCP: Keel to busybox's nc -l.
            linux.run("(nc -l -p 9002 > /tmp/tcp.txt 2>&1 &) ; " + LISTENING.format(flags="ltn", port=9002))
            out_of(vm, f"nc -w 3 {LINUX} 9002 stream from keel", timeout=60)
            out = linux.run("sleep 1; cat /tmp/tcp.txt")
            check("stream from keel" in out, f"Linux's nc -l got: {out}", vm)
            vm.kill()

        # The test's own ports carry plain data. tshark tries a conversation's
        # lower port first and then the other: a Linux source port that
        # happens to be some protocol's (54328, Elasticsearch's discovery)
        # made a datagram to 9000 a malformed "Zen Ping".
        out = tshark(pcap, "-d", "udp.port==9000,data", "-d", "udp.port==9001,data", "-d", "tcp.port==9002,data",
                     "-Y", "_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || "
                     "tcp.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0")
        check(out.strip() == "", f"tshark found bad frames:\n{out}")
        arp = tshark(pcap, "-Y", f"arp.opcode == 2 && arp.src.proto_ipv4 == {KEEL}")
        check(arp.strip(), "no ARP reply from Keel in the capture")
