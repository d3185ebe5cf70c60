#!/usr/bin/env python3
"""The in-tree modules ship as Linux installs its modules: without debug
information, with their symbol table (the kernel names module functions in
backtraces with it) and a signature; NAME.kmod.debug beside each keeps the
unstripped image, whose code is the shipped module's, for the debugger."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from keel import elf  # noqa: E402

MAGIC = b"~Keel module signature~\n"  # the file ends with it (docs/module-signing.md)


def problems(path):
    found = []
    with open(path, "rb") as file:
        data = file.read()
    if not data.endswith(MAGIC):
        found.append("no signature trailer")
    shipped = elf.read(path)
    debug_sections = [s.name for s in shipped.sections if s.name.startswith(".debug")]
    if debug_sections:
        found.append(f"debug sections shipped: {', '.join(debug_sections)}")
    if shipped.section(".symtab") is None:
        found.append("no symbol table")
    if not os.path.exists(path + ".debug"):
        return found + [f"no {os.path.basename(path)}.debug"]
    unstripped = elf.read(path + ".debug")
    if unstripped.section_bytes(".text") != shipped.section_bytes(".text"):
        found.append(".debug's code differs from the module's")
    return found


def main():
    directory = sys.argv[1]
    modules = sorted(name for name in os.listdir(directory) if name.endswith(".kmod"))
    failed = 0
    for name in modules:
        found = problems(os.path.join(directory, name))
        if found:
            failed += 1
            print(f"FAIL {name}: {'; '.join(found)}")
    print(f"{len(modules) - failed} of {len(modules)} modules shipped stripped, signed, with their .debug")
    return 1 if failed or not modules else 0


if __name__ == "__main__":
    sys.exit(main())
