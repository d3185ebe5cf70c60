"""QEMU's machine protocol (QMP) on a UNIX socket: how a test changes the
machine under a running guest, for example `set_link` to pull a network
card's cable. One command at a time; events QEMU sends meanwhile are
skipped. Every wait has a time limit."""

import json
import os
import socket
import time


class QmpError(Exception):
    pass


def qmp_options(path):
    """QEMU options for a QMP server on the UNIX socket `path` (QEMU does
    not wait for a client)."""
    return ["-qmp", f"unix:{path},server=on,wait=off"]


class Qmp:
    def __init__(self, path, timeout=10.0):
        deadline = time.monotonic() + timeout
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket.settimeout(timeout)
        while True:
            try:
                self.socket.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() >= deadline or not os.path.exists(os.path.dirname(path)):
                    self.socket.close()
                    raise QmpError(f"no QMP server on {path} after {timeout:.0f}s")
                time.sleep(0.05)
        self.file = self.socket.makefile("rwb")
        greeting = self._receive()
        if "QMP" not in greeting:
            raise QmpError(f"not a QMP greeting: {greeting}")
        self.execute("qmp_capabilities")

    def _receive(self):
        line = self.file.readline()
        if not line:
            raise QmpError("QEMU closed the QMP connection")
        return json.loads(line)

    def execute(self, command, **arguments):
        """Runs `command` with `arguments`; returns QEMU's "return" value,
        raises QmpError with QEMU's description of an error."""
        request = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        self.file.write(json.dumps(request).encode() + b"\n")
        self.file.flush()
        while True:
            reply = self._receive()
            if "event" in reply:
                continue
            if "error" in reply:
                raise QmpError(f"{command}: {reply['error'].get('desc', reply['error'])}")
            return reply.get("return")

    def close(self):
        self.file.close()
        self.socket.close()
