#!/usr/bin/env python3
"""Generate the kernel's embedded symbol table (core/debug/ksyms.h format).

Usage:
    gen-ksyms.py [--base SYMBOL] INPUT.elf OUTPUT.S
                                      symbols of a linked ELF64 little-endian file
    gen-ksyms.py --empty OUTPUT.S     a valid table with no symbols (first link)
    gen-ksyms.py --check [--base SYMBOL] STAGE1.elf FINAL.elf STAMP
                                      verify the two-pass link: FINAL has the
                                      same symbols at the same addresses as
                                      STAGE1, and its .ksyms section holds
                                      exactly the table made from STAGE1;
                                      writes STAMP on success

The table records addresses as 32-bit offsets from a base. --base names a
symbol of the ELF whose value is the base (the kernel passes its linker
script's KERNEL_VIRT_BASE); symbols below it are left out: the kernel's
32-bit entry code runs at its physical address before paging, exceptions or
backtraces exist. Without --base the base is the lowest symbol address. A
symbol 4 GiB or more above the base is an error.

The output is a GNU assembler file that places the blob in section .ksyms
between the global labels __ksyms_start and __ksyms_end. Taken symbols:
FUNC and OBJECT symbols, plus NOTYPE symbols defined in a .text section
(assembly labels), with a nonzero address and a name. Several names at one
address keep the best one (function/object over label, global over weak
over local, then the one with a size, then the alphabetically first), so
lookups are deterministic. Symbols of the .ksyms section itself
(__ksyms_start, __ksyms_end) are left out: they are the only ones that move
between the two links. Names are demangled, shortened (no argument lists)
and written without the keel:: namespace. Standard library only; the ELF is
read with scripts/keel/elf.py.

The blob's size depends on the symbol count, so link .ksyms after
everything else (or link twice, as Linux does for kallsyms) to keep the
addresses it records valid.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from typing import NamedTuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import elf  # noqa: E402
from keel.elf import ElfError  # noqa: E402

KSYM_MAGIC = 0x4D59534B  # "KSYM" in memory order
KSYM_VERSION = 2
KSYM_HEADER = struct.Struct("<IIIIQ")  # magic, version, count, strings_size, base
# Entries: offset from base, size, name offset; the name offset is a u16 if
# the string table is at most 64 KiB.
KSYM_SHORT_ENTRY = struct.Struct("<IIH")
KSYM_LONG_ENTRY = struct.Struct("<III")
KSYM_SHORT_NAMES_MAX_STRINGS = 0x10000
KSYM_NAMESPACE = "keel::"


class Symbol(NamedTuple):
    address: int
    size: int
    name: str
    type: int
    bind: int


class TableError(Exception):
    pass


def read_symbols(image: elf.Elf) -> list[Symbol]:
    """The .symtab symbols a backtrace may name (see the top of this file)."""
    text_sections = {s.index for s in image.sections if s.name == ".text" or s.name.startswith(".text.")}
    ksyms_sections = {s.index for s in image.sections if s.name == ".ksyms"}
    symtab = image.section_of_type(elf.SHT_SYMTAB)
    if symtab is None:
        raise image.error("no .symtab (was the kernel stripped?)")
    symbols = []
    for symbol in image.symbols(symtab):
        if symbol.value == 0 or not symbol.name or not symbol.defined or symbol.shndx in ksyms_sections:
            continue
        if symbol.type in (elf.STT_FUNC, elf.STT_OBJECT):
            pass
        elif symbol.type == elf.STT_NOTYPE and symbol.shndx < elf.SHN_LORESERVE and symbol.shndx in text_sections:
            pass
        else:
            continue
        if symbol.name.startswith(".L") or symbol.name.startswith("$") or symbol.name.startswith("__ksyms_"):
            continue
        symbols.append(Symbol(symbol.value, symbol.size, symbol.name, symbol.type, symbol.bind))
    return symbols


def _preference(symbol: Symbol) -> tuple:
    bind_rank = {elf.STB_GLOBAL: 0, elf.STB_WEAK: 1}.get(symbol.bind, 2)
    return (symbol.type == elf.STT_NOTYPE, bind_rank, symbol.size == 0, symbol.name)


def select_symbols(symbols: list[Symbol]) -> list[Symbol]:
    best: dict[int, Symbol] = {}
    for symbol in symbols:
        current = best.get(symbol.address)
        if current is None or _preference(symbol) < _preference(current):
            best[symbol.address] = symbol
    return [best[address] for address in sorted(best)]


def _short_name(demangled: str) -> str:
    """keel::(anonymous namespace)::f(int)::counter -> f::counter.

    Every kernel symbol lives in namespace keel, so it is dropped wherever it
    appears, template arguments included:
    keel::IntrusiveList<keel::Module, &(keel::Module::node)>::pop_front ->
    IntrusiveList<Module, &(Module::node)>::pop_front.
    """
    name = demangled.replace("(anonymous namespace)::", "").replace(KSYM_NAMESPACE, "")
    out = []
    angle = paren = 0
    for index, char in enumerate(name):
        if char == "(" and angle == 0 and not name[:index].endswith("operator"):
            paren += 1
            continue
        if char == ")" and paren > 0:
            paren -= 1
            continue
        if paren > 0:
            continue
        if char == "<":
            angle += 1
        elif char == ">" and angle > 0:
            angle -= 1
        out.append(char)
    # Method qualifiers that followed an argument list: "lookup const" -> "lookup".
    name = "".join(out).strip()
    for qualifier in (" const", " volatile", " &&", " &"):
        name = name.replace(qualifier + "::", "::")
        if name.endswith(qualifier):
            name = name[: -len(qualifier)]
    return name


def readable_names(names: list[str]) -> dict[str, str]:
    """Demangle C++ names with llvm-cxxfilt (C names pass through unchanged)."""
    mangled = [name for name in names if name.startswith("_Z")]
    if not mangled:
        return {}
    try:
        result = subprocess.run(["llvm-cxxfilt"], input="\n".join(mangled), capture_output=True, text=True,
                                check=True)
    except (OSError, subprocess.CalledProcessError):
        return {}
    lines = result.stdout.splitlines()
    if len(lines) != len(mangled):
        return {}
    return {name: _short_name(pretty) for name, pretty in zip(mangled, lines)}


def string_table(names: list[str]) -> tuple[bytes, dict[str, int]]:
    """NUL-terminated names, each stored once; a name that ends another one
    ("walk" and "vfs::walk") points into it. Returns the table and each
    name's offset."""
    unique = sorted(set(names), key=lambda name: name[::-1])
    # Reversed, a name that ends another is a prefix of it and sorts right
    # before it; walking backwards, each name either ends the (longest) name
    # after it or starts a new string.
    container: dict[str, str] = {}
    for index in range(len(unique) - 1, -1, -1):
        name = unique[index]
        following = unique[index + 1] if index + 1 < len(unique) else None
        container[name] = container[following] if following is not None and following.endswith(name) else name
    strings = bytearray()
    offsets: dict[str, int] = {}
    for name in sorted(set(container.values())):
        offsets[name] = len(strings)
        strings += name.encode("utf-8") + b"\0"
    for name, outer in container.items():
        if name != outer:
            offsets[name] = offsets[outer] + len(outer.encode("utf-8")) - len(name.encode("utf-8"))
    return bytes(strings), offsets


