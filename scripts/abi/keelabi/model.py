"""The ABI description model: loading, validation, type layout and hashes.

The description (abi/keel.toml, docs/abi.md) is untrusted input in the sense
that a typo must produce a clear message naming the entry, the field and
the value; every check lives here so the generators can trust the model.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field

FORMAT_VERSION = 1


class AbiError(Exception):
    pass


# Fixed-size scalar types (x86_64 System V sizes and alignments) and their
# Rust spellings. `char` is only meaningful behind a pointer (C strings).
PRIMITIVES = {
    "void": (0, 1, "core::ffi::c_void"),
    "char": (1, 1, "core::ffi::c_char"),
    "bool": (1, 1, "bool"),
    "int8_t": (1, 1, "i8"),
    "int16_t": (2, 2, "i16"),
    "int32_t": (4, 4, "i32"),
    "int64_t": (8, 8, "i64"),
    "uint8_t": (1, 1, "u8"),
    "uint16_t": (2, 2, "u16"),
    "uint32_t": (4, 4, "u32"),
    "uint64_t": (8, 8, "u64"),
    "size_t": (8, 8, "usize"),
    "uintptr_t": (8, 8, "usize"),
}
INTEGER_PRIMITIVES = {name for name in PRIMITIVES if name.endswith("_t")}
POINTER_SIZE = 8

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SYMBOL_NAME = re.compile(r"^keel_[a-z0-9_]+$")
NODE_NAME = re.compile(r"^KABI_([A-Z][A-Z0-9_]*)_([0-9]+)\.([0-9]+)$")
TYPE_KINDS = ("enum", "struct", "opaque", "funcptr")
# C library functions compilers emit calls to on their own (struct copies,
# array zeroing, slice comparison in Rust): the core exports them under
# their standard names, and headers leave their declarations to the C
# library's <string.h> (`libc = true` in the description).
LIBC_NAMES = {"memcpy", "memmove", "memset", "memcmp", "bcmp"}


@dataclass(frozen=True)
class TypeRef:
    """A parsed type spelling: `const char*` is Ptr(Named(char, const))."""

    name: str | None  # None for a pointer
    const: bool = False
    pointee: "TypeRef | None" = None

    @property
    def is_pointer(self) -> bool:
        return self.pointee is not None

    def c(self, declarator: str = "") -> str:
        """C spelling, with an optional declarator name."""
        if self.is_pointer:
            inner = self.pointee.c()
            text = inner + "*" + (" const" if self.const else "")
        else:
            text = ("const " if self.const else "") + self.name
        return text + (" " + declarator if declarator else "")


def parse_type(text: str, where: str) -> TypeRef:
    if not isinstance(text, str) or not text.strip():
        raise AbiError(f"{where}: type must be a non-empty string, got {text!r}")
    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\*|\S", text)
    position = 0
    const = False
    if tokens and tokens[0] == "const":
        const = True
        position = 1
    if position >= len(tokens) or not IDENTIFIER.match(tokens[position]) or tokens[position] == "const":
        raise AbiError(f"{where}: cannot parse type {text!r}: expected a type name")
    ref = TypeRef(tokens[position], const)
    position += 1
    while position < len(tokens):
        if tokens[position] != "*":
            raise AbiError(f"{where}: cannot parse type {text!r}: unexpected {tokens[position]!r}")
        position += 1
        pointer_const = position < len(tokens) and tokens[position] == "const"
        if pointer_const:
            position += 1
        ref = TypeRef(None, pointer_const, ref)
    return ref


@dataclass
class Param:
    name: str
    type: TypeRef
    doc: str = ""


@dataclass
class Field:
    name: str
    type: TypeRef
    count: int  # array length; 0 for a plain field
    doc: str
    offset: int = 0
    size: int = 0


@dataclass
class EnumValue:
    name: str
    value: int
    doc: str


@dataclass
class TypeDef:
    name: str
    kind: str
    doc: str
    group: str
    underlying: str = ""  # enum
    values: list[EnumValue] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)  # struct
    returns: TypeRef | None = None  # funcptr
    params: list[Param] = field(default_factory=list)  # funcptr
    size: int = 0
    align: int = 1


@dataclass
class Constant:
    name: str
    type: str
    value: int
    doc: str
    group: str


@dataclass
class ErrorCode:
    """One errno of the shared error vocabulary: Linux's name and number."""

    name: str  # EINVAL; C spells it KEEL_EINVAL
    value: int  # the positive number; the ABI returns its negation
    doc: str  # a one-line description ending in a full stop

    @property
    def message(self) -> str:
        """The description as message text: "Invalid argument"."""
        return self.doc.rstrip(".")


