"""Just enough ELF64 little-endian reading to check versioned shared
objects (what `readelf -V` and `readelf -S` show): sections by name, the
dynamic symbols with their versions, the version definitions and needs.
Used by the tests and, later, the ABI checker."""

from __future__ import annotations

import struct
from dataclasses import dataclass

SHT_DYNSYM = 11
SHT_GNU_VERDEF = 0x6FFFFFFD
SHT_GNU_VERNEED = 0x6FFFFFFE
SHT_GNU_VERSYM = 0x6FFFFFFF
VERSYM_HIDDEN = 0x8000


class ElfError(Exception):
    pass


@dataclass
class Section:
    name: str
    type: int
    flags: int
    offset: int
    size: int
    link: int
    info: int


@dataclass
class DynamicSymbol:
    name: str
    defined: bool
    binding: int
    type: int
    version: str | None  # node name, None when unversioned
    default: bool  # sym@@NODE (not hidden) rather than sym@NODE


class Elf:
    def __init__(self, data: bytes, path: str = "<elf>"):
        self.data = data
        self.path = path
        if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ElfError(f"{path}: not an ELF64 little-endian file")
        (self.shoff,) = struct.unpack_from("<Q", data, 40)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 58)
        if shentsize != 64 or self.shoff + shnum * 64 > len(data) or shstrndx >= shnum:
            raise ElfError(f"{path}: bad section header table")
        raw = []
        for index in range(shnum):
            name, type_, flags, _addr, offset, size, link, info, _align, _entsize = struct.unpack_from(
                "<IIQQQQIIQQ", data, self.shoff + 64 * index
            )
            raw.append((name, type_, flags, offset, size, link, info))
        names = raw[shstrndx]
        self.sections = [
            Section(self._string(names[3], names[4], entry[0]), *entry[1:]) for entry in raw
        ]

    def _string(self, table_offset: int, table_size: int, offset: int) -> str:
        if offset >= table_size:
            raise ElfError(f"{self.path}: string offset {offset} outside its table")
        end = self.data.index(b"\0", table_offset + offset, table_offset + table_size)
        return self.data[table_offset + offset : end].decode()

    def section(self, name: str) -> Section | None:
        return next((section for section in self.sections if section.name == name), None)

    def section_bytes(self, name: str) -> bytes | None:
        section = self.section(name)
        if section is None:
            return None
        return self.data[section.offset : section.offset + section.size]

    def _of_type(self, type_: int) -> Section | None:
        return next((section for section in self.sections if section.type == type_), None)

    def _strtab(self, section: Section) -> Section:
        return self.sections[section.link]

    def version_definitions(self) -> dict[int, str]:
        """Version index -> node name (the first name of each Verdef)."""
        section = self._of_type(SHT_GNU_VERDEF)
        result: dict[int, str] = {}
        if section is None:
            return result
        strings = self._strtab(section)
        at = section.offset
        for _ in range(section.info):
            _version, _flags, index, _count, _hash, aux, next_ = struct.unpack_from("<HHHHIII", self.data, at)
            (name,) = struct.unpack_from("<I", self.data, at + aux)
            result[index] = self._string(strings.offset, strings.size, name)
            if next_ == 0:
                break
            at += next_
        return result

    def version_needs(self) -> dict[int, tuple[str, str]]:
        """Version index -> (node name, file that defines it)."""
        section = self._of_type(SHT_GNU_VERNEED)
        result: dict[int, tuple[str, str]] = {}
        if section is None:
            return result
        strings = self._strtab(section)
        at = section.offset
        for _ in range(section.info):
            _version, count, file_, aux, next_ = struct.unpack_from("<HHIII", self.data, at)
            file_name = self._string(strings.offset, strings.size, file_)
            aux_at = at + aux
            for _ in range(count):
                _hash, _flags, other, name, aux_next = struct.unpack_from("<IHHII", self.data, aux_at)
                result[other & 0x7FFF] = (self._string(strings.offset, strings.size, name), file_name)
                if aux_next == 0:
                    break
                aux_at += aux_next
            if next_ == 0:
                break
            at += next_
        return result

    def dynamic_symbols(self) -> list[DynamicSymbol]:
        dynsym = self._of_type(SHT_DYNSYM)
        if dynsym is None:
            return []
        strings = self._strtab(dynsym)
        versym = self._of_type(SHT_GNU_VERSYM)
        definitions = self.version_definitions()
        needs = self.version_needs()
        symbols = []
        for index in range(1, dynsym.size // 24):
            name, info, _other, shndx, _value, _size = struct.unpack_from("<IBBHQQ", self.data, dynsym.offset + 24 * index)
            version_name = None
            default = True
            if versym is not None:
                (raw,) = struct.unpack_from("<H", self.data, versym.offset + 2 * index)
                version = raw & 0x7FFF
                default = not raw & VERSYM_HIDDEN
                if version >= 2:
                    version_name = definitions.get(version) or needs.get(version, (None, None))[0]
            symbols.append(
                DynamicSymbol(self._string(strings.offset, strings.size, name), shndx != 0, info >> 4, info & 0xF, version_name, default)
            )
        return symbols


def read(path: str) -> Elf:
    with open(path, "rb") as file:
        return Elf(file.read(), path)


def parse_keel_kabi(data: bytes) -> list[tuple[int, str, str]]:
    """The .keel_kabi section (docs/module-format.md): (hash, name, node)."""
    version, count = struct.unpack_from("<II", data, 0)
    if version != 1:
        raise ElfError(f".keel_kabi version {version} is not 1")
    strings = 8 + 16 * count
    entries = []
    for index in range(count):
        hash_, name, node = struct.unpack_from("<QII", data, 8 + 16 * index)

        def text(offset: int) -> str:
            return data[strings + offset : data.index(b"\0", strings + offset)].decode()

        entries.append((hash_, text(name), text(node)))
    return entries