def entry_format(strings_size: int) -> struct.Struct:
    return KSYM_SHORT_ENTRY if strings_size <= KSYM_SHORT_NAMES_MAX_STRINGS else KSYM_LONG_ENTRY


def build_blob(symbols: list[Symbol], base: int | None = None) -> bytes:
    """The table of `symbols` (sorted by address, one per address), offsets
    counted from `base` (default: the first symbol's address). Symbols below
    the base are left out."""
    if base is None:
        base = symbols[0].address if symbols else 0
    symbols = [symbol for symbol in symbols if symbol.address >= base]
    pretty = readable_names([symbol.name for symbol in symbols])
    names = [pretty.get(symbol.name, symbol.name) for symbol in symbols]
    for symbol, name in zip(symbols, names):
        if symbol.address - base > 0xFFFFFFFF:
            raise TableError(f"symbol {name} at 0x{symbol.address:x} is 4 GiB or more above the table's base "
                             f"0x{base:x}; the table stores 32-bit offsets from the base")
    strings, offsets = string_table(names)
    if len(strings) > 0xFFFFFFFF or len(symbols) > 0xFFFFFFFF:
        raise TableError("symbol table too large")
    entry = entry_format(len(strings))
    entries = bytearray()
    for symbol, name in zip(symbols, names):
        size = min(symbol.size, 0xFFFFFFFF)
        entries += entry.pack(symbol.address - base, size, offsets[name])
    header = KSYM_HEADER.pack(KSYM_MAGIC, KSYM_VERSION, len(symbols), len(strings), base)
    return header + bytes(entries) + strings


