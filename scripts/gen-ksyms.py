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
parsed here.

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

KSYM_MAGIC = 0x4D59534B  # "KSYM" in memory order
KSYM_VERSION = 2
KSYM_HEADER = struct.Struct("<IIIIQ")  # magic, version, count, strings_size, base
# Entries: offset from base, size, name offset; the name offset is a u16 if
# the string table is at most 64 KiB.
KSYM_SHORT_ENTRY = struct.Struct("<IIH")
KSYM_LONG_ENTRY = struct.Struct("<III")
KSYM_SHORT_NAMES_MAX_STRINGS = 0x10000
KSYM_NAMESPACE = "keel::"

SHT_SYMTAB = 2
SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SHN_ABS = 0xFFF1
SHN_XINDEX = 0xFFFF
STT_NOTYPE, STT_OBJECT, STT_FUNC = 0, 1, 2
STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2


class ElfError(Exception):
    pass


class Section(NamedTuple):
    name_offset: int
    type: int
    flags: int
    offset: int
    size: int
    link: int
    entsize: int


class Symbol(NamedTuple):
    address: int
    size: int
    name: str
    type: int
    bind: int


def _unpack(fmt: str, data: bytes, offset: int) -> tuple:
    end = offset + struct.calcsize(fmt)
    if offset < 0 or end > len(data):
        raise ElfError(f"truncated ELF: need bytes {offset}..{end}, file has {len(data)}")
    return struct.unpack_from(fmt, data, offset)


def _c_string(data: bytes, start: int, end: int) -> str:
    if start >= end:
        raise ElfError("string offset outside its table")
    stop = data.find(b"\0", start, end)
    if stop < 0:
        raise ElfError("unterminated string in string table")
    return data[start:stop].decode("utf-8", errors="replace")


def read_sections(data: bytes) -> tuple[list[Section], int]:
    if data[:4] != b"\x7fELF":
        raise ElfError("not an ELF file")
    if len(data) < 64 or data[4] != 2 or data[5] != 1:
        raise ElfError("only ELF64 little-endian is supported")
    (e_shoff,) = _unpack("<Q", data, 0x28)
    e_shentsize, e_shnum, e_shstrndx = _unpack("<HHH", data, 0x3A)
    if e_shoff == 0:
        raise ElfError("no section headers")
    if e_shentsize < 64:
        raise ElfError(f"bad section header size {e_shentsize}")

    def header(index: int) -> Section:
        fields = _unpack("<IIQQQQIIQQ", data, e_shoff + index * e_shentsize)
        name, type_, flags, _addr, offset, size, link, _info, _align, entsize = fields
        return Section(name, type_, flags, offset, size, link, entsize)

    # Extended numbering: counts that do not fit live in section 0.
    first = header(0)
    count = e_shnum or first.size
    shstrndx = first.link if e_shstrndx == SHN_XINDEX else e_shstrndx
    sections = [header(i) for i in range(count)]
    if shstrndx >= count:
        raise ElfError("bad section name table index")
    return sections, shstrndx


def section_name(data: bytes, sections: list[Section], shstrndx: int, index: int) -> str:
    table = sections[shstrndx]
    return _c_string(data, table.offset + sections[index].name_offset, table.offset + table.size)


def read_section(data: bytes, name: str) -> bytes | None:
    sections, shstrndx = read_sections(data)
    for index, section in enumerate(sections):
        if section_name(data, sections, shstrndx, index) == name:
            if section.offset + section.size > len(data):
                raise ElfError(f"section {name} outside the file")
            return data[section.offset:section.offset + section.size]
    return None


def _symbol_table(data: bytes) -> tuple[list[Section], list[str], Section, Section, int]:
    sections, shstrndx = read_sections(data)
    names = [section_name(data, sections, shstrndx, i) for i in range(len(sections))]
    symtabs = [s for s in sections if s.type == SHT_SYMTAB]
    if not symtabs:
        raise ElfError("no .symtab (was the kernel stripped?)")
    symtab = symtabs[0]
    if symtab.link >= len(sections):
        raise ElfError("bad .symtab string table link")
    strtab = sections[symtab.link]
    if symtab.offset + symtab.size > len(data) or strtab.offset + strtab.size > len(data):
        raise ElfError("symbol or string table outside the file")
    entsize = symtab.entsize or 24
    if entsize < 24:
        raise ElfError(f"bad symbol entry size {entsize}")
    return sections, names, symtab, strtab, entsize


