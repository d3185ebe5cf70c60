#!/usr/bin/env python3
"""scripts/gen-ksyms.py on small hand-made ELF files: the version 2 table
(base, 32-bit offsets, names without keel::, shared name tails), --base and
the symbols below it, the refusal of a symbol 4 GiB or more above the base,
and --check accepting the table it generated and refusing anything else."""

import importlib.util
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOOL = os.path.join(ROOT, "scripts", "gen-ksyms.py")

_spec = importlib.util.spec_from_file_location("gen_ksyms", TOOL)
gen_ksyms = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_ksyms)

SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB = 1, 2, 3
SHF_ALLOC, SHF_EXECINSTR = 2, 4
SHN_ABS = 0xFFF1
STT_NOTYPE, STT_FUNC = 0, 2
STB_GLOBAL = 1

BASE = 0xFFFFFFFF80000000
# (name, value, size, type, section): section 1 is .text, SHN_ABS absolute.
KERNEL_SYMBOLS = [
    ("KERNEL_VIRT_BASE", BASE, 0, STT_NOTYPE, SHN_ABS),
    ("pvh_start32", 0x100000, 0x40, STT_FUNC, 1),  # below the base: left out
    ("_ZN4keel3vfs9walk_textEPKc", BASE + 0x101000, 0x500, STT_FUNC, 1),  # keel::vfs::walk_text(char const*)
    ("walk_text", BASE + 0x101500, 0x20, STT_FUNC, 1),
    ("kernel_main", BASE + 0x101600, 0x80, STT_FUNC, 1),
    ("_ZN4keel4Heap8allocateEm", BASE + 0x101700, 0x30, STT_FUNC, 1),  # keel::Heap::allocate(unsigned long)
]

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print(f"FAIL: {message}", file=sys.stderr)


def elf(symbols, ksyms=None):
    """A minimal ELF64 executable: .text, optionally .ksyms, a symbol table."""
    shstrtab = b"\0.text\0.ksyms\0.symtab\0.strtab\0.shstrtab\0"
    strtab = bytearray(b"\0")
    symtab = bytearray(24)  # the null symbol
    for name, value, size, type_, section in symbols:
        symtab += struct.pack("<IBBHQQ", len(strtab), (STB_GLOBAL << 4) | type_, 0, section, value, size)
        strtab += name.encode() + b"\0"
    text = b"\xcc" * 16
    sections = [(".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, text, 0, 0)]
    if ksyms is not None:
        sections.append((".ksyms", SHT_PROGBITS, SHF_ALLOC, ksyms, 0, 0))
    symtab_index = len(sections) + 1
    sections += [(".symtab", SHT_SYMTAB, 0, bytes(symtab), symtab_index + 1, 24),
                 (".strtab", SHT_STRTAB, 0, bytes(strtab), 0, 0),
                 (".shstrtab", SHT_STRTAB, 0, shstrtab, 0, 0)]
    body = bytearray()
    headers = [bytes(64)]
    for name, type_, flags, data, link, entsize in sections:
        offset = 64 + len(body)
        body += data + bytes(-len(data) % 8)
        headers.append(struct.pack("<IIQQQQIIQQ", shstrtab.index(name.encode() + b"\0"), type_, flags, 0, offset,
                                   len(data), link, 0, 8, entsize))
    shoff = 64 + len(body)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, len(headers),
                                 len(headers) - 1)
    return header + bytes(body) + b"".join(headers)


def decode(blob):
    """The header fields, the entries (offset, size, name offset, name) and
    the string table; name offsets are u16 while the strings fit in 64 KiB."""
    magic, version, count, strings_size, base = struct.unpack_from("<IIIIQ", blob, 0)
    entry = "<IIH" if strings_size <= 0x10000 else "<III"
    entry_size = struct.calcsize(entry)
    strings = blob[24 + entry_size * count:24 + entry_size * count + strings_size]
    check(len(blob) == 24 + entry_size * count + strings_size, f"blob of {len(blob)} bytes")
    entries = []
    for i in range(count):
        offset, size, name_offset = struct.unpack_from(entry, blob, 24 + entry_size * i)
        name = strings[name_offset:strings.index(b"\0", name_offset)].decode()
        entries.append((offset, size, name_offset, name))
    return magic, version, base, entries, strings


def run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)