def assembly(blob: bytes, source: str) -> str:
    lines = [
        f"/* Generated by scripts/gen-ksyms.py from {source}; do not edit. */",
        "/* Format: core/debug/ksyms.h. */",
        '\t.section .ksyms,"a"',
        "\t.balign 8",
        "\t.globl __ksyms_start",
        "\t.type __ksyms_start, @object",
        "__ksyms_start:",
    ]
    magic, version, count, strings_size, base = KSYM_HEADER.unpack_from(blob, 0)
    lines.append(f"\t.long 0x{magic:08x}, {version}, {count}, {strings_size}")
    lines.append(f"\t.quad 0x{base:016x}")
    entry = entry_format(strings_size)
    for i in range(count):
        offset, size, name_offset = entry.unpack_from(blob, KSYM_HEADER.size + entry.size * i)
        lines.append(f"\t.long 0x{offset:08x}, 0x{size:08x}")
        lines.append(f"\t{'.short' if entry is KSYM_SHORT_ENTRY else '.long'} {name_offset}")
    strings = blob[KSYM_HEADER.size + entry.size * count:]
    for start in range(0, len(strings), 16):
        chunk = strings[start:start + 16]
        lines.append("\t.byte " + ", ".join(str(b) for b in chunk))
    lines += [
        "\t.globl __ksyms_end",
        "\t.type __ksyms_end, @object",
        "__ksyms_end:",
        "\t.size __ksyms_start, __ksyms_end - __ksyms_start",
        '\t.section .note.GNU-stack,"",@progbits',
        "",
    ]
    return "\n".join(lines)


def write_atomically(path: str, text: str) -> None:
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def table_base(image: elf.Elf, base_symbol: str | None) -> int | None:
    return image.symbol_value(base_symbol) if base_symbol is not None else None


def check(stage1_path: str, final_path: str, stamp_path: str, base_symbol: str | None) -> int:
    try:
        stage1 = elf.read(stage1_path)
        final = elf.read(final_path)
        expected = select_symbols(read_symbols(stage1))
        actual = select_symbols(read_symbols(final))
        embedded = final.section_bytes(".ksyms")
        blob = build_blob(expected, table_base(stage1, base_symbol))
    except (OSError, ElfError, TableError) as error:
        print(f"gen-ksyms.py --check: {error}", file=sys.stderr)
        return 1
    problems = []
    if expected != actual:
        before = {(s.name, s.address) for s in expected}
        after = {(s.name, s.address) for s in actual}
        moved = sorted(before ^ after, key=lambda pair: pair[1])
        problems.append(f"{len(moved)} symbol(s) differ between the links, e.g. "
                        + ", ".join(f"{name}@0x{address:x}" for name, address in moved[:5])
                        + " (is .ksyms still the last section?)")
    if embedded is None:
        problems.append(f"{final_path} has no .ksyms section")
    elif embedded[:len(blob)] != blob or any(embedded[len(blob):]):
        problems.append(f"the .ksyms section of {final_path} is not the table generated from {stage1_path}")
    if problems:
        for problem in problems:
            print(f"gen-ksyms.py --check: {problem}", file=sys.stderr)
        return 1
    count = KSYM_HEADER.unpack_from(blob, 0)[2]
    write_atomically(stamp_path, f"{count} symbols verified\n")
    return 0


USAGE = ("usage: gen-ksyms.py [--base SYMBOL] INPUT.elf OUTPUT.S\n"
         "       gen-ksyms.py --empty OUTPUT.S\n"
         "       gen-ksyms.py --check [--base SYMBOL] STAGE1.elf FINAL.elf STAMP")


def main(argv: list[str]) -> int:
    args = argv[1:]
    if len(args) == 2 and args[0] == "--empty":
        write_atomically(args[1], assembly(build_blob([]), "nothing (--empty)"))
        return 0
    checking = bool(args) and args[0] == "--check"
    if checking:
        args = args[1:]
    base_symbol = None
    if len(args) >= 2 and args[0] == "--base":
        base_symbol, args = args[1], args[2:]
    elif args and args[0].startswith("--base="):
        base_symbol, args = args[0][len("--base="):], args[1:]
    if len(args) != (3 if checking else 2) or any(arg.startswith("-") for arg in args) or base_symbol == "":
        print(USAGE, file=sys.stderr)
        return 2
    if checking:
        return check(args[0], args[1], args[2], base_symbol)
    input_path, output_path = args
    try:
        image = elf.read(input_path)
        symbols = select_symbols(read_symbols(image))
        blob = build_blob(symbols, table_base(image, base_symbol))
    except (OSError, ElfError) as error:
        print(f"gen-ksyms.py: {error}", file=sys.stderr)
        return 1
    except TableError as error:
        print(f"gen-ksyms.py: {input_path}: {error}", file=sys.stderr)
        return 1
    write_atomically(output_path, assembly(blob, os.path.basename(input_path)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
