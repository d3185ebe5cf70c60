"""ip=dhcp and dhclient on QEMU's restricted user network (docs/networking.md,
"DHCP"): the boot loads inet, waits for eth0, gets the lease QEMU's DHCP
server gives (10.0.2.15/24 from 10.0.2.2; with restrict=on it gives no
router, so the default route comes from ip='s gateway field, as in Linux)
and tshark judges the exchange in QEMU's capture; without a network device
or with a bad ip= the boot says why and reaches the console in bounded
time; scripts/run --net user does all of it from the command line.

Nothing leaves the machine: restrict=on, forwards from 127.0.0.1 only."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time

from cases_devices import out_of
from cases_vnet import GATEWAY, GUEST, tshark, user_net
from harness import BUILD, boot, case, check

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LEASE = re.compile(r"inet: eth0: DHCP lease 10\.0\.2\.15/24 from 10\.0\.2\.2, router (\S+), 86400 s")


def judge_exchange(pcap, exchanges=1):
    """tshark: nothing malformed, no bad checksum; DISCOVER, OFFER, REQUEST,
    ACK `exchanges` times, the REQUEST for the offered address."""
    out = tshark(pcap, "-Y", "_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || "
                 "udp.checksum.status == 0")
    check(out.strip() == "", f"tshark found bad frames:\n{out}")
    types = tshark(pcap, "-Y", "dhcp", "-T", "fields", "-e", "dhcp.option.dhcp").split()
    check(types == ["1", "2", "3", "5"] * exchanges, f"DHCP message types {types}")
    requests = tshark(pcap, "-Y", "dhcp.option.dhcp == 3", "-T", "fields", "-e", "ip.src", "-e", "ip.dst",
                      "-e", "udp.srcport", "-e", "udp.dstport", "-e", "dhcp.option.requested_ip_address",
                      "-e", "dhcp.option.dhcp_server_id").splitlines()
    check(requests and all(line.split() == ["0.0.0.0", "255.255.255.255", "68", "67", GUEST, GATEWAY]
                           for line in requests), f"REQUESTs: {requests}")


@case
def dhcp_ip_dhcp_configures_eth0_from_the_user_network():
    """ip=dhcp: the lease is logged, eth0 has 10.0.2.15/24, the gateway
    answers pings; dhclient refuses a configured device and gets the lease
    again once the address is gone; the capture holds two clean exchanges."""
    with tempfile.TemporaryDirectory() as directory:
        pcap = os.path.join(directory, "n0.pcap")
        with boot("panic=-1 ip=dhcp", extra=user_net(pcap=pcap)) as vm:
            log = out_of(vm, "dmesg")
            check(re.search(r"ip=dhcp: asking for a DHCP lease on eth0 \(at most 20 s\)", log), "no DHCP start", vm)
            match = LEASE.search(log)
            check(match, f"no lease line in the log:\n{log[-3000:]}", vm)
            # QEMU's restricted network leases no router (nor DNS).
            check(match.group(1) == "none", f"router {match.group(1)}", vm)
            # The lease came before the console.
            check(log.index("DHCP lease") < log.index("console:") if "console:" in log else True,
                  "the lease came after the console", vm)
            out = out_of(vm, "ip addr show eth0")
            check(re.search(r"eth0: <BROADCAST,UP,LOWER_UP>", out)
                  and re.search(r"inet 10\.0\.2\.15/24 scope global eth0", out), f"ip addr show eth0: {out}", vm)
            out = out_of(vm, "ip route")
            check(re.search(r"^10\.0\.2\.0/24 dev eth0 proto kernel scope link src 10\.0\.2\.15$", out, re.M)
                  and "default" not in out, f"ip route: {out}", vm)
            out = out_of(vm, f"ping -c 3 -i 0.2 {GATEWAY}", timeout=60)
            check("3 packets transmitted, 3 received, 0% packet loss" in out, f"ping: {out}", vm)
            out = out_of(vm, "dhclient eth0")
            check("dhclient: eth0 has an address already" in out, f"dhclient on a configured eth0: {out}", vm)
            for line, expected in (("dhclient eth7", 'Cannot find device "eth7"'),
                                   ("dhclient -t 0 eth0", "dhclient: -t takes 1 to 600 seconds"),
                                   ("dhclient eth0 eth1", "Usage: dhclient")):
                out = out_of(vm, line)
                check(expected in out, f"'{line}' should say '{expected}': {out}", vm)
            out_of(vm, f"ip addr del {GUEST}/24 dev eth0")
            out = out_of(vm, "dhclient -t 10 eth0", timeout=60)
            check("dhclient: eth0: lease 10.0.2.15/24 from 10.0.2.2, router none, 86400 s" in out,
                  f"dhclient: {out}", vm)
            out = out_of(vm, f"ping -c 1 {GATEWAY}", timeout=60)
            check("1 received" in out, f"ping after dhclient: {out}", vm)
            vm.kill()
        judge_exchange(pcap, exchanges=2)


@case
def dhcp_gateway_from_the_command_line_is_the_default_route():
    """ip=::10.0.2.2:::eth0:dhcp (Linux's long form): the lease plus the
    command line's gateway as the default route."""
    with boot(f"panic=-1 ip=::{GATEWAY}:::eth0:dhcp", extra=user_net()) as vm:
        log = out_of(vm, "dmesg")
        check(LEASE.search(log), f"no lease line:\n{log[-3000:]}", vm)
        check(f"eth0: default route via {GATEWAY} (from the command line)" in log, "no default route line", vm)
        out = out_of(vm, "ip route")
        check(out.startswith(f"default via {GATEWAY} dev eth0\n"), f"ip route: {out}", vm)
        out = out_of(vm, f"ping -c 2 -i 0.2 {GATEWAY}", timeout=60)
        check("2 received, 0% packet loss" in out, f"ping: {out}", vm)


@case
def dhcp_without_a_device_or_with_a_bad_value_the_console_still_starts():
    """ip=dhcp on a machine without a driven network card: a clear line and
    the prompt within the device wait; ip=foo and ip=bootp: refused with the
    reason, at once."""
    start = time.monotonic()
    with boot("panic=-1 ip=dhcp") as vm:
        elapsed = time.monotonic() - start
        log = out_of(vm, "dmesg")
        check("ip=dhcp: no network device after 5 s; the boot goes on without network" in log,
              f"no line for the missing device:\n{log[-3000:]}", vm)
        check(elapsed < 45, f"the console took {elapsed:.0f} s", vm)
        out = out_of(vm, "dhclient")
        check("dhclient: no network device" in out, f"dhclient: {out}", vm)
    usage = "give dhcp, on, any, off, none or CLIENT:SERVER:GATEWAY:NETMASK:HOST:DEVICE:AUTOCONF"
    for value, reason in (("foo", usage),
                          ("bootp", "bootp is not implemented (dhcp is)"),
                          (":::::eth0:maybe", "autoconf maybe: give dhcp, on, any, off or none")):
        with boot(f"panic=-1 ip={value}") as vm:
            log = out_of(vm, "dmesg")
            check(f"cmdline: ip={value}: {reason}; ignored" in log, f"ip={value}:\n{log[-2000:]}", vm)
            check("DHCP" not in log and "inet:" not in log, f"ip={value} still configured something", vm)


def free_tcp_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@case
def dhcp_scripts_run_net_user():
    """scripts/run --net user adds the card and ip=dhcp; --hostfwd listens
    on 127.0.0.1 only; --pcap captures the exchange; bad options are refused."""
    port = free_tcp_port()
    # QEMU connects a guestfwd's host end when it starts: it must listen first.
    with tempfile.TemporaryDirectory() as directory, socket.socket() as host_end:
        host_end.bind(("127.0.0.1", 0))
        host_end.listen(1)
        host_end.settimeout(60)
        pcap = os.path.join(directory, "run.pcap")
        command = [sys.executable, os.path.join(ROOT, "scripts", "run.py"), "--timeout", "90", "--net", "user",
                   "--hostfwd", f"tcp:{port}:23", "--guestfwd", f"tcp:10.0.2.100:80:{host_end.getsockname()[1]}",
                   "--pcap", pcap]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, env=dict(os.environ, KEEL_BUILD=BUILD))
        # scripts/run reads its commands to the end before it boots.
        process.stdin.write("ip addr show eth0\nping -c 1 10.0.2.2\n")
        process.stdin.close()
        connection, peer = host_end.accept()
        connection.close()
        check(peer[0] == "127.0.0.1", f"the guestfwd came from {peer}")
        # While it runs, QEMU listens on the forward's 127.0.0.1 port.
        deadline = time.monotonic() + 60
        listening = False
        while time.monotonic() < deadline and not listening:
            with socket.socket() as probe:
                listening = probe.connect_ex(("127.0.0.1", port)) == 0
            time.sleep(0.2)
        output = process.stdout.read()
        process.wait(timeout=120)
        check(listening, f"nothing listened on 127.0.0.1:{port}:\n{output[-2000:]}")
        check(process.returncode == 0, f"status {process.returncode}:\n{output[-3000:]}")
        check("Command line: panic=-1 ip=dhcp" in output, f"no ip=dhcp:\n{output[-3000:]}")
        check(LEASE.search(output) and "inet 10.0.2.15/24 scope global eth0" in output and "1 received" in output,
              f"no lease, address or ping:\n{output[-3000:]}")
        judge_exchange(pcap)
    for arguments, message in ((["--hostfwd", "tcp:1:2"], "--hostfwd, --guestfwd and --pcap need --net"),
                               (["--net", "user", "--hostfwd", "tcp:0.0.0.0:1:2"], "expected tcp|udp:HOSTPORT"),
                               (["--net", "user", "--guestfwd", "tcp:192.168.1.1:80:9"], "not on the guest's network"),
                               (["--net", "bridge"], "expected user or stream:PATH")):
        result = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "run.py")] + arguments,
                                capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        check(result.returncode == 2 and message in result.stderr, f"{arguments}: {result.stderr}")


