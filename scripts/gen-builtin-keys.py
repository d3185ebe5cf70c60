#!/usr/bin/env python3
"""Generate the core's built-in keyring (loader/keyring.h) as C++.

  gen-builtin-keys.py OUT.cpp --enforce yes|no
  gen-builtin-keys.py --manifest OUT.manifest --abi-manifest ABI.manifest --enforce yes|no
        [--key DESCRIPTION=FILE.pem ...]      private or public Ed25519 PEM
        [--blocked-key HEX ...] [--blocked-digest HEX ...]
        [--blocked-key-pem FILE.pem ...]      block this key (its id computed here)
        [--blocked-module FILE.kmod ...]      block this module's image digest
        [--known-module NAME=FILE.kmod ...]   trust this module's image by its digest

Each key goes in prepared, as ed25519_prepare_key (core/lib/crypto/ed25519.h)
would prepare it at boot: its status, whether it is torsion-free, and its
odd multiples, computed here in Python integers so that the kernel does no
point arithmetic for its built-in keys (unit-crypto-builtin-keys compares
the two).

With --manifest it writes the core's manifest instead: the ABI part that
`keel-abi.py manifest` made, then the same keyring as text (sig_enforce,
key, blocked-key, blocked-digest lines), for kmodinfo --check-against.

A blocked module digest is the BLAKE2b-512 of the module's image (the file
without its signature trailer), whatever digest the module is signed with
(docs/module-signing.md). A known module's digest is the same: the kernel
trusts that image as it trusts itself, without a key (docs/module-signing.md,
"Modules the kernel knows by digest").

Each key's id (the first 16 bytes of SHA-512 of the key) is computed here
too, so the boot hashes nothing for its built-in keys.
"""

import argparse
import hashlib
import os
import struct
import subprocess
import sys

from ed25519_points import IDENTITY, KEY_TABLES, L, P, SPLIT_BITS, limbs, multiply, niels, odd_multiples, recover_x

FOOTER_MAGIC = b"~Keel module signature~\n"


def raw_public_key(path):
    """The 32 raw bytes of an Ed25519 public key, from a private or public PEM."""
    with open(path, "rb") as f:
        pem = f.read()
    command = ["openssl", "pkey", "-pubout", "-outform", "DER"]
    if b"PUBLIC KEY" in pem:
        command.insert(2, "-pubin")
    result = subprocess.run(command, input=pem, capture_output=True, check=False)
    if result.returncode != 0:
        sys.exit(f"gen-builtin-keys: {path}: not a readable key: {result.stderr.decode().strip()}")
    der = result.stdout
    # SubjectPublicKeyInfo for Ed25519 is a fixed 12-byte prefix + 32 bytes.
    if len(der) != 44 or der[:12] != bytes.fromhex("302a300506032b6570032100"):
        sys.exit(f"gen-builtin-keys: {path}: not an Ed25519 key")
    return der[12:]


def key_id(public_key):
    """A key id is the first 16 bytes of SHA-512 of the raw public key."""
    return hashlib.sha512(public_key).digest()[:16]


def image(path):
    """A module's image: the file without its signature trailer."""
    with open(path, "rb") as f:
        data = f.read()
    if data.endswith(FOOTER_MAGIC) and len(data) >= 32:
        _, _, trailer_length = struct.unpack_from("<HHI", data, len(data) - 32)
        if trailer_length <= len(data):
            data = data[:len(data) - trailer_length]
    return data


def image_digest(path):
    """BLAKE2b-512 of a module's image."""
    return hashlib.blake2b(image(path), digest_size=64).digest()


def hex_bytes(text, size, what):
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != size:
        sys.exit(f"gen-builtin-keys: {what} '{text}' is not {size * 2} hex digits")
    return value


# core/lib/crypto/ed25519.h: Ed25519PublicKey::table_size.
KEY_TABLE_SIZE = 8


def prepare_key(raw):
    """(status, torsion_free, tables) as ed25519_prepare_key computes them:
    tables[j][i] = (2i + 1) [2^(64 j)]A."""
    value = int.from_bytes(raw, "little")
    y, sign = value & (2**255 - 1), value >> 255
    if y >= P:
        return "NonCanonicalKey", False, None
    x = recover_x(y, sign)
    if x is None:
        return "KeyNotOnCurve", False, None
    point = (x, y)
    if multiply(8, point) == IDENTITY:
        return "SmallOrderKey", False, None
    torsion_free = multiply(L, point) == IDENTITY
    tables = [odd_multiples(multiply(2**(SPLIT_BITS * j), point), KEY_TABLE_SIZE) for j in range(KEY_TABLES)]
    return "Valid", torsion_free, tables