def main():
    with tempfile.TemporaryDirectory() as scratch:
        stage1 = os.path.join(scratch, "stage1.elf")
        with open(stage1, "wb") as out:
            out.write(elf(KERNEL_SYMBOLS))
        image = gen_ksyms.elf.read(stage1)

        # The table with --base: version 2, offsets from the base, short names.
        symbols = gen_ksyms.select_symbols(gen_ksyms.read_symbols(image))
        blob = gen_ksyms.build_blob(symbols, image.symbol_value("KERNEL_VIRT_BASE"))
        magic, version, base, entries, strings = decode(blob)
        check(magic == 0x4D59534B and version == 2, f"header {magic:#x} version {version}")
        check(base == BASE, f"base {base:#x}")
        names = [entry[3] for entry in entries]
        check(names == ["vfs::walk_text", "walk_text", "kernel_main", "Heap::allocate"], f"names {names}")
        check([entry[0] for entry in entries] == [0x101000, 0x101500, 0x101600, 0x101700],
              f"offsets {[hex(entry[0]) for entry in entries]}")
        check([entry[1] for entry in entries] == [0x500, 0x20, 0x80, 0x30], "sizes")
        check(b"keel::" not in strings, "a name kept keel::")
        check(entries[1][2] == entries[0][2] + len("vfs::"), "walk_text is not stored as the tail of vfs::walk_text")
        check(strings.count(b"walk_text") == 1, f"walk_text stored twice: {strings}")
        check(len(blob) == 24 + 10 * 4 + len(strings), f"blob of {len(blob)} bytes, not 10-byte entries")

        # Without --base the lowest symbol is the base; pvh_start32 and the
        # kernel 2 GiB below 2^64 do not fit in 32-bit offsets.
        result = run(stage1, os.path.join(scratch, "none.S"))
        check(result.returncode == 1, f"no --base: exit {result.returncode}")
        check("symbol vfs::walk_text at 0xffffffff80101000 is 4 GiB or more above the table's base 0x100000"
              in result.stderr, f"no --base: {result.stderr!r}")
        check(not os.path.exists(os.path.join(scratch, "none.S")), "an output was written after the error")

        # With it, the assembler file holds the same blob.
        out_s = os.path.join(scratch, "ksyms.S")
        result = run("--base", "KERNEL_VIRT_BASE", stage1, out_s)
        check(result.returncode == 0, f"--base: {result.stderr}")
        text = open(out_s).read()
        check("\t.quad 0xffffffff80000000\n\t.long 0x00101000, 0x00000500\n\t.short " in text,
              "the assembler file lacks the base or the first entry")
        result = run("--base", "no_such_symbol", stage1, out_s)
        check(result.returncode == 1 and "no symbol no_such_symbol" in result.stderr, f"bad --base: {result.stderr}")

        # Exactly 4 GiB above the base is refused; just below it is fine.
        low_base = 0x400000
        for distance, ok in ((0xFFFFFFFF, True), (0x100000000, False)):
            far = os.path.join(scratch, "far.elf")
            with open(far, "wb") as out:
                out.write(elf([("TABLE_BASE", low_base, 0, STT_NOTYPE, SHN_ABS),
                               ("near", low_base + 0x1000, 0x10, STT_FUNC, 1),
                               ("far_away", low_base + distance, 0, STT_FUNC, 1)]))
            result = run("--base=TABLE_BASE", far, os.path.join(scratch, "far.S"))
            if ok:
                check(result.returncode == 0, f"offset {distance:#x}: {result.stderr}")
            else:
                check(result.returncode == 1 and f"symbol far_away at {low_base + distance:#x} is 4 GiB or more "
                      f"above the table's base {low_base:#x}" in result.stderr,
                      f"offset {distance:#x}: {result.stderr!r}")

        # --check: the final link holds the table (plus zero padding).
        stamp = os.path.join(scratch, "stamp")
        final = os.path.join(scratch, "final.elf")
        for ksyms, want, what in ((blob + bytes(4), 0, "the table"),
                                  (blob[:-2] + b"x\0" + bytes(4), 1, "a changed name"),
                                  (blob[:4] + struct.pack("<I", 1) + blob[8:], 1, "version 1"),
                                  (blob + b"\1", 1, "nonzero padding")):
            with open(final, "wb") as out:
                out.write(elf(KERNEL_SYMBOLS, ksyms))
            result = run("--check", "--base", "KERNEL_VIRT_BASE", stage1, final, stamp)
            check(result.returncode == want, f"--check with {what}: exit {result.returncode} {result.stderr}")
            if want:
                check("is not the table generated from" in result.stderr, f"--check with {what}: {result.stderr!r}")
        with open(final, "wb") as out:
            out.write(elf(KERNEL_SYMBOLS, blob))
        result = run("--check", "--base", "KERNEL_VIRT_BASE", stage1, final, stamp)
        check(result.returncode == 0 and open(stamp).read() == "4 symbols verified\n", f"stamp: {result.stderr}")
        # The same files checked without --base: the table would not fit.
        result = run("--check", stage1, final, stamp)
        check(result.returncode == 1 and "4 GiB or more above" in result.stderr, f"--check without --base: {result}")
        # A symbol that moved between the links.
        moved = [entry if entry[0] != "kernel_main" else (entry[0], entry[1] + 16, *entry[2:])
                 for entry in KERNEL_SYMBOLS]
        with open(final, "wb") as out:
            out.write(elf(moved, blob))
        result = run("--check", "--base", "KERNEL_VIRT_BASE", stage1, final, stamp)
        check(result.returncode == 1 and "differ between the links" in result.stderr, f"moved: {result.stderr}")

        check(run("--base", stage1).returncode == 2, "usage error not reported")
        check(run("--check", stage1, final).returncode == 2, "usage error not reported")

    # Names past 64 KiB: u32 name offsets, in the assembler file too.
    long_names = [gen_ksyms.Symbol(BASE + 0x1000 * i, 0x10, f"f{i:05}_" + "x" * 100, STT_FUNC, STB_GLOBAL)
                  for i in range(700)]
    blob = gen_ksyms.build_blob(long_names)
    _magic, _version, base, entries, strings = decode(blob)
    check(len(strings) > 0x10000 and len(blob) == 24 + 12 * 700 + len(strings), "700 long names: not 12-byte entries")
    check(entries[-1][2] > 0xFFFF and entries[-1][3] == long_names[-1].name, f"700 long names: last {entries[-1][:3]}")
    text = gen_ksyms.assembly(blob, "test")
    check(".short" not in text and f"\t.long {entries[-1][2]}\n" in text, "700 long names: assembler file")

    # Name tails: each name stored once, a tail points into its container.
    strings, offsets = gen_ksyms.string_table(["b", "ab", "cab", "x", "ab", ""])
    check(strings == b"cab\0x\0", f"string table {strings}")
    for name, offset in offsets.items():
        check(strings[offset:strings.index(b"\0", offset)] == name.encode(), f"{name} at {offset}")

    if failures:
        print(f"{len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("gen-ksyms: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