@dataclass
class Node:
    name: str
    interface: str
    doc: str
    parent: str | None  # the node this one inherits (same interface), None for the first
    index: int  # position in the description (1-based order of the version definitions)


@dataclass
class Interface:
    name: str
    doc: str
    nodes: list[str] = field(default_factory=list)


@dataclass
class Group:
    name: str
    doc: str


@dataclass
class Function:
    name: str
    node: str
    group: str
    returns: TypeRef
    params: list[Param]
    doc: str
    impl: str  # the C symbol implementing this (name, node) in the core
    variadic: bool = False
    noreturn: bool = False
    printf_format: int = 0  # 1-based index of the format parameter, 0 if none
    libc: bool = False  # a standard C function: not declared by the generated headers
    is_default: bool = True  # the newest entry of its name: what headers declare
    canonical: str = ""
    hash: int = 0

    @property
    def versioned_name(self) -> str:
        return f"{self.name}@{self.node}"


@dataclass
class Abi:
    soname: str
    doc: str
    interfaces: list[Interface]
    nodes: list[Node]
    groups: list[Group]
    constants: list[Constant]
    types: dict[str, TypeDef]  # in description order
    functions: list[Function]  # in description order
    errors: list[ErrorCode] = field(default_factory=list)  # in description order
    # "keel_"/"KABI" for the core; a vendor interface names its own
    # ("acme_"/"ACME": acme_counter_add@ACME_COUNTER_1.0).
    symbol_prefix: str = "keel_"
    node_prefix: str = "KABI"

    @property
    def is_core(self) -> bool:
        """The core's ABI (libkeel.so), not a module's own interface."""
        return self.soname == "libkeel.so"

    @property
    def constant_prefix(self) -> str:
        return self.symbol_prefix.upper()

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def default_functions(self) -> list[Function]:
        return [function for function in self.functions if function.is_default]

    def exports_sorted(self) -> list[Function]:
        """Every (name, node) export in a stable order: by node, then name."""
        order = {node.name: index for index, node in enumerate(self.nodes)}
        return sorted(self.functions, key=lambda f: (order[f.node], f.name))


def _get(table: dict, key: str, where: str, kind, default=None, required=True):
    if key not in table:
        if required:
            raise AbiError(f"{where}: missing field '{key}'")
        return default
    value = table[key]
    if kind is int and isinstance(value, bool):
        raise AbiError(f"{where}: field '{key}' must be an integer, got {value!r}")
    if not isinstance(value, kind):
        raise AbiError(f"{where}: field '{key}' must be a {kind.__name__}, got {value!r}")
    return value


