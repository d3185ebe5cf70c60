#!/usr/bin/env python3
"""Writes a built-in keyring source (scripts/gen-builtin-keys.py) holding
keys of every kind ed25519_prepare_key tells apart, for
unit-crypto-builtin-keys to compare the build's preparation with the
kernel's: an honest key (tests/keys/blocked-test.pem), the same key plus
points of order 2, 4 and 8 (torsion components), a point of order 8, a y
with no x, and a non-canonical y. Every key goes in as a public-key PEM, as
the build's keys do.

    gen_prepared_key_cases.py OUTPUT.cpp
"""
import base64
import os
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from ed25519_points import IDENTITY, L, P, add, multiply, recover_x  # noqa: E402

GENERATOR = os.path.join(ROOT, "scripts", "gen-builtin-keys.py")
HONEST = os.path.join(ROOT, "tests", "keys", "blocked-test.pem")


def encode(point):
    x, y = point
    return (y | (x & 1) << 255).to_bytes(32, "little")


def decode(data):
    value = int.from_bytes(data, "little")
    y = value & (2**255 - 1)
    return recover_x(y, value >> 255), y


def torsion_points():
    """Points of order 2, 4 and 8: [L]Q for points Q whose [L]Q has that order."""
    found = {}
    y = 2
    while len(found) < 3:
        y += 1
        x = recover_x(y, 0)
        if x is None:
            continue
        t = multiply(L, (x, y))
        order = next(n for n in (1, 2, 4, 8) if multiply(n, t) == IDENTITY)
        if order > 1:
            found.setdefault(order, t)
    return found


def pem(raw):
    der = bytes.fromhex("302a300506032b6570032100") + raw
    return b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der) + b"\n-----END PUBLIC KEY-----\n"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    der = subprocess.run(["openssl", "pkey", "-in", HONEST, "-pubout", "-outform", "DER"], capture_output=True,
                         check=True).stdout
    honest = der[12:]
    a = decode(honest)
    torsion = torsion_points()
    keys = [("honest", honest)]
    for order in (2, 4, 8):
        keys.append((f"honest + order {order}", encode(add(a, torsion[order]))))
    keys += [
        ("order 8", encode(torsion[8])),
        ("no x", (2).to_bytes(32, "little")),
        ("y is p", P.to_bytes(32, "little")),
    ]
    with tempfile.TemporaryDirectory() as scratch:
        arguments = []
        for i, (description, raw) in enumerate(keys):
            path = os.path.join(scratch, f"{i}.pem")
            with open(path, "wb") as f:
                f.write(pem(raw))
            arguments += ["--key", f"{description}={path}"]
        subprocess.run([sys.executable, GENERATOR, sys.argv[1], "--enforce", "no"] + arguments, check=True)


if __name__ == "__main__":
    main()
