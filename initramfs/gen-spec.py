#!/usr/bin/env python3
"""Writes the initramfs spec: a base spec plus one `file` line per extra file.

usage: gen-spec.py OUTPUT BASE_SPEC [ARCHIVE_PATH MODE FILE]...

FILE paths are made absolute, so the spec works from any directory.
"""
import os
import sys


def main(argv):
    if len(argv) < 3 or (len(argv) - 3) % 3 != 0:
        sys.exit("usage: gen-spec.py OUTPUT BASE_SPEC [ARCHIVE_PATH MODE FILE]...")
    output, base = argv[1], argv[2]
    with open(base, encoding="utf-8") as f:
        text = f.read()
    if text and not text.endswith("\n"):
        text += "\n"
    extras = argv[3:]
    if extras:
        text += "\n# Added by the build (initramfs_files):\n"
    for i in range(0, len(extras), 3):
        name, mode, path = extras[i], extras[i + 1], os.path.abspath(extras[i + 2])
        # The spec format splits on whitespace, so it cannot carry such names.
        for what, value in (("archive path", name), ("file", path), ("mode", mode)):
            if not value or any(c.isspace() for c in value):
                sys.exit(f"gen-spec.py: {what} {value!r} is empty or contains whitespace")
        text += f"file {name} {path} {mode} 0 0\n"
    tmp = output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, output)


if __name__ == "__main__":
    main(sys.argv)