def _check_keys(table: dict, allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise AbiError(f"{where}: unknown field '{key}' (allowed: {', '.join(sorted(allowed))})")


def _doc(table: dict, where: str) -> str:
    doc = _get(table, "doc", where, str)
    if not doc.strip():
        raise AbiError(f"{where}: field 'doc' must not be empty")
    if "*/" in doc:
        raise AbiError(f"{where}: field 'doc' must not contain '*/'")
    return doc.strip()


def _list(data: dict, key: str, where: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise AbiError(f"{where}: '{key}' must be an array of tables, got {value!r}")
    return value


# The core's description: a module-owned interface may name the core's
# opaque types (keel_pkt, keel_netdev), behind a pointer; their hashes say
# "opaque NAME", as the core's own do. In the source tree it is
# abi/keel.toml (this package is scripts/abi/keelabi), in the SDK
# share/keel-sdk/abi/keel.toml (the package is share/keel-sdk/abi/keelabi).
_PACKAGE = os.path.dirname(os.path.abspath(__file__))
CORE_DESCRIPTIONS = (os.path.join(_PACKAGE, "..", "..", "..", "abi", "keel.toml"),
                     os.path.join(_PACKAGE, "..", "keel.toml"))


def core_opaque_types(path: str | None = None) -> dict[str, TypeDef]:
    if path is None:
        path = next((p for p in CORE_DESCRIPTIONS if os.path.isfile(p)), CORE_DESCRIPTIONS[0])
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise AbiError(f"{path}: cannot read the core's description for its opaque types: {error}") from None
    return {table["name"]: TypeDef(table["name"], "opaque", table.get("doc", ""), table.get("group", ""))
            for table in data.get("types", []) if isinstance(table, dict) and table.get("kind") == "opaque"}


def load(path: str, node_limits: list[str] | None = None) -> Abi:
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as error:
        raise AbiError(f"{path}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise AbiError(f"{path}: not valid TOML: {error}") from None
    return build(data, path, node_limits or [])


def build(data: dict, path: str = "<description>", node_limits: list[str] | None = None) -> Abi:
    _check_keys(data, {"abi", "interfaces", "nodes", "groups", "constants", "types", "functions", "errors"}, path)
    header = data.get("abi")
    if not isinstance(header, dict):
        raise AbiError(f"{path}: missing table [abi]")
    _check_keys(header, {"format", "soname", "doc", "symbol_prefix", "node_prefix"}, f"{path}: [abi]")
    version = _get(header, "format", f"{path}: [abi]", int)
    if version != FORMAT_VERSION:
        raise AbiError(f"{path}: [abi] format = {version} is not supported (this generator reads {FORMAT_VERSION})")
    soname = _get(header, "soname", f"{path}: [abi]", str)
    abi_doc = _get(header, "doc", f"{path}: [abi]", str, "", required=False)
    # A module's own interface (docs/sdk.md, "Exporting functions to other
    # modules"): its soname is the module's file name and it names its own
    # symbol and node prefixes; the core's are keel_ and KABI.
    symbol_prefix = _get(header, "symbol_prefix", f"{path}: [abi]", str, "keel_", required=False)
    node_prefix = _get(header, "node_prefix", f"{path}: [abi]", str, "KABI", required=False)
    # A module may also own an interface in the core's namespace: symbol
    # prefix keel_<interface>_, nodes KABI_<INTERFACE>_<major>.<minor> (the
    # network protocols: keel_inet_*@KABI_INET_1.0). scripts/abi-check
    # refuses one whose interface the core, or another module, also has.
    owned = re.match(r"^keel_([a-z][a-z0-9]*)_$", symbol_prefix)
    if not owned and not re.match(r"^[a-z][a-z0-9]*_$", symbol_prefix):
        raise AbiError(f"{path}: [abi] symbol_prefix {symbol_prefix!r} must be lower-case letters and digits "
                       "ending in '_' (acme_), or keel_<interface>_ for a module's interface in the core's "
                       "namespace")
    if not re.match(r"^[A-Z][A-Z0-9]*$", node_prefix):
        raise AbiError(f"{path}: [abi] node_prefix {node_prefix!r} must be upper-case letters and digits (ACME)")
    is_core = soname == "libkeel.so"
    if is_core and (symbol_prefix, node_prefix) != ("keel_", "KABI"):
        raise AbiError(f"{path}: [abi] the core (soname libkeel.so) uses symbol_prefix 'keel_' and node_prefix 'KABI'")
    if not is_core:
        if not re.match(r"^[a-z0-9_]{1,55}\.kmod$", soname):
            raise AbiError(f"{path}: [abi] soname {soname!r} must be the module's file name, NAME.kmod "
                           "(NAME: [a-z0-9_], at most 55)")
        if symbol_prefix == "keel_":
            raise AbiError(f"{path}: [abi] a module's interface needs its own symbol_prefix "
                           "(keel_ is the core's; keel_<interface>_ names a module-owned interface)")
        if bool(owned) != (node_prefix == "KABI"):
            raise AbiError(f"{path}: [abi] symbol_prefix {symbol_prefix!r} and node_prefix {node_prefix!r}: a "
                           "module-owned interface in the core's namespace has both keel_<interface>_ and KABI; "
                           "any other has neither")
    node_pattern = re.compile(rf"^{node_prefix}_([A-Z][A-Z0-9_]*)_([0-9]+)\.([0-9]+)$")
    symbol_pattern = re.compile(rf"^{symbol_prefix}[a-z0-9_]+$")
    constant_pattern = re.compile(rf"^{symbol_prefix.upper()}[A-Z0-9_]+$")

    interfaces: dict[str, Interface] = {}
    for index, table in enumerate(_list(data, "interfaces", path)):
        where = f"{path}: interfaces[{index}]"
        _check_keys(table, {"name", "doc"}, where)
        name = _get(table, "name", where, str)
        if not re.match(r"^[a-z][a-z0-9_]*$", name):
            raise AbiError(f"{where}: interface name {name!r} must be lower-case [a-z0-9_]")
        if name in interfaces:
            raise AbiError(f"{where}: interface {name!r} is defined twice")
        if owned and name != owned.group(1):
            raise AbiError(f"{where}: interface {name!r}: a description with symbol_prefix {symbol_prefix!r} "
                           f"describes the interface {owned.group(1)!r} only")
        interfaces[name] = Interface(name, _doc(table, where))

    nodes: list[Node] = []
    node_names: set[str] = set()
    for index, table in enumerate(_list(data, "nodes", path)):
        where = f"{path}: nodes[{index}]"
        _check_keys(table, {"name", "interface", "doc"}, where)
        name = _get(table, "name", where, str)
        match = node_pattern.match(name)
        if not match:
            raise AbiError(f"{where}: node name {name!r} must look like {node_prefix}_<INTERFACE>_<major>.<minor>")
        if name in node_names:
            raise AbiError(f"{where}: node {name!r} is defined twice")
        interface_name = _get(table, "interface", where, str)
        interface = interfaces.get(interface_name)
        if interface is None:
            raise AbiError(f"{where}: node {name!r} names unknown interface {interface_name!r}")
        if match.group(1) != interface_name.upper():
            raise AbiError(
                f"{where}: node {name!r} of interface {interface_name!r} "
                f"must be named {node_prefix}_{interface_name.upper()}_*"
            )
        # A node inherits the previous node of its interface: versions only
        # ever add (DESIGN.md), so the chain is the order of definition.
        parent = interface.nodes[-1] if interface.nodes else None
        if parent:
            previous = node_pattern.match(parent)
            if (int(match.group(2)), int(match.group(3))) <= (int(previous.group(2)), int(previous.group(3))):
                raise AbiError(f"{where}: node {name!r} must have a higher version than {parent!r} before it")
        node_names.add(name)
        interface.nodes.append(name)
        nodes.append(Node(name, interface_name, _doc(table, where), parent, len(nodes) + 1))

    # --node-limit: generate an older SDK (e.g. the KABI_CORE_1.0 one).
    kept_nodes = {node.name for node in nodes}
    for limit in node_limits or []:
        if limit not in node_names:
            raise AbiError(f"--node-limit {limit!r}: no such node")
        interface = interfaces[next(node.interface for node in nodes if node.name == limit)]
        position = interface.nodes.index(limit)
        for dropped in interface.nodes[position + 1 :]:
            kept_nodes.discard(dropped)
        interface.nodes = interface.nodes[: position + 1]
    nodes = [node for node in nodes if node.name in kept_nodes]

    groups: list[Group] = []
    for index, table in enumerate(_list(data, "groups", path)):
        where = f"{path}: groups[{index}]"
        _check_keys(table, {"name", "doc"}, where)
        name = _get(table, "name", where, str)
        if not IDENTIFIER.match(name) or any(group.name == name for group in groups):
            raise AbiError(f"{where}: group name {name!r} is not a new identifier")
        groups.append(Group(name, _doc(table, where)))
    group_names = {group.name for group in groups}

    def check_group(table: dict, where: str) -> str:
        name = _get(table, "group", where, str)
        if name not in group_names:
            raise AbiError(f"{where}: unknown group {name!r} (known: {', '.join(sorted(group_names))})")
        return name

    global_names: set[str] = set()

    def claim(name: str, where: str) -> None:
        if name in global_names:
            raise AbiError(f"{where}: name {name!r} is already used")
        global_names.add(name)

    constants: list[Constant] = []
    for index, table in enumerate(_list(data, "constants", path)):
        where = f"{path}: constants[{index}]"
        _check_keys(table, {"name", "type", "value", "doc", "group"}, where)
        name = _get(table, "name", where, str)
        if not constant_pattern.match(name):
            raise AbiError(f"{where}: constant name {name!r} must be {symbol_prefix.upper()} and upper case")
        claim(name, where)
        type_name = _get(table, "type", where, str)
        if type_name not in INTEGER_PRIMITIVES:
            raise AbiError(f"{where}: constant {name!r} has type {type_name!r}; use a fixed-width integer type")
        value = _get(table, "value", where, int)
        _check_range(value, type_name, f"{where}: constant {name!r}")
        constants.append(Constant(name, type_name, value, _doc(table, where), check_group(table, where)))

    errors = _errors(data, path, claim)

    types: dict[str, TypeDef] = {}
    raw_types = _list(data, "types", path)
    for index, table in enumerate(raw_types):
        where = f"{path}: types[{index}]"
        name = _get(table, "name", where, str)
        # The prefix without its underscore names a type too (keel_udp, acme).
        if not symbol_pattern.match(name) and not (not is_core and name == symbol_prefix[:-1]):
            raise AbiError(f"{where}: type name {name!r} must match {symbol_prefix}[a-z0-9_]+")
        claim(name, where)
        kind = _get(table, "kind", where, str)
        if kind not in TYPE_KINDS:
            raise AbiError(f"{where}: type {name!r} has kind {kind!r} (one of {', '.join(TYPE_KINDS)})")
        types[name] = TypeDef(name, kind, "", "")

    # The core's opaque types a module-owned description names: not its
    # own (nothing generated declares them), but hashed like the core's.
    imported: dict[str, TypeDef] = {}

    def resolve(text: str, where: str, allow_void: bool = False, allow_char: bool = False) -> TypeRef:
        ref = parse_type(text, where)
        base = ref
        while base.is_pointer:
            base = base.pointee
        if base.name not in PRIMITIVES and base.name not in types and not is_core:
            core = core_opaque_types()
            if base.name in core:
                if not ref.is_pointer:
                    raise AbiError(f"{where}: the core's opaque type {base.name!r} can only be used behind a pointer")
                imported[base.name] = core[base.name]
        if base.name not in PRIMITIVES and base.name not in types and base.name not in imported:
            raise AbiError(f"{where}: unknown type {base.name!r} in {text!r}")
        if not ref.is_pointer:
            if ref.name == "void" and not allow_void:
                raise AbiError(f"{where}: 'void' is only valid as a return type or behind a pointer")
            if ref.name == "char" and not allow_char:
                raise AbiError(
                    f"{where}: plain 'char' has no fixed sign;"
                    " use int8_t/uint8_t, 'const char*' or a char array (count)"
                )
            if ref.name in types and types[ref.name].kind == "opaque":
                raise AbiError(f"{where}: opaque type {ref.name!r} can only be used behind a pointer")
        return ref

    def params_of(table: dict, where: str) -> list[Param]:
        result = []
        seen = set()
        raw = table.get("params", None)
        if not isinstance(raw, list):
            raise AbiError(f"{where}: field 'params' must be an array (use [] for none), got {raw!r}")
        for position, param in enumerate(raw):
            pwhere = f"{where}: params[{position}]"
            if not isinstance(param, dict):
                raise AbiError(f"{pwhere}: must be a table {{ name, type }}, got {param!r}")
            _check_keys(param, {"name", "type", "doc"}, pwhere)
            pname = _get(param, "name", pwhere, str)
            if not IDENTIFIER.match(pname) or pname in seen:
                raise AbiError(f"{pwhere}: parameter name {pname!r} is not a new identifier")
            seen.add(pname)
            result.append(Param(pname, resolve(_get(param, "type", pwhere, str), pwhere), param.get("doc", "")))
        return result

    for index, table in enumerate(raw_types):
        where = f"{path}: types[{index}] ({table['name']})"
        typedef = types[table["name"]]
        kind = typedef.kind
        allowed = {"name", "kind", "doc", "group"}
        allowed |= {
            "enum": {"underlying", "values"},
            "struct": {"fields"},
            "opaque": set(),
            "funcptr": {"returns", "params"},
        }[kind]
        _check_keys(table, allowed, where)
        typedef.doc = _doc(table, where)
        typedef.group = check_group(table, where)
        if kind == "enum":
            typedef.underlying = _get(table, "underlying", where, str)
            if typedef.underlying not in INTEGER_PRIMITIVES:
                raise AbiError(f"{where}: underlying type {typedef.underlying!r} must be a fixed-width integer type")
            values = table.get("values")
            if not isinstance(values, list) or not values:
                raise AbiError(f"{where}: field 'values' must be a non-empty array, got {values!r}")
            seen_values = set()
            for position, item in enumerate(values):
                vwhere = f"{where}: values[{position}]"
                if not isinstance(item, dict):
                    raise AbiError(f"{vwhere}: must be a table {{ name, value, doc }}, got {item!r}")
                _check_keys(item, {"name", "value", "doc"}, vwhere)
                vname = _get(item, "name", vwhere, str)
                if not constant_pattern.match(vname):
                    raise AbiError(f"{vwhere}: enumerator {vname!r} must be {symbol_prefix.upper()} and upper case")
                claim(vname, vwhere)
                value = _get(item, "value", vwhere, int)
                _check_range(value, typedef.underlying, f"{vwhere}: {vname}")
                if value in seen_values:
                    raise AbiError(f"{vwhere}: value {value} of {vname} is used twice")
                seen_values.add(value)
                typedef.values.append(EnumValue(vname, value, _doc(item, vwhere)))
            typedef.size, typedef.align = PRIMITIVES[typedef.underlying][:2]
        elif kind == "struct":
            fields = table.get("fields")
            if not isinstance(fields, list) or not fields:
                raise AbiError(f"{where}: field 'fields' must be a non-empty array, got {fields!r}")
            seen_fields = set()
            for position, item in enumerate(fields):
                fwhere = f"{where}: fields[{position}]"
                if not isinstance(item, dict):
                    raise AbiError(f"{fwhere}: must be a table {{ name, type, doc }}, got {item!r}")
                _check_keys(item, {"name", "type", "count", "doc"}, fwhere)
                fname = _get(item, "name", fwhere, str)
                if not IDENTIFIER.match(fname) or fname in seen_fields:
                    raise AbiError(f"{fwhere}: field name {fname!r} is not a new identifier")
                seen_fields.add(fname)
                count = _get(item, "count", fwhere, int, 0, required=False)
                if count < 0 or count > 1 << 20:
                    raise AbiError(f"{fwhere}: count {count} out of range 1..{1 << 20}")
                ftype = resolve(_get(item, "type", fwhere, str), fwhere, allow_char=count > 0)
                typedef.fields.append(Field(fname, ftype, count, _doc(item, fwhere)))
        elif kind == "funcptr":
            typedef.returns = resolve(_get(table, "returns", where, str), f"{where}: returns", allow_void=True)
            typedef.params = params_of(table, where)
            typedef.size, typedef.align = POINTER_SIZE, POINTER_SIZE

    _compute_layouts(types)

    functions: list[Function] = []
    kept: list[Function] = []
    seen_versions: set[tuple[str, str]] = set()
    impls: dict[str, str] = {}
    for index, table in enumerate(_list(data, "functions", path)):
        name = table.get("name", f"#{index}")
        where = f"{path}: functions[{index}] ({name})"
        _check_keys(
            table,
            {"name", "node", "group", "returns", "params", "doc", "impl", "variadic", "noreturn", "printf_format",
             "libc"},
            where,
        )
        name = _get(table, "name", where, str)
        libc = _get(table, "libc", where, bool, False, required=False)
        if libc and name not in LIBC_NAMES:
            raise AbiError(f"{where}: libc = true is only for {', '.join(sorted(LIBC_NAMES))}, not {name!r}")
        if libc and not is_core:
            raise AbiError(f"{where}: libc = true is only for the core's description")
        if not libc and not symbol_pattern.match(name):
            raise AbiError(f"{where}: function name {name!r} must match {symbol_prefix}[a-z0-9_]+")
        node = _get(table, "node", where, str)
        if node not in node_names:
            raise AbiError(f"{where}: unknown node {node!r}")
        if (name, node) in seen_versions:
            raise AbiError(f"{where}: {name}@{node} is defined twice")
        seen_versions.add((name, node))
        if name in types or name in {c.name for c in constants}:
            raise AbiError(f"{where}: name {name!r} is already used by a type or constant")
        impl = _get(table, "impl", where, str, name, required=False)
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", impl):
            raise AbiError(f"{where}: impl {impl!r} is not a C identifier")
        if impl in impls:
            raise AbiError(f"{where}: impl {impl!r} already implements {impls[impl]}")
        impls[impl] = f"{name}@{node}"
        function = Function(
            name=name,
            node=node,
            group=check_group(table, where),
            returns=resolve(_get(table, "returns", where, str), f"{where}: returns", allow_void=True),
            params=params_of(table, where),
            doc=_doc(table, where),
            impl=impl,
            variadic=_get(table, "variadic", where, bool, False, required=False),
            noreturn=_get(table, "noreturn", where, bool, False, required=False),
            printf_format=_get(table, "printf_format", where, int, 0, required=False),
            libc=libc,
        )
        if function.printf_format:
            if not function.variadic or not 1 <= function.printf_format <= len(function.params):
                raise AbiError(
                    f"{where}: printf_format = {function.printf_format} needs a variadic function and a parameter index"
                )
            if function.params[function.printf_format - 1].type.c() != "const char*":
                raise AbiError(
                    f"{where}: printf_format = {function.printf_format} must point at a 'const char*' parameter"
                )
        if function.noreturn and function.returns.c() != "void":
            raise AbiError(f"{where}: a noreturn function must return void, not {function.returns.c()!r}")
        functions.append(function)
        if node in kept_nodes:
            kept.append(function)
    functions = kept

    # One exported name may appear in several nodes (a changed function and
    # its compatibility entries). The entry in the newest node is the default
    # (`sym@@NODE`, what headers declare); the others must name their own
    # implementation, since the default one owns the plain name.
    by_name: dict[str, list[Function]] = {}
    for function in functions:
        by_name.setdefault(function.name, []).append(function)
    node_order = {node.name: node.index for node in nodes}
    for name, entries in by_name.items():
        interfaces_of = {next(n.interface for n in nodes if n.name == e.node) for e in entries}
        if len(interfaces_of) > 1:
            raise AbiError(
                f"{path}: {name} appears in nodes of different interfaces ({', '.join(sorted(interfaces_of))})"
            )
        entries.sort(key=lambda f: node_order[f.node])
        for entry in entries[:-1]:
            entry.is_default = False
            if entry.impl == name:
                raise AbiError(
                    f"{path}: {name}@{entry.node} is a compatibility entry (a newer one is in {entries[-1].node});"
                    f" give it an 'impl' other than {name!r}"
                )

    for function in functions:
        function.canonical = canonical_declaration(function, {**imported, **types})
        function.hash = declaration_hash(function.canonical)

    if errors and not is_core:
        raise AbiError(f"{path}: [[errors]] belong to the core's description; "
                       "a module's functions return its errnos (KEEL_E*)")
    return Abi(soname, abi_doc, list(interfaces.values()), nodes, groups, constants, types, functions, errors,
               symbol_prefix, node_prefix)


# Linux's MAX_ERRNO: a return value in -MAX_ERRNO..-1 is an error.
MAX_ERRNO = 4095
ERROR_NAME = re.compile(r"^E[A-Z0-9]+$")
# Descriptions become C and Rust string literals and one-line comments.
ERROR_DOC = re.compile(r"^[A-Za-z0-9 ,.;:'/()+-]+$")


def _errors(data: dict, path: str, claim) -> list[ErrorCode]:
    """The errno table: `[[errors]] name = "EINVAL", value = 22, doc = ...`.
    Names and numbers are Linux's and each appears once, so a number has
    exactly one name (no aliases such as EWOULDBLOCK). The table is shared by
    every interface: errno numbers are not versioned per node, and a released
    number never changes (abi/baseline/errno.abi, docs/abi-policy.md)."""
    errors: list[ErrorCode] = []
    numbers: dict[int, str] = {}
    for index, table in enumerate(_list(data, "errors", path)):
        where = f"{path}: errors[{index}]"
        _check_keys(table, {"name", "value", "doc"}, where)
        name = _get(table, "name", where, str)
        if not ERROR_NAME.match(name):
            raise AbiError(f"{where}: errno name {name!r} must be E and upper case, as Linux spells it")
        where = f"{where} ({name})"
        claim("KEEL_" + name, where)
        value = _get(table, "value", where, int)
        if not 1 <= value <= MAX_ERRNO:
            raise AbiError(f"{where}: value {value} is not an errno number (1..{MAX_ERRNO})")
        if value in numbers:
            raise AbiError(f"{where}: value {value} is already {numbers[value]}")
        numbers[value] = name
        doc = _doc(table, where)
        if not ERROR_DOC.match(doc):
            raise AbiError(f"{where}: doc {doc!r} must be one line of letters, digits, spaces and ,.;:'/()+-")
        errors.append(ErrorCode(name, value, doc))
    return errors


def _check_range(value: int, type_name: str, where: str) -> None:
    size = PRIMITIVES[type_name][0]
    if type_name.startswith("u") or type_name == "size_t":
        low, high = 0, (1 << (8 * size)) - 1
    else:
        low, high = -(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1
    if not low <= value <= high:
        raise AbiError(f"{where}: value {value} does not fit {type_name} ({low}..{high})")


def _size_align(ref: TypeRef, types: dict[str, TypeDef]) -> tuple[int, int]:
    if ref.is_pointer:
        return POINTER_SIZE, POINTER_SIZE
    if ref.name in PRIMITIVES:
        return PRIMITIVES[ref.name][:2]
    typedef = types[ref.name]
    return typedef.size, typedef.align


def _compute_layouts(types: dict[str, TypeDef]) -> None:
    """System V x86_64 layout of every struct; a struct may only embed a
    struct (by value) that does not embed it back."""
    state: dict[str, str] = {}

    def layout(typedef: TypeDef, chain: list[str]) -> None:
        if state.get(typedef.name) == "done":
            return
        if state.get(typedef.name) == "busy":
            raise AbiError(f"struct {typedef.name} contains itself by value ({' -> '.join(chain + [typedef.name])})")
        state[typedef.name] = "busy"
        offset, align = 0, 1
        for item in typedef.fields:
            if not item.type.is_pointer and item.type.name in types and types[item.type.name].kind == "struct":
                layout(types[item.type.name], chain + [typedef.name])
            size, field_align = _size_align(item.type, types)
            if size == 0:
                raise AbiError(f"struct {typedef.name}: field {item.name!r} has type {item.type.c()!r} of size 0")
            offset = (offset + field_align - 1) // field_align * field_align
            item.offset = offset
            item.size = size * (item.count or 1)
            offset += item.size
            align = max(align, field_align)
        typedef.size = (offset + align - 1) // align * align
        typedef.align = align
        state[typedef.name] = "done"

    for typedef in types.values():
        if typedef.kind == "struct":
            layout(typedef, [])


# ------------------------------------------------------------------ hashing
#
# The hash of an exported function is the first 8 bytes (big-endian) of the
# SHA-256 of its canonical declaration: the name, every parameter's type and
# the return type, with every named type expanded to its full layout,
# recursively (struct size, alignment, field names, types, offsets; enum
# underlying type and values; function-pointer signatures). Parameter names,
# doc strings, groups and the node are left out: renaming a parameter or
# rewording a doc keeps binaries compatible. docs/abi.md has examples.


def canonical_type(ref: TypeRef, types: dict[str, TypeDef], stack: tuple[str, ...] = ()) -> str:
    if ref.is_pointer:
        text = "ptr(" + canonical_type(ref.pointee, types, stack) + ")"
        return ("const " + text) if ref.const else text
    prefix = "const " if ref.const else ""
    if ref.name in PRIMITIVES:
        return prefix + ref.name
    typedef = types[ref.name]
    if typedef.name in stack:
        # A struct reached again through a pointer to itself: its layout is
        # already part of the string.
        return f"{prefix}{typedef.kind} {typedef.name}"
    inner = stack + (typedef.name,)
    if typedef.kind == "opaque":
        body = f"opaque {typedef.name}"
    elif typedef.kind == "enum":
        values = ",".join(f"{value.name}={value.value}" for value in typedef.values)
        body = f"enum {typedef.name}:{typedef.underlying}{{{values}}}"
    elif typedef.kind == "struct":
        fields = ";".join(
            f"{item.name}:{canonical_type(item.type, types, inner)}"
            f"{f'[{item.count}]' if item.count else ''}@{item.offset}"
            for item in typedef.fields
        )
        body = f"struct {typedef.name}{{size={typedef.size},align={typedef.align};{fields}}}"
    else:
        params = ",".join(canonical_type(param.type, types, inner) for param in typedef.params)
        body = f"funcptr {typedef.name}({params})->{canonical_type(typedef.returns, types, inner)}"
    return prefix + body


def canonical_declaration(function: Function, types: dict[str, TypeDef]) -> str:
    params = [canonical_type(param.type, types) for param in function.params]
    if function.variadic:
        params.append("...")
    return f"function {function.name}({','.join(params)})->{canonical_type(function.returns, types)}"


def declaration_hash(canonical: str) -> int:
    return int.from_bytes(hashlib.sha256(canonical.encode()).digest()[:8], "big")


# ---------------------------------------------------------- export-table key
#
# The core's export table is an open-addressing hash table keyed by
# kabi_key(name, node); core/lib/kabi/kabi_table.cpp computes the same.

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


def kabi_key(name: str, node: str) -> int:
    value = FNV_OFFSET
    for byte in name.encode() + b"@" + node.encode():
        value = ((value ^ byte) * FNV_PRIME) & MASK64
    # FNV's low bits mix poorly; the table indexes with them, so finish with
    # MurmurHash3's fmix64.
    value ^= value >> 33
    value = (value * 0xFF51AFD7ED558CCD) & MASK64
    value ^= value >> 33
    value = (value * 0xC4CEB9FE1A85EC53) & MASK64
    value ^= value >> 33
    return value


def build_slots(keys: list[int]) -> list[int]:
    """Slot array for the open-addressing table (linear probing): a power
    of two at least twice the entry count; EMPTY_SLOT marks free slots."""
    slot_count = 8
    while slot_count < 2 * len(keys):
        slot_count *= 2
    slots = [EMPTY_SLOT] * slot_count
    for index, key in enumerate(keys):
        position = key & (slot_count - 1)
        while slots[position] != EMPTY_SLOT:
            position = (position + 1) & (slot_count - 1)
        slots[position] = index
    return slots


EMPTY_SLOT = 0xFFFFFFFF
