"""ABI compatibility checking: released baselines (abi/baseline/NODE.abi,
the `baseline` generator's dump limited to NODE) against the current
description and against a built core's export table.

docs/abi-policy.md says what a released node promises; this module is its
executable form. Every finding names the symbol or type, the node and what
changed, in words a reviewer can act on.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field

from .gen_kernel import generate_baseline
from .model import NODE_NAME, AbiError, load


@dataclass
class Dump:
    """A parsed `keel.abi` dump."""

    soname: str = ""
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (interface, parent)
    constants: dict[str, str] = field(default_factory=dict)  # name -> "type value"
    types: dict[str, list[str]] = field(default_factory=dict)  # name -> [header, member lines...]
    # (name, node) -> (hash, role, decl)
    symbols: dict[tuple[str, str], tuple[int, str, str]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # errno name -> number, in file order


def parse_dump(text: str, where: str) -> Dump:
    dump = Dump()
    current_type = None
    current_symbol = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        words = line.split()
        try:
            if line.startswith("  "):
                if words[0] == "decl" and current_symbol:
                    hash_, role, _ = dump.symbols[current_symbol]
                    dump.symbols[current_symbol] = (hash_, role, line.strip()[5:])
                elif current_type:
                    dump.types[current_type].append(line.strip())
                else:
                    raise ValueError("an indented line outside a type or symbol")
                continue
            current_type = current_symbol = None
            if words[0] == "soname":
                dump.soname = words[1]
            elif words[0] == "node":
                attributes = dict(word.split("=", 1) for word in words[2:])
                dump.nodes[words[1]] = (attributes["interface"], attributes["parent"])
            elif words[0] == "constant":
                dump.constants[words[1]] = " ".join(words[2:])
            elif words[0] == "error":
                dump.errors[words[1]] = int(words[2])
            elif words[0] == "type":
                current_type = words[1]
                dump.types[current_type] = [" ".join(words[2:])]
            elif words[0] == "symbol":
                current_symbol = (words[1], words[2])
                dump.symbols[current_symbol] = (int(words[3], 16), words[4], "")
            else:
                raise ValueError(f"unknown record {words[0]!r}")
        except (ValueError, IndexError, KeyError) as error:
            raise AbiError(f"{where}:{number}: cannot parse {line!r}: {error}") from None
    return dump


def node_order(name: str) -> tuple[str, int, int]:
    match = NODE_NAME.match(name)
    if not match:
        raise AbiError(f"{name!r} is not a version node name (KABI_<INTERFACE>_<major>.<minor>)")
    return match.group(1), int(match.group(2)), int(match.group(3))


# The released errno numbers. The errno table belongs to no node (every
# module may return or see every errno), so it has one golden file of its
# own, which only ever grows: every release records the description's
# errnos in it, since the SDK of a released node carries all of them.
ERRNO_BASELINE = "errno.abi"


# Released nodes of the interfaces modules own (docs/abi.md, "A
# module-owned interface": inet.kmod's KABI_INET_*) are kept apart from the
# core's, in this subdirectory of the baseline; each dump names its soname.
MODULE_BASELINE = "modules"


def baseline_dir_for(abi, baseline_dir: str) -> str:
    """Where the released nodes of `abi` (a loaded description) are kept."""
    return baseline_dir if abi.is_core else os.path.join(baseline_dir, MODULE_BASELINE)


def dump_soname(path: str) -> str:
    with open(path, encoding="utf-8") as file:
        for line in file:
            if line.startswith("soname "):
                return line.split()[1]
    raise AbiError(f"{path}: no soname record")


def released_nodes(baseline_dir: str, soname: str | None = None) -> list[str]:
    """The released nodes in `baseline_dir`; with `soname`, only that
    library's or module's."""
    if not os.path.isdir(baseline_dir):
        raise AbiError(f"{baseline_dir}: no such baseline directory")
    names = [entry[:-4] for entry in os.listdir(baseline_dir) if entry.endswith(".abi") and entry != ERRNO_BASELINE]
    for name in names:
        node_order(name)
    if soname is not None:
        names = [name for name in names if dump_soname(os.path.join(baseline_dir, name + ".abi")) == soname]
    return sorted(names, key=node_order)


def released_sonames(baseline_dir: str) -> dict[str, list[str]]:
    """soname -> its released nodes, for the module baseline directory."""
    sonames: dict[str, list[str]] = {}
    if os.path.isdir(baseline_dir):
        for node in released_nodes(baseline_dir):
            sonames.setdefault(dump_soname(os.path.join(baseline_dir, node + ".abi")), []).append(node)
    return sonames


def split_declaration(decl: str) -> tuple[str, list[str], str] | None:
    """`function NAME(A,B,...)->R` into (NAME, [A, B, ...], R), splitting
    only at top-level commas (struct bodies and funcptrs nest)."""
    match = re.match(r"^function ([A-Za-z_]\w*)\((.*)\)->(.*)$", decl)
    if not match:
        return None
    params, depth, start, text = [], 0, 0, match.group(2)
    for index, char in enumerate(text):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif char == "," and depth == 0:
            params.append(text[start:index])
            start = index + 1
    if text:
        params.append(text[start:])
    # The return type may itself contain "->" (a funcptr); the regex's greedy
    # group took the parameter list up to the last ")->", which is right
    # for returns without one. Good enough for a diagnosis.
    return match.group(1), params, match.group(3)


def explain_declaration(old: str, new: str) -> list[str]:
    """What differs between two canonical declarations, parameter by parameter."""
    a, b = split_declaration(old), split_declaration(new)
    if not a or not b:
        return [f"declaration {old} -> {new}"]
    reasons = []
    if a[2] != b[2]:
        reasons.append(f"return type {a[2]} -> {b[2]}")
    if len(a[1]) != len(b[1]):
        reasons.append(
            f"parameter count {len(a[1])} -> {len(b[1])} ({', '.join(a[1]) or 'none'} -> {', '.join(b[1]) or 'none'})"
        )
    else:
        for index, (x, y) in enumerate(zip(a[1], b[1]), 1):
            if x != y:
                reasons.append(f"parameter {index} type {x} -> {y}")
    return reasons or [f"declaration {old} -> {new}"]


def explain_type(name: str, old: list[str], new: list[str]) -> list[str]:
    if old[0] != new[0]:
        return [f"type {name}: {old[0]} -> {new[0]}"]
    reasons = []
    old_members, new_members = old[1:], new[1:]
    names_old = [line.split()[1] for line in old_members]
    names_new = [line.split()[1] for line in new_members]
    if sorted(names_old) == sorted(names_new) and names_old != names_new:
        reasons.append(f"type {name}: members reordered: {', '.join(names_old)} -> {', '.join(names_new)}")
    for member in names_old:
        if member not in names_new:
            reasons.append(f"type {name}: member {member} removed")
    for member in names_new:
        if member not in names_old:
            reasons.append(f"type {name}: member {member} added")
    if not reasons:
        for x, y in zip(old_members, new_members):
            if x != y:
                reasons.append(f"type {name}: {x} -> {y}")
    return reasons or [f"type {name} changed"]


@dataclass
class Report:
    breaks: list[str] = field(default_factory=list)
    additions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def add_break(self, message: str) -> None:
        """Each released node's dump repeats its ancestors' promises; a
        break is reported once, for the first (oldest) node carrying it."""
        if message not in self.seen:
            self.seen.add(message)
            self.breaks.append(message)


def reaches(decl: str, type_name: str) -> bool:
    return re.search(rf"(struct|enum|opaque|funcptr) {re.escape(type_name)}\b", decl) is not None


def compare_dumps(node: str, old: Dump, new: Dump, report: Report) -> None:
    """Everything `old` (the released NODE) promised must hold in `new`
    (the current description limited to NODE)."""
    if old.soname != new.soname:
        report.add_break(f"{node}: soname {old.soname} -> {new.soname}")
    for name, (interface, parent) in old.nodes.items():
        if name not in new.nodes:
            report.add_break(f"node {name}: removed")
        elif new.nodes[name] != (interface, parent):
            report.add_break(f"node {name}: interface/parent {interface}/{parent} -> {'/'.join(new.nodes[name])}")
    for name, value in old.constants.items():
        if name not in new.constants:
            report.add_break(f"constant {name}: removed")
        elif new.constants[name] != value:
            report.add_break(f"constant {name}: {value} -> {new.constants[name]}")
    changed_types = {}
    for name, lines in old.types.items():
        if name not in new.types:
            report.add_break(f"type {name}: removed")
            changed_types[name] = [f"type {name} removed"]
        elif new.types[name] != lines:
            changed_types[name] = explain_type(name, lines, new.types[name])
    for name, reasons in changed_types.items():
        users = [f"{s}@{n}" for (s, n), (_, _, decl) in old.symbols.items() if reaches(decl, name)]
        suffix = f" (reached by {', '.join(users)})" if users else ""
        for reason in reasons:
            report.add_break(f"{reason}{suffix}")
    for (name, symbol_node), (hash_, _role, decl) in old.symbols.items():
        current = new.symbols.get((name, symbol_node))
        if current is None:
            report.add_break(f"symbol {name}@{symbol_node}: removed")
        elif current[0] != hash_:
            why = "; ".join(explain_declaration(decl, current[2]))
            report.add_break(f"symbol {name}@{symbol_node}: hash 0x{hash_:016x} -> 0x{current[0]:016x}: {why}")
    released = set(old.nodes)
    for (name, symbol_node) in new.symbols:
        if symbol_node in released and (name, symbol_node) not in old.symbols:
            report.add_break(
                f"symbol {name}@{symbol_node}: added to released node {symbol_node} (new symbols go in a new node)"
            )


def node_dump(description: str, node: str) -> str:
    """The `keel.abi` dump of what NODE promises: its interface's nodes up to
    NODE, their symbols, the types those reach and the constants of the
    groups they use. Other interfaces are left out: they are released (and
    checked) on their own."""
    abi = load(description, [node])
    interface = abi.node(node).interface
    chain = [n for n in abi.nodes if n.interface == interface]
    names = {n.name for n in chain}
    functions = [f for f in abi.functions if f.node in names]
    types = {name: t for name, t in abi.types.items() if any(reaches(f.canonical, name) for f in functions)}
    groups = {f.group for f in functions} | {t.group for t in types.values()}
    constants = [c for c in abi.constants if c.group in groups]
    # The errno table is released on its own (ERRNO_BASELINE), not per node.
    limited = dataclasses.replace(abi, nodes=chain, functions=functions, types=types, constants=constants, errors=[])
    return generate_baseline(limited)


def current_dump(description: str, node: str) -> Dump:
    return parse_dump(node_dump(description, node), f"{description} (limited to {node})")


def check_description(description: str, baseline_dir: str, report: Report) -> list[str]:
    """Compares every released node with the description; returns the
    released node names."""
    full = load(description)
    directory = baseline_dir_for(full, baseline_dir)
    nodes = released_nodes(directory, full.soname) if os.path.isdir(directory) else []
    known = {n.name for n in full.nodes}
    released_symbols = set()
    for node in nodes:
        path = os.path.join(directory, node + ".abi")
        with open(path, encoding="utf-8") as file:
            old = parse_dump(file.read(), path)
        released_symbols.update(old.symbols)
        if node not in known:
            report.breaks.append(f"node {node}: removed (released; {path})")
            continue
        compare_dumps(node, old, current_dump(description, node), report)
    released_set = set(nodes)
    for node in full.nodes:
        if node.name not in released_set:
            report.additions.append(f"node {node.name} (interface {node.interface}, unreleased)")
    for function in full.exports_sorted():
        if (function.name, function.node) not in released_symbols:
            report.additions.append(f"symbol {function.name}@{function.node} 0x{function.hash:016x}")
    if full.is_core:
        check_errors(description, baseline_dir, report)
    return nodes


def check_namespaces(descriptions: list[str], report: Report) -> None:
    """A module-owned interface in the core's namespace (keel_inet_,
    KABI_INET) must be nobody else's: no other description has that
    interface, and the core has no function, type or constant with its
    prefix."""
    abis = [(description, load(description)) for description in descriptions]
    owners: dict[str, str] = {}
    for description, abi in abis:
        for interface in abi.interfaces:
            if interface.name in owners:
                report.add_break(f"interface {interface.name}: described by both {owners[interface.name]} and "
                                 f"{abi.soname}")
            owners[interface.name] = abi.soname
    for _, core in abis:
        if not core.is_core:
            continue
        names = [f.name for f in core.functions] + list(core.types) + [c.name for c in core.constants]
        for _, abi in abis:
            if abi.is_core or abi.node_prefix != "KABI":
                continue
            for name in names:
                if name.startswith(abi.symbol_prefix) or name.startswith(abi.constant_prefix):
                    report.add_break(f"{name}: in the core's description, but {abi.symbol_prefix} is "
                                     f"{abi.soname}'s prefix")


def released_errors(baseline_dir: str) -> dict[str, int]:
    path = os.path.join(baseline_dir, ERRNO_BASELINE)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as file:
        return parse_dump(file.read(), path).errors


def check_errors(description: str, baseline_dir: str, report: Report) -> None:
    """A released errno keeps its name and number: modules compiled against
    any released SDK return and compare these numbers."""
    released = released_errors(baseline_dir)
    current = {error.name: error.value for error in load(description).errors}
    names_by_number = {value: name for name, value in current.items()}
    for name, value in released.items():
        if name not in current:
            now = names_by_number.get(value)
            report.add_break(f"errno {name} ({value}): removed" + (f"; {value} is now {now}" if now else ""))
        elif current[name] != value:
            report.add_break(f"errno {name}: number {value} -> {current[name]} (released in {ERRNO_BASELINE})")
    for name, value in current.items():
        if name not in released:
            report.additions.append(f"errno {name} {value} (unreleased)")


def check_core(core_path: str, description: str, baseline_dir: str, report: Report) -> None:
    """The built core must export every released (name, node) with the
    released hash, and agree with the description it was built from."""
    from .core_image import read_core_table

    table = read_core_table(core_path)
    core_nodes = {name for name, _, _ in table.nodes}
    label = os.path.basename(core_path)
    for node in released_nodes(baseline_dir):
        path = os.path.join(baseline_dir, node + ".abi")
        with open(path, encoding="utf-8") as file:
            old = parse_dump(file.read(), path)
        for name in old.nodes:
            if name not in core_nodes:
                report.breaks.append(f"core {label}: lacks released node {name}")
        for (name, symbol_node), (hash_, _role, _decl) in old.symbols.items():
            entry = table.find(name, symbol_node)
            if entry is None:
                offered = ", ".join(table.nodes_of(name)) or "no node"
                report.breaks.append(
                    f"core {label}: does not export {name}@{symbol_node} (released; it offers {offered})"
                )
            elif entry.hash != hash_:
                report.breaks.append(
                    f"core {label}: {name}@{symbol_node} has hash 0x{entry.hash:016x}, released 0x{hash_:016x}")
    current = load(description)
    for function in current.exports_sorted():
        entry = table.find(function.name, function.node)
        if entry is None or entry.hash != function.hash:
            report.notes.append(
                f"core {label}: {function.name}@{function.node} differs from {os.path.basename(description)}"
                " (rebuild the core?)")


def release(description: str, baseline_dir: str, nodes: list[str]) -> list[str]:
    """Writes NODE.abi (the dump) and NODE.toml (the description as
    released, from which the tests regenerate that node's SDK)."""
    full = load(description)
    known = [n.name for n in full.nodes]
    baseline_dir = baseline_dir_for(full, baseline_dir)
    already = set(released_nodes(baseline_dir)) if os.path.isdir(baseline_dir) else set()
    if not nodes:
        nodes = [n for n in known if n not in already]
    written = []
    for node in nodes:
        if node not in known:
            raise AbiError(f"--release {node}: no such node in {description}")
        if node in already:
            raise AbiError(
                f"--release {node}: already released ({os.path.join(baseline_dir, node)}.abi); "
                "a released node never changes"
            )
    os.makedirs(baseline_dir, exist_ok=True)
    with open(description, encoding="utf-8") as file:
        source = file.read()
    for node in nodes:
        dump = node_dump(description, node)
        for suffix, text in ((".abi", dump), (".toml", source)):
            path = os.path.join(baseline_dir, node + suffix)
            with open(path + ".tmp", "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(path + ".tmp", path)
        written.append(node)
    return written


def release_errors(description: str, baseline_dir: str) -> list[str]:
    """Adds the description's unreleased errnos to ERRNO_BASELINE (after the
    released ones, which a checked description keeps unchanged); returns
    their names."""
    released = released_errors(baseline_dir)
    errors = load(description).errors
    new = [error for error in errors if error.name not in released]
    if not new:
        return []
    numbers = dict(released)
    for error in new:
        numbers[error.name] = error.value
    lines = ["# Keel errno numbers as released (scripts/abi-check --release): a released",
             "# errno keeps its name and number forever; new ones are appended.",
             "# Generated by scripts/abi-check from abi/keel.toml; do not edit."]
    lines += [f"error {name} {value}" for name, value in numbers.items()]
    os.makedirs(baseline_dir, exist_ok=True)
    path = os.path.join(baseline_dir, ERRNO_BASELINE)
    with open(path + ".tmp", "w", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)
    return [error.name for error in new]


def check_module(module_path: str, descriptions: list[str], baseline_dir: str, report: Report) -> None:
    """A built module that owns an interface (inet.kmod) must export every
    released (name, node) of it with the released hash in `.keel_exports`
    (what the loader checks its users' imports against), and agree with
    its description."""
    from keel.elf import parse_keel_kabi
    from keel.elf import read as read_elf

    label = os.path.basename(module_path)
    image = read_elf(module_path)
    section = image.section_bytes(".keel_exports")
    exports = {(name, node): hash_ for hash_, name, node in parse_keel_kabi(section)} if section else {}
    abi = next((abi for abi in map(load, descriptions) if abi.soname == label), None)
    if abi is None:
        raise AbiError(f"{module_path}: no description of {label} among {', '.join(descriptions)}")
    directory = baseline_dir_for(abi, baseline_dir)
    for node in released_nodes(directory, label) if os.path.isdir(directory) else []:
        path = os.path.join(directory, node + ".abi")
        with open(path, encoding="utf-8") as file:
            old = parse_dump(file.read(), path)
        for (name, symbol_node), (hash_, _role, _decl) in old.symbols.items():
            if (name, symbol_node) not in exports:
                report.add_break(f"module {label}: does not export {name}@{symbol_node} with a hash (released in "
                                 f"{node})")
            elif exports[(name, symbol_node)] != hash_:
                report.add_break(f"module {label}: {name}@{symbol_node} has hash 0x{exports[(name, symbol_node)]:016x},"
                                 f" released 0x{hash_:016x}")
    for function in abi.exports_sorted():
        if exports.get((function.name, function.node)) != function.hash:
            report.notes.append(f"module {label}: {function.name}@{function.node} differs from its description"
                                " (rebuild the module?)")
