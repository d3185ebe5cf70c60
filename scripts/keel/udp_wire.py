"""A host endpoint on a guest's Ethernet link, for UDP between the host and
a guest (docs/networking.md, "UDP with the host").

QEMU's user network with restrict=on drops every UDP datagram a guest
sends (apart from DHCP and TFTP), the answers to a hostfwd=udp flow
included, so no host socket ever gets one. Instead the guest's card is on
`-netdev stream` over a UNIX socket in a private directory (a stream, not
`dgram`: a UNIX datagram socket queues only max_dgram_qlen, 10, frames
before its sender must wait): QEMU hands each Ethernet frame the guest
sends to this endpoint, and takes the frames it writes, each behind its
length in 4 bytes. The endpoint is a host at HOST (10.0.3.2) on the link:
it answers ARP for HOST, echoes the datagrams sent to ECHO_PORT
(addresses and ports swapped: both checksums stay valid), counts those
sent to any other port (`count`), sends datagrams to the guest and times
the answers (`round_trips`), and sends them as fast as QEMU takes them
(`blast`). It can also answer the guest's TCP segments to a port with an
ICMP error quoting them, as a router would (`icmp_for_tcp`), the quoted
sequence number optionally changed (a forgery the guest must ignore), and
build and read TCP segments for a test that plays a TCP peer itself
(`tcp_frame`, `tcp_segment`).
Nothing leaves the machine: the link is a socket file.
"""

import array
import collections
import os
import select
import socket
import struct
import threading
import time

HOST = "10.0.3.2"
GUEST = "10.0.3.1"
HOST_MAC = "52:54:00:00:03:02"
GUEST_MAC = "52:54:00:00:03:01"
ECHO_PORT = 7
ETH_IPV4, ETH_ARP = 0x0800, 0x0806


def _mac(text):
    return bytes.fromhex(text.replace(":", ""))


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(array.array("H", data))  # native order; folded and swapped back below
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    value = ~total & 0xFFFF
    return socket.ntohs(value) if socket.ntohs(1) != 1 else value


