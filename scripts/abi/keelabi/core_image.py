"""The export table of a built core, read from its ELF image.

The kernel compiles the generated table into `keel::g_kabi_core_table`
(core/lib/kabi/kabi_table.h), a `constinit` object whose pointers are
absolute link-time addresses: no relocation touches it at boot. So the
table can be read straight from `keel.elf`: find the object through the
symbol table (`.symtab`, which the kernel keeps for its own backtraces),
then follow its pointers through the `PT_LOAD` segments. `kmodinfo
--check-against` (loader/host/kmodinfo.cpp) reads it the same way.

Every pointer, count and string is checked against the file: a damaged or
foreign image gives an error naming the field and the value, never an
exception from the struct module.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .elf import Elf, ElfError

TABLE_SYMBOL = "_ZN4keel17g_kabi_core_tableE"
SHT_SYMTAB = 2
PT_LOAD = 1
# KabiTable: exports, export_count, slots, slot_count, nodes, node_count.
TABLE_SIZE = 48
EXPORT_SIZE = 40  # KabiExport: name, node, hash, key, address
NODE_SIZE = 24  # KabiNode: name, parent, interface
MAX_ENTRIES = 1 << 20
MAX_STRING = 4096


@dataclass(frozen=True)
class CoreExport:
    name: str
    node: str
    hash: int


@dataclass
class CoreTable:
    exports: list[CoreExport]
    nodes: list[tuple[str, str | None, str]]  # name, parent, interface

    def find(self, name: str, node: str) -> CoreExport | None:
        return next((e for e in self.exports if e.name == name and e.node == node), None)

    def nodes_of(self, name: str) -> list[str]:
        return [e.node for e in self.exports if e.name == name]


class CoreImage:
    def __init__(self, path: str):
        with open(path, "rb") as file:
            self.data = file.read()
        self.path = path
        self.elf = Elf(self.data, path)
        (phoff,) = struct.unpack_from("<Q", self.data, 32)
        phentsize, phnum = struct.unpack_from("<HH", self.data, 54)
        if phentsize != 56 or phoff + phnum * 56 > len(self.data):
            raise ElfError(f"{path}: program header table (e_phoff {phoff:#x}, e_phnum {phnum}) lies outside the file")
        self.loads = []
        for index in range(phnum):
            p_type, _flags, offset, vaddr, _paddr, filesz, _memsz, _align = struct.unpack_from(
                "<IIQQQQQQ", self.data, phoff + 56 * index
            )
            if p_type == PT_LOAD:
                if offset + filesz > len(self.data):
                    raise ElfError(f"{path}: program header {index}: p_offset {offset:#x} + p_filesz {filesz:#x} exceeds the file")
                self.loads.append((vaddr, offset, filesz))

    def symbol(self, wanted: str) -> int:
        table = next((s for s in self.elf.sections if s.type == SHT_SYMTAB), None)
        if table is None:
            raise ElfError(f"{self.path}: no .symtab (a stripped core): cannot find {wanted}")
        if table.link >= len(self.elf.sections):
            raise ElfError(f"{self.path}: .symtab sh_link {table.link} is not a section")
        strings = self.elf.sections[table.link]
        if table.offset + table.size > len(self.data) or strings.offset + strings.size > len(self.data):
            raise ElfError(f"{self.path}: .symtab or its string table lies outside the file")
        for offset in range(table.offset, table.offset + table.size - 23, 24):
            name, _info, _other, _shndx, value, _size = struct.unpack_from("<IBBHQQ", self.data, offset)
            if name and name < strings.size:
                end = self.data.find(b"\0", strings.offset + name, strings.offset + strings.size)
                if end >= 0 and self.data[strings.offset + name : end] == wanted.encode():
                    return value
        raise ElfError(f"{self.path}: no symbol {wanted} (not a Keel core?)")

    def read(self, address: int, size: int, what: str) -> bytes:
        for vaddr, offset, filesz in self.loads:
            if vaddr <= address and address + size <= vaddr + filesz:
                start = offset + address - vaddr
                return self.data[start : start + size]
        raise ElfError(f"{self.path}: {what} at {address:#x} ({size} bytes) is not file data of a PT_LOAD segment")

    def string(self, address: int, what: str) -> str:
        for vaddr, offset, filesz in self.loads:
            if vaddr <= address < vaddr + filesz:
                start = offset + address - vaddr
                limit = min(offset + filesz, start + MAX_STRING)
                end = self.data.find(b"\0", start, limit)
                if end < 0:
                    raise ElfError(f"{self.path}: {what} at {address:#x} is not NUL-terminated within {MAX_STRING} bytes")
                try:
                    return self.data[start:end].decode("ascii")
                except UnicodeDecodeError:
                    raise ElfError(f"{self.path}: {what} at {address:#x} is not ASCII") from None
        raise ElfError(f"{self.path}: {what} at {address:#x} is not file data of a PT_LOAD segment")

    def export_table(self) -> CoreTable:
        address = self.symbol(TABLE_SYMBOL)
        exports_at, export_count, _slots, _slot_count, nodes_at, node_count = struct.unpack(
            "<QQQQQQ", self.read(address, TABLE_SIZE, "g_kabi_core_table")
        )
        for label, count in (("export_count", export_count), ("node_count", node_count)):
            if count > MAX_ENTRIES:
                raise ElfError(f"{self.path}: g_kabi_core_table {label} {count} is implausible")
        raw = self.read(exports_at, export_count * EXPORT_SIZE, "the export array")
        exports = []
        for index in range(export_count):
            name, node, hash_, _key, _address = struct.unpack_from("<QQQQQ", raw, index * EXPORT_SIZE)
            exports.append(CoreExport(self.string(name, f"export {index} name"), self.string(node, f"export {index} node"), hash_))
        raw = self.read(nodes_at, node_count * NODE_SIZE, "the node array")
        nodes = []
        for index in range(node_count):
            name, parent, interface = struct.unpack_from("<QQQ", raw, index * NODE_SIZE)
            nodes.append((self.string(name, f"node {index} name"),
                          self.string(parent, f"node {index} parent") if parent else None,
                          self.string(interface, f"node {index} interface")))
        return CoreTable(exports, nodes)


def read_core_table(path: str) -> CoreTable:
    return CoreImage(path).export_table()