@case
def dhcp_stream_segment_between_two_guests():
    """scripts/run's --net stream:PATH: the first guest serves the UNIX
    socket, the second connects (another MAC); ip='s static form configures
    both, and they ping each other."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from keel import network
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "segment")
        first = network.options(f"stream:{path}")
        check("server=on" in first[1] and network.MAC_SERVER in first[3], f"first guest: {first}")
        with boot("panic=-1 ip=10.0.3.1:::255.255.255.0::eth0:off", extra=first) as server:
            second = network.options(f"stream:{path}")
            check("server=off" in second[1] and network.MAC_CLIENT in second[3], f"second guest: {second}")
            with boot("panic=-1 ip=10.0.3.2:::255.255.255.0::eth0:off", extra=second) as client:
                out = out_of(client, "ping -c 3 -i 0.2 10.0.3.1", timeout=60)
                check("3 packets transmitted, 3 received, 0% packet loss" in out, f"ping: {out}", client)
                out = out_of(server, "ip neigh")
                check(f"10.0.3.2 dev eth0 lladdr {network.MAC_CLIENT} REACHABLE" in out, f"ip neigh: {out}", server)


@case
def dhcp_without_a_server_gives_up_in_bounded_time():
    """ip=dhcp on a stream segment nobody else is on: three DISCOVERs, the
    line saying no lease came, and the console, within the 20 s bound."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from keel import network
    with tempfile.TemporaryDirectory() as directory:
        pcap = os.path.join(directory, "alone.pcap")
        start = time.monotonic()
        with boot("panic=-1 ip=dhcp", extra=network.options(f"stream:{os.path.join(directory, 'segment')}",
                                                            pcap=pcap)) as vm:
            elapsed = time.monotonic() - start
            log = out_of(vm, "dmesg")
            check("ip=dhcp: eth0: no DHCP lease within 20 s; the boot goes on without network" in log,
                  f"no timeout line:\n{log[-3000:]}", vm)
            check(20 <= elapsed < 55, f"the console came after {elapsed:.0f} s", vm)
            out = out_of(vm, "ip addr show eth0")
            check("inet " not in out, f"eth0 has an address: {out}", vm)
            vm.kill()
        discovers = tshark(pcap, "-Y", "dhcp.option.dhcp == 1", "-T", "fields", "-e", "frame.time_relative").split()
        check(len(discovers) == 3, f"DISCOVERs at {discovers}")
        gaps = [float(b) - float(a) for a, b in zip(discovers, discovers[1:])]
        check(3 <= gaps[0] <= 5.1 and 7 <= gaps[1] <= 9.1, f"back-off {gaps}")
