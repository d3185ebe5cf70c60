"""Joins standard input and output to a TCP connection to 127.0.0.1:PORT.

QEMU's guestfwd runs it for each connection the guest makes to the
forwarded address (`guestfwd=tcp:ADDR:PORT-cmd:python3 tcp_bridge.py
HOSTPORT`): a tcp: chardev would connect once, when QEMU starts, and
serve a single guest connection."""

import os
import socket
import sys
import threading


def main():
    connection = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=600)

    def upstream():
        while data := os.read(0, 65536):
            connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
    threading.Thread(target=upstream, daemon=True).start()
    while data := connection.recv(65536):
        os.write(1, data)
    connection.close()


if __name__ == "__main__":
    main()
