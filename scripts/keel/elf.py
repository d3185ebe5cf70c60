"""Reading ELF64 little-endian files: the one ELF reader of Keel's Python
scripts (gen-ksyms.py, the ABI checker and its tests, the GDB helper, the
boot tests' initramfs builder).

    image = elf.read("build/core/keel.elf")
    image.section(".ksyms"), image.section_bytes(".note.keel")
    image.symbols(image.section(".symtab"))     # any symbol table
    image.dynamic_symbols()                    # .dynsym with version nodes
    image.segments, image.notes(data)          # program headers, notes
    image.read_address(vaddr, size, what)      # through the PT_LOAD segments

The file is untrusted: every header, table and string is checked against
it before use, and a problem raises ElfError naming the file and the field,
never struct.error or IndexError. Section headers are read on first use, so
a file whose section table is damaged still yields its program headers.
Standard library only: the build runs these scripts with Meson's Python.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property

# Section types and special indexes (System V gABI, GNU extensions).
SHT_NULL = 0
SHT_PROGBITS = 1
SHT_SYMTAB = 2
SHT_STRTAB = 3
SHT_NOTE = 7
SHT_NOBITS = 8
SHT_DYNSYM = 11
SHT_GNU_VERDEF = 0x6FFFFFFD
SHT_GNU_VERNEED = 0x6FFFFFFE
SHT_GNU_VERSYM = 0x6FFFFFFF
SHF_ALLOC = 0x2
SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SHN_ABS = 0xFFF1
SHN_XINDEX = 0xFFFF

# Program header types.
PT_LOAD = 1
PT_INTERP = 3
PT_NOTE = 4
PT_GNU_STACK = 0x6474E551
PF_X = 1

# Symbols.
STT_NOTYPE, STT_OBJECT, STT_FUNC = 0, 1, 2
STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2
VERSYM_HIDDEN = 0x8000

HEADER_SIZE = 64
SECTION_HEADER = struct.Struct("<IIQQQQIIQQ")
PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")
SYMBOL = struct.Struct("<IBBHQQ")


class ElfError(Exception):
    pass


@dataclass(frozen=True)
class Section:
    index: int
    name: str
    type: int
    flags: int
    address: int
    offset: int
    size: int
    link: int
    info: int
    entsize: int


@dataclass(frozen=True)
class Segment:
    index: int
    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    header_offset: int  # where this program header lies in the file


@dataclass(frozen=True)
class Symbol:
    name: str
    value: int
    size: int
    type: int
    bind: int
    shndx: int

    @property
    def defined(self) -> bool:
        return self.shndx != SHN_UNDEF


@dataclass(frozen=True)
class DynamicSymbol:
    name: str
    defined: bool
    binding: int
    type: int
    version: str | None  # node name, None when unversioned
    default: bool  # sym@@NODE (not hidden) rather than sym@NODE
    size: int


class Elf:
    def __init__(self, data: bytes, path: str = "<elf>"):
        self.data = data
        self.path = path
        if len(data) < HEADER_SIZE:
            raise ElfError(f"{path}: {len(data)} bytes, smaller than an ELF64 header")
        if data[:4] != b"\x7fELF":
            raise ElfError(f"{path}: not an ELF file")
        if data[4] != 2 or data[5] != 1:
            raise ElfError(f"{path}: EI_CLASS {data[4]}, EI_DATA {data[5]}: only ELF64 little-endian is supported")
        self.type, self.machine = struct.unpack_from("<HH", data, 16)
        self.phoff, self.shoff = struct.unpack_from("<QQ", data, 32)
        self.phentsize, self.phnum, self.shentsize, self.shnum, self.shstrndx = struct.unpack_from("<HHHHH", data, 54)

    def error(self, message: str) -> ElfError:
        return ElfError(f"{self.path}: {message}")

    def unpack(self, layout: struct.Struct | str, offset: int, what: str) -> tuple:
        if isinstance(layout, str):
            layout = struct.Struct(layout)
        if offset < 0 or offset + layout.size > len(self.data):
            raise self.error(
                f"{what}: bytes {offset:#x}+{layout.size:#x} lie outside the file ({len(self.data):#x} bytes)"
            )
        return layout.unpack_from(self.data, offset)

    def string(self, table: Section, offset: int, what: str) -> str:
        """The NUL-terminated string at `offset` in string table `table`."""
        if offset >= table.size or table.offset + table.size > len(self.data):
            raise self.error(f"{what}: string offset {offset:#x} lies outside its table ({table.size:#x} bytes)")
        end = self.data.find(b"\0", table.offset + offset, table.offset + table.size)
        if end < 0:
            raise self.error(f"{what}: string at {offset:#x} is not NUL-terminated")
        return self.data[table.offset + offset : end].decode("utf-8", errors="replace")

    # Section headers.

    @cached_property
    def sections(self) -> list[Section]:
        if self.shoff == 0:
            raise self.error("no section headers")
        if self.shentsize < SECTION_HEADER.size:
            raise self.error(f"e_shentsize {self.shentsize} is below {SECTION_HEADER.size}")
        raw = [self.unpack(SECTION_HEADER, self.shoff, "section header 0")]
        # Extended numbering: counts that do not fit in the ELF header live
        # in section 0.
        count = self.shnum or raw[0][5]
        names = raw[0][6] if self.shstrndx == SHN_XINDEX else self.shstrndx
        if count * self.shentsize > len(self.data):
            raise self.error(f"e_shnum {count} sections do not fit in the file")
        raw += [
            self.unpack(SECTION_HEADER, self.shoff + i * self.shentsize, f"section header {i}") for i in range(1, count)
        ]
        if names >= count:
            raise self.error(f"e_shstrndx {names} is not a section (e_shnum {count})")
        name_table = Section(names, "", *self._fields(raw[names]))
        return [
            Section(i, self.string(name_table, fields[0], f"section {i} sh_name") if i else "", *self._fields(fields))
            for i, fields in enumerate(raw)
        ]

    @staticmethod
    def _fields(header: tuple) -> tuple:
        _name, type_, flags, address, offset, size, link, info, _align, entsize = header
        return type_, flags, address, offset, size, link, info, entsize

    def section(self, name: str) -> Section | None:
        return next((section for section in self.sections if section.name == name), None)

    def section_of_type(self, type_: int) -> Section | None:
        return next((section for section in self.sections if section.type == type_), None)

    def contents(self, section: Section) -> bytes:
        if section.type == SHT_NOBITS:
            return b""
        if section.offset + section.size > len(self.data):
            raise self.error(f"section {section.name or section.index}: bytes {section.offset:#x}+{section.size:#x} "
                             f"lie outside the file ({len(self.data):#x} bytes)")
        return self.data[section.offset : section.offset + section.size]

    def section_bytes(self, name: str) -> bytes | None:
        section = self.section(name)
        return None if section is None else self.contents(section)

    def linked(self, section: Section) -> Section:
        """The section that `section`'s sh_link names (a string table)."""
        if section.link >= len(self.sections):
            raise self.error(f"section {section.name} sh_link {section.link} is not a section")
        return self.sections[section.link]

    # Symbols and versions.

    def symbols(self, table: Section) -> list[Symbol]:
        """Every entry of a symbol table, the null symbol at index 0 included."""
        entsize = table.entsize or SYMBOL.size
        if entsize < SYMBOL.size:
            raise self.error(f"section {table.name} sh_entsize {entsize} is below {SYMBOL.size}")
        strings = self.linked(table)
        self.contents(table)
        self.contents(strings)
        result = []
        for index in range(table.size // entsize):
            at = table.offset + index * entsize
            name, info, _other, shndx, value, size = self.unpack(SYMBOL, at, f"{table.name} entry {index}")
            text = self.string(strings, name, f"{table.name} entry {index} st_name") if name else ""
            result.append(Symbol(text, value, size, info & 0xF, info >> 4, shndx))
        return result

    def symbol_value(self, wanted: str) -> int:
        """The value of the defined .symtab symbol `wanted` (absolute ones too)."""
        table = self.section_of_type(SHT_SYMTAB)
        if table is None:
            raise self.error(f"no .symtab (a stripped file?): cannot find {wanted}")
        for symbol in self.symbols(table):
            if symbol.name == wanted and symbol.defined:
                return symbol.value
        raise self.error(f"no symbol {wanted}")

    def version_definitions(self) -> dict[int, str]:
        """Version index -> node name (the first name of each Verdef)."""
        section = self.section_of_type(SHT_GNU_VERDEF)
        result: dict[int, str] = {}
        if section is None:
            return result
        strings = self.linked(section)
        at = section.offset
        for entry in range(section.info):
            _version, _flags, index, _count, _hash, aux, next_ = self.unpack("<HHHHIII", at, f"verdef {entry}")
            (name,) = self.unpack("<I", at + aux, f"verdef {entry} aux")
            result[index] = self.string(strings, name, f"verdef {entry} vda_name")
            if next_ == 0:
                break
            at += next_
        return result

    def version_needs(self) -> dict[int, tuple[str, str]]:
        """Version index -> (node name, file that defines it)."""
        section = self.section_of_type(SHT_GNU_VERNEED)
        result: dict[int, tuple[str, str]] = {}
        if section is None:
            return result
        strings = self.linked(section)
        at = section.offset
        for entry in range(section.info):
            _version, count, file_, aux, next_ = self.unpack("<HHIII", at, f"verneed {entry}")
            file_name = self.string(strings, file_, f"verneed {entry} vn_file")
            aux_at = at + aux
            for _ in range(count):
                _hash, _flags, other, name, aux_next = self.unpack("<IHHII", aux_at, f"verneed {entry} aux")
                result[other & 0x7FFF] = (self.string(strings, name, f"verneed {entry} vna_name"), file_name)
                if aux_next == 0:
                    break
                aux_at += aux_next
            if next_ == 0:
                break
            at += next_
        return result

    def dynamic_symbols(self) -> list[DynamicSymbol]:
        """.dynsym without its null symbol, each with its version node."""
        dynsym = self.section_of_type(SHT_DYNSYM)
        if dynsym is None:
            return []
        versym = self.section_of_type(SHT_GNU_VERSYM)
        definitions = self.version_definitions()
        needs = self.version_needs()
        result = []
        for index, symbol in enumerate(self.symbols(dynsym)):
            if index == 0:
                continue
            version_name = None
            default = True
            if versym is not None:
                (raw,) = self.unpack("<H", versym.offset + 2 * index, f".gnu.version entry {index}")
                version = raw & 0x7FFF
                default = not raw & VERSYM_HIDDEN
                if version >= 2:
                    version_name = definitions.get(version) or needs.get(version, (None, None))[0]
            result.append(DynamicSymbol(symbol.name, symbol.defined, symbol.bind, symbol.type, version_name, default,
                                        symbol.size))
        return result

    # Program headers.

    @cached_property
    def segments(self) -> list[Segment]:
        if self.phnum and self.phentsize < PROGRAM_HEADER.size:
            raise self.error(f"e_phentsize {self.phentsize} is below {PROGRAM_HEADER.size}")
        result = []
        for index in range(self.phnum):
            at = self.phoff + index * self.phentsize
            type_, flags, offset, vaddr, _paddr, filesz, memsz, _align = self.unpack(PROGRAM_HEADER, at,
                                                                                     f"program header {index}")
            result.append(Segment(index, type_, flags, offset, vaddr, filesz, memsz, at))
        return result

    def segment_bytes(self, segment: Segment) -> bytes:
        if segment.offset + segment.filesz > len(self.data):
            raise self.error(f"program header {segment.index}: p_offset {segment.offset:#x} + p_filesz "
                             f"{segment.filesz:#x} exceeds the file")
        return self.data[segment.offset : segment.offset + segment.filesz]

    def _load_data(self, address: int) -> tuple[bytes, int]:
        """The file data of the PT_LOAD segment holding `address`, and where
        in it `address` lies; (b"", 0) when no segment's file data holds it."""
        for load in self.segments:
            if load.type == PT_LOAD and load.vaddr <= address < load.vaddr + load.filesz:
                return self.segment_bytes(load), address - load.vaddr
        return b"", 0

    def read_address(self, address: int, size: int, what: str) -> bytes:
        """`size` bytes at virtual address `address`, from a PT_LOAD's file data."""
        data, start = self._load_data(address)
        if start + size > len(data) or not data:
            raise self.error(f"{what} at {address:#x} ({size} bytes) is not file data of a PT_LOAD segment")
        return data[start : start + size]

    def string_at_address(self, address: int, what: str, limit: int) -> bytes:
        """The NUL-terminated string at virtual address `address` (at most `limit` bytes)."""
        data, start = self._load_data(address)
        if not data:
            raise self.error(f"{what} at {address:#x} is not file data of a PT_LOAD segment")
        end = data.find(b"\0", start, start + limit)
        if end < 0:
            raise self.error(f"{what} at {address:#x} is not NUL-terminated within {limit} bytes")
        return data[start:end]

    def segment_notes(self) -> list[tuple[bytes, int, bytes]]:
        """The notes of every PT_NOTE segment (see notes())."""
        result = []
        for segment in self.segments:
            if segment.type == PT_NOTE:
                result += notes(self.segment_bytes(segment))
        return result


def notes(data: bytes) -> list[tuple[bytes, int, bytes]]:
    """(name with its NUL, type, descriptor) of each note in a note section
    or segment (4-byte aligned); a truncated last note is left out."""
    result, at = [], 0
    while at + 12 <= len(data):
        namesz, descsz, type_ = struct.unpack_from("<III", data, at)
        desc_at = at + 12 + (namesz + 3) // 4 * 4
        end = desc_at + (descsz + 3) // 4 * 4
        if end > len(data):
            break
        result.append((data[at + 12 : at + 12 + namesz], type_, data[desc_at : desc_at + descsz]))
        at = end
    return result


def read(path: str) -> Elf:
    with open(path, "rb") as file:
        return Elf(file.read(), path)


def parse_keel_kabi(data: bytes) -> list[tuple[int, str, str]]:
    """The .keel_kabi section (docs/module-format.md): (hash, name, node)."""
    if len(data) < 8:
        raise ElfError(f".keel_kabi: {len(data)} bytes, smaller than its header")
    version, count = struct.unpack_from("<II", data, 0)
    if version != 1:
        raise ElfError(f".keel_kabi version {version} is not 1")
    strings = 8 + 16 * count
    if strings > len(data):
        raise ElfError(f".keel_kabi: {count} entries do not fit in {len(data)} bytes")

    def text(offset: int) -> str:
        end = data.find(b"\0", strings + offset)
        if offset >= len(data) - strings or end < 0:
            raise ElfError(f".keel_kabi: string offset {offset} lies outside the string table")
        return data[strings + offset : end].decode()

    entries = []
    for index in range(count):
        hash_, name, node = struct.unpack_from("<QII", data, 8 + 16 * index)
        entries.append((hash_, text(name), text(node)))
    return entries
