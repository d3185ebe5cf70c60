"""The export table of a built core, read from its ELF image.

The kernel compiles the generated table into `keel::g_kabi_core_table`
(core/lib/kabi/kabi_table.h), a `constinit` object whose pointers are
absolute link-time addresses: no relocation touches it at boot. So the
table can be read straight from `keel.elf`: find the object through the
symbol table (`.symtab`, which the kernel keeps for its own backtraces),
then follow its pointers through the `PT_LOAD` segments. `kmodinfo
--check-against` (scripts/tools/kmodinfo.cpp) reads it the same way.

Every pointer, count and string is checked against the file: a damaged or
foreign image gives an error naming the field and the value, never an
exception from the struct module.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from keel.elf import Elf
from keel.elf import read as read_elf

TABLE_SYMBOL = "_ZN4keel17g_kabi_core_tableE"
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


def string(image: Elf, address: int, what: str) -> str:
    try:
        return image.string_at_address(address, what, MAX_STRING).decode("ascii")
    except UnicodeDecodeError:
        raise image.error(f"{what} at {address:#x} is not ASCII") from None


def export_table(image: Elf) -> CoreTable:
    address = image.symbol_value(TABLE_SYMBOL)
    exports_at, export_count, _slots, _slot_count, nodes_at, node_count = struct.unpack(
        "<QQQQQQ", image.read_address(address, TABLE_SIZE, "g_kabi_core_table")
    )
    for label, count in (("export_count", export_count), ("node_count", node_count)):
        if count > MAX_ENTRIES:
            raise image.error(f"g_kabi_core_table {label} {count} is implausible")
    raw = image.read_address(exports_at, export_count * EXPORT_SIZE, "the export array")
    exports = []
    for index in range(export_count):
        name, node, hash_, _key, _address = struct.unpack_from("<QQQQQ", raw, index * EXPORT_SIZE)
        exports.append(CoreExport(string(image, name, f"export {index} name"),
                                  string(image, node, f"export {index} node"), hash_))
    raw = image.read_address(nodes_at, node_count * NODE_SIZE, "the node array")
    nodes = []
    for index in range(node_count):
        name, parent, interface = struct.unpack_from("<QQQ", raw, index * NODE_SIZE)
        nodes.append((string(image, name, f"node {index} name"),
                      string(image, parent, f"node {index} parent") if parent else None,
                      string(image, interface, f"node {index} interface")))
    return CoreTable(exports, nodes)


def read_core_table(path: str) -> CoreTable:
    return export_table(read_elf(path))
