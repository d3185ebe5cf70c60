#!/usr/bin/env python3
"""Append a `.keel_kabi` section to a module, as kmodpost will: the SDK's
declaration hash for each import (docs/module-format.md). The hashes here
are stand-ins (FNV-1a of "name@node"); the layout is the real one.

    gen_kabi_section.py OBJCOPY IN OUT name@node...
"""
import struct
import subprocess
import sys
import tempfile


def fnv1a64(text):
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def build(imports):
    strings = bytearray()
    offsets = {}

    def intern(text):
        if text not in offsets:
            offsets[text] = len(strings)
            strings.extend(text.encode() + b"\0")
        return offsets[text]

    entries = bytearray()
    for spec in imports:
        name, node = spec.split("@", 1)
        entries += struct.pack("<QII", fnv1a64(spec), intern(name), intern(node))
    return struct.pack("<II", 1, len(imports)) + entries + strings


def main():
    objcopy, source, output, *imports = sys.argv[1:]
    with tempfile.NamedTemporaryFile(suffix=".kabi") as blob:
        blob.write(build(imports))
        blob.flush()
        subprocess.run([objcopy, "--add-section", ".keel_kabi=" + blob.name, source, output], check=True)


if __name__ == "__main__":
    main()
