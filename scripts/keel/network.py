"""scripts/run's network options: QEMU's restricted user network (with DHCP,
forwards from 127.0.0.1 only) or a UNIX-socket segment between guests, a
virtio-net card on it, a capture (docs/running.md). Nothing leaves the
machine: the user network runs with restrict=on, every host end of a
forward is 127.0.0.1."""

import ipaddress
import os
import socket
import stat

# The card is the same on both architectures: virt has PCIe (ECAM) too.
CARD = "virtio-net-pci"
# QEMU's default MAC; the second guest on a stream segment takes the next.
MAC_SERVER = "52:54:00:12:34:56"
MAC_CLIENT = "52:54:00:12:34:57"
CAPTURE_BYTES = 65535


def _port(text, what):
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{what}: {text!r} is not a port (1 to 65535)")
    return int(text)


def hostfwd(spec):
    """"tcp:HOSTPORT:GUESTPORT" -> "hostfwd=tcp:127.0.0.1:HOSTPORT-:GUESTPORT"."""
    parts = spec.split(":")
    if len(parts) != 3 or parts[0] not in ("tcp", "udp"):
        raise ValueError(f"--hostfwd {spec}: expected tcp|udp:HOSTPORT:GUESTPORT")
    host = _port(parts[1], f"--hostfwd {spec}")
    guest = _port(parts[2], f"--hostfwd {spec}")
    return f"hostfwd={parts[0]}:127.0.0.1:{host}-:{guest}"


def guestfwd(spec):
    """"tcp:ADDR:PORT:HOSTPORT" -> "guestfwd=tcp:ADDR:PORT-tcp:127.0.0.1:HOSTPORT":
    the guest's connections to ADDR:PORT reach 127.0.0.1:HOSTPORT."""
    parts = spec.split(":")
    if len(parts) != 4 or parts[0] != "tcp":
        raise ValueError(f"--guestfwd {spec}: expected tcp:ADDR:PORT:HOSTPORT")
    try:
        address = ipaddress.IPv4Address(parts[1])
    except ValueError:
        raise ValueError(f"--guestfwd {spec}: {parts[1]!r} is not an IPv4 address") from None
    if address not in ipaddress.IPv4Network("10.0.2.0/24"):
        raise ValueError(f"--guestfwd {spec}: {address} is not on the guest's network 10.0.2.0/24")
    port = _port(parts[2], f"--guestfwd {spec}")
    host = _port(parts[3], f"--guestfwd {spec}")
    return f"guestfwd=tcp:{address}:{port}-tcp:127.0.0.1:{host}"


def _listening(path):
    """Whether a guest already serves the segment at `path`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def options(net, hostfwds=(), guestfwds=(), pcap=None):
    """QEMU options for --net (None, "user" or "stream:PATH") and the rest;
    ValueError for a combination that makes no sense."""
    if net is None:
        if hostfwds or guestfwds or pcap:
            raise ValueError("--hostfwd, --guestfwd and --pcap need --net")
        return []
    mac = MAC_SERVER
    if net == "user":
        rules = [hostfwd(spec) for spec in hostfwds] + [guestfwd(spec) for spec in guestfwds]
        netdev = ",".join(["user,id=n0,restrict=on"] + rules)
    elif net.startswith("stream:") and len(net) > len("stream:"):
        if hostfwds or guestfwds:
            raise ValueError("--hostfwd and --guestfwd need --net user")
        path = os.path.abspath(net[len("stream:"):])
        # The first guest serves the socket, the next one connects to it.
        if _listening(path):
            server = "off"
            mac = MAC_CLIENT
        else:
            if os.path.exists(path):
                if not stat.S_ISSOCK(os.stat(path).st_mode):
                    raise ValueError(f"--net {net}: {path} exists and is not a socket")
                os.unlink(path)  # left by a guest that has gone
            server = "on"
        netdev = f"stream,id=n0,server={server},addr.type=unix,addr.path={path}"
    else:
        raise ValueError(f"--net {net}: expected user or stream:PATH")
    result = ["-netdev", netdev, "-device", f"{CARD},netdev=n0,mac={mac}"]
    if pcap:
        result += ["-object", f"filter-dump,id=f0,netdev=n0,file={os.path.abspath(pcap)},maxlen={CAPTURE_BYTES}"]
    return result


def kernel_args(net, kernel_args):
    """ip=dhcp for the user network (its DHCP server leases 10.0.2.15),
    unless the command line says ip= itself."""
    if net == "user" and not any(arg.startswith("ip=") for arg in kernel_args):
        return kernel_args + ["ip=dhcp"]
    return kernel_args