def symbol_value(data: bytes, wanted: str) -> int:
    """The value of the symbol named `wanted` (any type, absolute ones too)."""
    _sections, _names, symtab, strtab, entsize = _symbol_table(data)
    for offset in range(symtab.offset, symtab.offset + symtab.size - 23, entsize):
        st_name, _st_info, _st_other, st_shndx, st_value, _st_size = _unpack("<IBBHQQ", data, offset)
        if st_name == 0 or st_shndx == SHN_UNDEF:
            continue
        if _c_string(data, strtab.offset + st_name, strtab.offset + strtab.size) == wanted:
            return st_value
    raise ElfError(f"no symbol {wanted} for the table's base")


def read_symbols(data: bytes) -> list[Symbol]:
    _sections, names, symtab, strtab, entsize = _symbol_table(data)
    text_sections = {i for i, name in enumerate(names) if name == ".text" or name.startswith(".text.")}
    ksyms_sections = {i for i, name in enumerate(names) if name == ".ksyms"}

    symbols = []
    for offset in range(symtab.offset, symtab.offset + symtab.size - 23, entsize):
        st_name, st_info, _st_other, st_shndx, st_value, st_size = _unpack("<IBBHQQ", data, offset)
        type_, bind = st_info & 0xF, st_info >> 4
        if st_value == 0 or st_name == 0 or st_shndx == SHN_UNDEF or st_shndx in ksyms_sections:
            continue
        if type_ in (STT_FUNC, STT_OBJECT):
            pass
        elif type_ == STT_NOTYPE and st_shndx < SHN_LORESERVE and st_shndx in text_sections:
            pass
        else:
            continue
        name = _c_string(data, strtab.offset + st_name, strtab.offset + strtab.size)
        if not name or name.startswith(".L") or name.startswith("$") or name.startswith("__ksyms_"):
            continue
        symbols.append(Symbol(st_value, st_size, name, type_, bind))
    return symbols


def _preference(symbol: Symbol) -> tuple:
    bind_rank = {STB_GLOBAL: 0, STB_WEAK: 1}.get(symbol.bind, 2)
    return (symbol.type == STT_NOTYPE, bind_rank, symbol.size == 0, symbol.name)


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
            raise ElfError(f"symbol {name} at 0x{symbol.address:x} is 4 GiB or more above the table's base "
                           f"0x{base:x}; the table stores 32-bit offsets from the base")
    strings, offsets = string_table(names)
    if len(strings) > 0xFFFFFFFF or len(symbols) > 0xFFFFFFFF:
        raise ElfError("symbol table too large")
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


def table_base(data: bytes, base_symbol: str | None) -> int | None:
    return symbol_value(data, base_symbol) if base_symbol is not None else None


def check(stage1_path: str, final_path: str, stamp_path: str, base_symbol: str | None) -> int:
    try:
        with open(stage1_path, "rb") as elf:
            stage1 = elf.read()
        with open(final_path, "rb") as elf:
            final = elf.read()
        expected = select_symbols(read_symbols(stage1))
        actual = select_symbols(read_symbols(final))
        embedded = read_section(final, ".ksyms")
        blob = build_blob(expected, table_base(stage1, base_symbol))
    except (OSError, ElfError) as error:
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
        with open(input_path, "rb") as elf:
            data = elf.read()
        symbols = select_symbols(read_symbols(data))
        blob = build_blob(symbols, table_base(data, base_symbol))
    except (OSError, ElfError) as error:
        print(f"gen-ksyms.py: {input_path}: {error}", file=sys.stderr)
        return 1
    write_atomically(output_path, assembly(blob, os.path.basename(input_path)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