def prepared_key(raw):
    """The Ed25519PublicKey initialiser for a raw key."""
    status, torsion_free, tables = prepare_key(raw)
    if tables is None:
        zero = "{ " + ", ".join(["{ { { 0 } }, { { 0 } }, { { 0 } } }"] * KEY_TABLE_SIZE) + " }"
        rows = [zero] * KEY_TABLES
    else:
        rows = []
        for table in tables:
            entry = "                { %s,\n                    %s,\n                    %s }"
            entries = ",\n".join(entry % tuple(limbs(v) for v in niels(multiple)) for multiple in table)
            rows.append("{\n" + entries + " }")
    return (f"{{ {c_array(raw)}, Ed25519Status::{status}, {'true' if torsion_free else 'false'},\n"
            f"            {{ {', '.join(rows)} }} }}")


def c_array(data):
    return "{" + ", ".join(f"0x{b:02x}" for b in data) + "}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("output", nargs="?")
    parser.add_argument("--manifest")
    parser.add_argument("--abi-manifest")
    parser.add_argument("--enforce", choices=["yes", "no"], required=True)
    parser.add_argument("--key", action="append", default=[])
    parser.add_argument("--blocked-key", action="append", default=[])
    parser.add_argument("--blocked-digest", action="append", default=[])
    parser.add_argument("--blocked-key-pem", action="append", default=[])
    parser.add_argument("--blocked-module", action="append", default=[])
    parser.add_argument("--known-module", action="append", default=[])
    options = parser.parse_args()

    keys = []
    for item in options.key:
        description, _, path = item.partition("=")
        keys.append((description, raw_public_key(path)))
    blocked_keys = [hex_bytes(k, 16, "blocked key id") for k in options.blocked_key if k]
    blocked_digests = [hex_bytes(d, 64, "blocked digest") for d in options.blocked_digest if d]
    blocked_keys += [key_id(raw_public_key(path)) for path in options.blocked_key_pem]
    blocked_digests += [image_digest(path) for path in options.blocked_module]
    known_modules = []
    for item in options.known_module:
        name, _, path = item.partition("=")
        if not name or not path or not name.replace("_", "").isalnum():
            sys.exit(f"gen-builtin-keys: --known-module '{item}': expected NAME=FILE.kmod")
        data = image(path)
        known_modules.append((name, len(data), hashlib.blake2b(data, digest_size=64).digest()))

    if options.manifest:
        if not options.abi_manifest:
            sys.exit("gen-builtin-keys: --manifest needs --abi-manifest")
        with open(options.abi_manifest) as f:
            text = f.read()
        text += ("# the built-in keyring: sig_enforce, key HEX DESCRIPTION, blocked-key ID, blocked-digest DIGEST,"
                 " known-module NAME LENGTH DIGEST\n")
        text += f"sig_enforce {options.enforce}\n"
        for description, key in keys:
            text += f"key {key.hex()} {description}\n"
        text += "".join(f"blocked-key {k.hex()}\n" for k in blocked_keys)
        text += "".join(f"blocked-digest {d.hex()}\n" for d in blocked_digests)
        text += "".join(f"known-module {name} {length} {d.hex()}\n" for name, length, d in known_modules)
        with open(options.manifest + ".tmp", "w") as f:
            f.write(text)
        os.replace(options.manifest + ".tmp", options.manifest)
        return
    if not options.output:
        sys.exit("gen-builtin-keys: no output file")

    lines = [
        "// Generated by scripts/gen-builtin-keys.py; do not edit.",
        '#include "loader/keyring.h"',
        "",
        "namespace keel {",
        "",
        "const BuiltinKey g_builtin_keys[] = {",
    ]
    for description, key in keys:
        escaped = description.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'    {{ "{escaped}", {{ {c_array(key_id(key))} }},\n        {prepared_key(key)} }},')
    if not keys:
        lines.append('    {"", {}, {}},')
    lines += [
        "};",
        f"const size_t g_builtin_key_count = {len(keys)};",
        "const uint8_t g_builtin_blocked_key_ids[][16] = {",
    ]
    lines += [f"    {c_array(k)}," for k in blocked_keys] or ["    {},"]
    lines += [
        "};",
        f"const size_t g_builtin_blocked_key_id_count = {len(blocked_keys)};",
        "const uint8_t g_builtin_blocked_digests[][64] = {",
    ]
    lines += [f"    {c_array(d)}," for d in blocked_digests] or ["    {},"]
    lines += [
        "};",
        f"const size_t g_builtin_blocked_digest_count = {len(blocked_digests)};",
        f"const bool g_builtin_sig_enforce = {'true' if options.enforce == 'yes' else 'false'};",
        "const Blake2bDigest g_builtin_known_module_digests[] = {",
    ]
    lines += [f"    {{ {c_array(d)} }}," for _, _, d in known_modules] or ["    {},"]
    lines += [
        "};",
        "const uint64_t g_builtin_known_module_lengths[] = {",
    ]
    lines += [f"    {length}," for _, length, _ in known_modules] or ["    0,"]
    lines += [
        "};",
        "const char* const g_builtin_known_module_names[] = {",
    ]
    lines += [f'    "{name}",' for name, _, _ in known_modules] or ['    "",']
    lines += [
        "};",
        f"const size_t g_builtin_known_module_count = {len(known_modules)};",
        "",
        "} // namespace keel",
        "",
    ]
    with open(options.output, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