class UdpWire:
    """The endpoint; `qemu_options()` puts a guest's card on it."""

    def __init__(self, directory, host=HOST, guest=GUEST, host_mac=HOST_MAC, guest_mac=GUEST_MAC):
        self.host, self.guest = socket.inet_aton(host), socket.inet_aton(guest)
        self.host_mac, self.guest_mac = _mac(host_mac), _mac(guest_mac)
        self.guest_mac_text = guest_mac
        self.path = os.path.join(directory, "wire.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(1)
        self.socket = None        # QEMU's connection, once accepted
        self.pending = bytearray()    # bytes read from the link, not yet a whole frame
        self.frames = collections.deque()  # whole frames read, not yet handled, with the time of their read
        self.read_ns = 0                   # perf_counter_ns() of the read that brought the last frame returned
        self.buffer = bytearray(1 << 20)  # what one recv_into takes, allocated once
        self.ip_id = 0
        self.unexpected = 0       # frames for HOST that were neither ARP nor UDP
        self.icmp_answers = {}    # TCP port -> (type, code, sequence offset)
        self.icmp_sent = 0
        self._echoing = None

    def close(self):
        self.stop_echo()
        if self.socket:
            self.socket.close()
        self.listener.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def qemu_options(self, device="virtio-net-pci", pcap=None):
        options = ["-netdev", f"stream,id=n0,server=off,addr.type=unix,addr.path={self.path}",
                   "-device", f"{device},netdev=n0,mac={self.guest_mac_text}"]
        if pcap:
            options += ["-object", f"filter-dump,id=f0,netdev=n0,file={pcap},maxlen=2048"]
        return options

    # ---- frames

    def _connection(self):
        if not self.socket:
            self.listener.settimeout(30)
            self.socket, _ = self.listener.accept()
        return self.socket

    def _send(self, frame):
        self._connection().sendall(struct.pack("!I", len(frame)) + frame)

    def _receive(self, timeout):
        """The next frame from the guest, or None when none came in `timeout` seconds."""
        connection = self._connection()
        deadline = time.monotonic() + timeout
        while not self.frames:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([connection], [], [], left)[0]:
                return None
            size = connection.recv_into(self.buffer)
            if not size:
                raise ConnectionError("QEMU closed the link")
            read_ns = time.perf_counter_ns()
            self.pending += memoryview(self.buffer)[:size]
            self._split_frames(read_ns)
        frame, self.read_ns = self.frames.popleft()
        return frame

    def _split_frames(self, read_ns):
        """Moves every whole frame of `pending` to `frames`: the bytes are
        copied out and dropped once a read, not once a frame (a flood's read
        holds hundreds of them)."""
        data = bytes(self.pending)
        offset, end = 0, len(data)
        while end - offset >= 4:
            length = struct.unpack_from("!I", data, offset)[0]
            if end - offset - 4 < length:
                break
            self.frames.append((data[offset + 4:offset + 4 + length], read_ns))
            offset += 4 + length
        del self.pending[:offset]

    def udp_frame(self, source_port, port, payload):
        """An Ethernet frame with a UDP datagram from HOST:source_port to GUEST:port."""
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        length = 8 + len(payload)
        pseudo = self.host + self.guest + struct.pack("!BBH", 0, 17, length)
        header = struct.pack("!HHHH", source_port, port, length, 0)
        udp_sum = _checksum(pseudo + header + payload) or 0xFFFF
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, self.ip_id, 0x4000, 64, 17, 0, self.host, self.guest)
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        return (self.guest_mac + self.host_mac + struct.pack("!H", ETH_IPV4) + ip
                + struct.pack("!HHHH", source_port, port, length, udp_sum) + payload)

    def tcp_frame(self, source_port, port, sequence, acknowledgment, flags, payload=b"", window=65535, options=b""):
        """An Ethernet frame with a TCP segment from HOST:source_port to
        GUEST:port (`flags` as the header's byte: 0x02 SYN, 0x10 ACK, ...)."""
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        options += b"\0" * (-len(options) % 4)
        header = struct.pack("!HHIIBBHHH", source_port, port, sequence, acknowledgment, (5 + len(options) // 4) << 4,
                             flags, window, 0, 0) + options
        segment = header + payload
        pseudo = self.host + self.guest + struct.pack("!BBH", 0, 6, len(segment))
        segment = segment[:16] + struct.pack("!H", _checksum(pseudo + segment)) + segment[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(segment), self.ip_id, 0x4000, 64, 6, 0, self.host,
                         self.guest)
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        return self.guest_mac + self.host_mac + struct.pack("!H", ETH_IPV4) + ip + segment

    def send_frame(self, frame):
        self._send(frame)

    def tcp_segment(self, timeout):
        """The next TCP segment the guest sends to HOST, ARP answered
        meanwhile: a dict of its ports, numbers, flags, window, options
        ({kind: bytes}) and payload; None when none came in `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self._receive(max(0.0, deadline - time.monotonic()))
            if frame is None:
                return None
            if len(frame) < 54 or struct.unpack_from("!H", frame, 12)[0] != ETH_IPV4 or frame[23] != 6:
                self._handle(frame)
                continue
            if frame[30:34] != self.host:
                continue
            ip_length = (frame[14] & 0x0F) * 4
            total = struct.unpack_from("!H", frame, 16)[0]
            tcp = frame[14 + ip_length:14 + total]
            source_port, port, sequence, acknowledgment, offset, flags, window = struct.unpack_from("!HHIIBBH", tcp)
            header_length = (offset >> 4) * 4
            options, at = {}, 20
            while at < header_length:
                kind = tcp[at]
                if kind == 0:
                    break
                if kind == 1:
                    at += 1
                    continue
                length = tcp[at + 1]
                options[kind] = bytes(tcp[at + 2:at + length])
                at += max(length, 2)
            return {"source_port": source_port, "port": port, "sequence": sequence, "acknowledgment": acknowledgment,
                    "flags": flags, "window": window, "options": options, "payload": bytes(tcp[header_length:])}

    def icmp_for_tcp(self, port, icmp_type, code, sequence_offset=0):
        """Answer every TCP segment the guest sends to HOST:port with an ICMP
        error of `icmp_type` and `code` quoting its IP header and first 8
        bytes, the quoted sequence number moved by `sequence_offset`."""
        self.icmp_answers[port] = (icmp_type, code, sequence_offset)

    def _icmp_error(self, frame, icmp_type, code, sequence_offset):
        header_length = (frame[14] & 0x0F) * 4
        quote = bytearray(frame[14:14 + header_length + 8])
        sequence = (struct.unpack_from("!I", quote, header_length + 4)[0] + sequence_offset) & 0xFFFFFFFF
        struct.pack_into("!I", quote, header_length + 4, sequence)
        icmp = struct.pack("!BBHI", icmp_type, code, 0, 0) + bytes(quote)
        icmp = icmp[:2] + struct.pack("!H", _checksum(icmp)) + icmp[4:]
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), self.ip_id, 0, 64, 1, 0, self.host, self.guest)
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        self._send(self.guest_mac + self.host_mac + struct.pack("!H", ETH_IPV4) + ip + icmp)
        self.icmp_sent += 1

    def _handle(self, frame):
        """Answers ARP for HOST and echoes to ECHO_PORT; returns
        (source port, port, payload) of another UDP datagram to HOST, else None."""
        if len(frame) < 42:
            return None
        ether_type = struct.unpack_from("!H", frame, 12)[0]
        if ether_type == ETH_ARP:
            operation = struct.unpack_from("!H", frame, 20)[0]
            if operation == 1 and frame[38:42] == self.host:
                reply = (frame[6:12] + self.host_mac + struct.pack("!HHHBBH", ETH_ARP, 1, ETH_IPV4, 6, 4, 2)
                         + self.host_mac + self.host + frame[22:28] + frame[28:32])
                self._send(reply)
            return None
        if ether_type != ETH_IPV4 or frame[30:34] != self.host:
            return None
        header_length = (frame[14] & 0x0F) * 4
        if frame[23] == 6 and len(frame) >= 14 + header_length + 8:
            port = struct.unpack_from("!H", frame, 14 + header_length + 2)[0]
            if port in self.icmp_answers:
                self._icmp_error(frame, *self.icmp_answers[port])
                return None
        if frame[23] != 17 or struct.unpack_from("!H", frame, 20)[0] & 0x3FFF:  # not UDP, or a fragment
            self.unexpected += 1
            return None
        udp = 14 + header_length
        source_port, port, length = struct.unpack_from("!HHH", frame, udp)
        payload = frame[udp + 8:udp + length]
        if port == ECHO_PORT:
            ip = frame[14:udp]
            swapped = ip[:12] + ip[16:20] + ip[12:16] + ip[20:]
            self._send(frame[6:12] + frame[0:6] + frame[12:14] + swapped
                       + struct.pack("!HH", port, source_port) + frame[udp + 4:])
            return None
        return source_port, port, payload

    # ---- the host's side of each measurement

    def serve_echo(self):
        """Answer ARP and echo in a thread until stop_echo()."""
        stop = threading.Event()

        def loop():
            while not stop.is_set():
                frame = self._receive(0.1)
                if frame:
                    self._handle(frame)
        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self._echoing = (stop, thread)

    def stop_echo(self):
        if self._echoing:
            self._echoing[0].set()
            self._echoing[1].join()
            self._echoing = None

    def exchange(self, port, payload, source_port=40007, timeout=2.0):
        """Sends `payload` from HOST:source_port to GUEST:port and returns
        the payload of the first datagram back from that port to
        source_port (ARP answered meanwhile). Raises TimeoutError."""
        self._send(self.udp_frame(source_port, port, payload))
        deadline = time.monotonic() + timeout
        while True:
            frame = self._receive(deadline - time.monotonic())
            if frame is None:
                raise TimeoutError(f"{len(payload)} bytes to port {port}: no answer in {timeout} s")
            answer = self._handle(frame)
            if answer and answer[0] == port and answer[1] == source_port:
                return answer[2]

    def round_trips(self, port, count, size, timeout=2.0, source_port=40007):
        """`count` datagrams of `size` bytes (at least 4) to GUEST:port, one
        at a time, each answered before the next; returns the round trips
        in microseconds. Raises TimeoutError when an answer does not come,
        ValueError when it differs from what was sent.

        Only the guest's part is timed, as far as the host can: each frame
        (checksums included) is built before its clock starts, which stops
        when the read that brought the answer returned (the frame's parsing
        and the comparison with what was sent come after)."""
        times = []
        for sequence in range(count):
            payload = struct.pack("!I", sequence) + bytes((sequence + i) & 0xFF for i in range(size - 4))
            frame = self.udp_frame(source_port, port, payload)
            message = struct.pack("!I", len(frame)) + frame
            connection = self._connection()
            started = time.perf_counter_ns()
            connection.sendall(message)
            answer = self._answer(port, source_port, started + int(timeout * 1e9))
            times.append((self.read_ns - started) / 1000)
            if answer is None:
                raise TimeoutError(f"{len(payload)} bytes to port {port}: no answer in {timeout} s")
            if answer != payload:
                raise ValueError(f"datagram {sequence}: {len(payload)} bytes sent, {len(answer)} different ones came "
                                 "back")
        return times

    def _answer(self, port, source_port, deadline_ns):
        """The payload of the first datagram from GUEST:port to
        HOST:source_port (other frames handled as ever), or None at
        `deadline_ns` (perf_counter_ns)."""
        while True:
            frame = self._receive(max(0.0, (deadline_ns - time.perf_counter_ns()) / 1e9))
            if frame is None:
                return None
            answer = self._handle(frame)
            if answer and answer[0] == port and answer[1] == source_port:
                return answer[2]

    def blast(self, port, size, seconds, source_port=40001):
        """Datagrams of `size` bytes to GUEST:port for `seconds`, as fast as
        QEMU takes them (a full socket queue makes the send wait); the
        number sent. ARP is not answered meanwhile."""
        frame = self.udp_frame(source_port, port, bytes(i & 0xFF for i in range(size)))
        burst = (struct.pack("!I", len(frame)) + frame) * 64
        connection = self._connection()
        sent = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            connection.sendall(burst)
            sent += 64
        return sent

    def count(self, port, wait=30.0, quiet=1.0, longest=60.0):
        """Datagrams the guest sends to HOST:port, answering ARP meanwhile:
        from the first, until none came for `quiet` seconds; returns
        (datagrams, bytes, seconds between the first and the last).

        A frame that is plainly an unfragmented UDP datagram from GUEST to
        HOST:port (20-byte IPv4 header) is counted here without `_handle`,
        so that the endpoint's Python is not what limits a flood; any other
        frame is handled as ever."""
        datagrams = size = 0
        first = last = None
        deadline = time.monotonic() + wait
        prefix = struct.pack("!H", ETH_IPV4)
        udp_protocol = bytes([17])
        port_bytes = struct.pack("!H", port)
        while True:
            limit = deadline if first is None else min(last + quiet, first + longest)
            frame = self._receive(limit - time.monotonic())
            if frame is None:
                break
            if (len(frame) >= 42 and frame[12:14] == prefix and frame[14] == 0x45 and frame[23:24] == udp_protocol
                    and not frame[20] & 0x3F and not frame[21] and frame[26:30] == self.guest
                    and frame[30:34] == self.host and frame[36:38] == port_bytes):
                length = struct.unpack_from("!H", frame, 38)[0] - 8
            else:
                answer = self._handle(frame)
                if not answer or answer[1] != port:
                    continue
                length = len(answer[2])
            last = time.monotonic()
            first = first or last
            datagrams += 1
            size += length
        return datagrams, size, (last - first) if first else 0.0
