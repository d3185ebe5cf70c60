"""Rust bindings: the `keel_sys` crate (#![no_std], #[repr(C)] types and
extern "C" declarations). The safe layer on top is hand-written in
abi/rust/keel/."""

from __future__ import annotations

from .model import PRIMITIVES, Abi, TypeRef
from .gen_c import GENERATED


# Rust keywords a C parameter name may collide with. `super`, `self` and
# `crate` cannot even be raw identifiers, so every keyword gets a trailing
# underscore instead (parameter names are not part of the ABI).
RUST_KEYWORDS = {
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "static", "struct", "super", "trait", "true", "try", "type", "unsafe", "use", "where", "while", "yield",
    "abstract", "become", "do", "final", "gen", "macro", "override", "priv", "typeof", "unsized", "virtual",
}


def rust_name(name: str) -> str:
    return name + "_" if name in RUST_KEYWORDS else name


def rust_type(ref: TypeRef, count: int = 0) -> str:
    if ref.is_pointer:
        pointee = ref.pointee
        qualifier = "*const" if pointee.const else "*mut"
        text = f"{qualifier} {rust_type(TypeRef(pointee.name, False, pointee.pointee))}"
    elif ref.name in PRIMITIVES:
        text = PRIMITIVES[ref.name][2]
    else:
        text = ref.name
    return f"[{text}; {count}]" if count else text


def doc_lines(text: str, indent: str = "") -> list[str]:
    return [f"{indent}/// {line}".rstrip() for line in text.splitlines() or [""]]


# Lines as rustfmt (rustfmt.toml: 120 columns) would write them, so that the
# generated crate passes `rustfmt --check` like the hand-written ones.
MAX_WIDTH = 120


def signature(indent: str, head: str, params: list[str], tail: str) -> list[str]:
    """`head(params)tail` on one line, or one parameter a line with a
    trailing comma (none after a variadic `...`)."""
    line = f"{indent}{head}({', '.join(params)}){tail}"
    if len(line) <= MAX_WIDTH:
        return [line]
    lines = [f"{indent}{head}("]
    lines += [f"{indent}    {param}{'' if param == '...' else ','}" for param in params]
    return lines + [f"{indent}){tail}"]


def funcptr_alias(name: str, params: list[str], returns: str) -> list[str]:
    """`pub type NAME = Option<unsafe extern "C" fn(...)>;`, broken after
    `=` when that is enough, else inside `Option<...>`."""
    head = f"pub type {name} ="
    option = f'Option<unsafe extern "C" fn({", ".join(params)}){returns}>;'
    if len(f"{head} {option}") <= MAX_WIDTH:
        return [f"{head} {option}"]
    if len(f"    {option}") <= MAX_WIDTH:
        return [head, f"    {option}"]
    return [f"{head} Option<"] + signature("    ", 'unsafe extern "C" fn', params, f"{returns},") + [">;"]


def errno_items(abi: Abi) -> list[str]:
    """KEEL_EPERM ... as i32 constants (positive, as in C), and the macro
    the safe crate builds `keel::Error`'s constants from."""
    if not abi.errors:
        return []
    out = ["// Errors: Linux's errno numbers; functions returning i32 return 0 or the negation of one."]
    for error in abi.errors:
        out += doc_lines(error.doc)
        out.append(f"pub const KEEL_{error.name}: i32 = {error.value};")
    out += [
        "",
        "/// Expands `$callback! { (NAME, number, \"description\"), ... }` with every",
        "/// errno above, in order (the safe crate's `keel::Error` constants).",
        "#[macro_export]",
        "macro_rules! keel_errno_table {",
        "    ($callback:ident) => {",
        "        $callback! {",
    ]
    for error in abi.errors:
        out.append(f'            ({error.name}, {error.value}, "{error.message}"),')
    out += ["        }", "    };", "}", ""]
    return out


def generate_sys(abi: Abi) -> str:
    out = [
        f"//! keel_sys: raw bindings to the Keel kernel module ABI ({', '.join(node.name for node in abi.nodes)}).",
        f"//! {GENERATED}",
        "//! Leaf modules should use the safe `keel` crate instead.",
        "#![no_std]",
        "#![allow(non_camel_case_types, non_upper_case_globals, clippy::missing_safety_doc)]",
        "",
        "#[allow(unused_imports)]",
        "use core::ffi::{c_char, c_void};",
        "",
    ]
    for node in abi.nodes:
        const = "KEEL_NODE_" + node.name[len("KABI_") :].replace(".", "_")
        out += doc_lines(f"The version node {node.name} (for keel_symbol_get).")
        out.append(f'pub const {const}: &core::ffi::CStr = c"{node.name}";')
    out.append("")
    for constant in abi.constants:
        out += doc_lines(constant.doc)
        out.append(f"pub const {constant.name}: {PRIMITIVES[constant.type][2]} = {constant.value};")
    out.append("")
    out += errno_items(abi)
    for typedef in abi.types.values():
        out += doc_lines(typedef.doc)
        if typedef.kind == "enum":
            out.append(f"pub type {typedef.name} = {PRIMITIVES[typedef.underlying][2]};")
            for value in typedef.values:
                out += doc_lines(value.doc)
                out.append(f"pub const {value.name}: {typedef.name} = {value.value};")
        elif typedef.kind == "opaque":
            # Rust's recommended opaque FFI type: unsized-like, !Send,
            # !Sync, !Unpin; only ever used behind a raw pointer.
            out += [
                "#[repr(C)]",
                f"pub struct {typedef.name} {{",
                "    _opaque: [u8; 0],",
                "    _marker: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,",
                "}",
            ]
        elif typedef.kind == "funcptr":
            params = [f"{rust_name(param.name)}: {rust_type(param.type)}" for param in typedef.params]
            returns = "" if typedef.returns.c() == "void" else f" -> {rust_type(typedef.returns)}"
            out += funcptr_alias(typedef.name, params, returns)
        else:
            out += ["#[repr(C)]", f"pub struct {typedef.name} {{"]
            for item in typedef.fields:
                out += doc_lines(item.doc, "    ")
                out.append(f"    pub {item.name}: {rust_type(item.type, item.count)},")
            out.append("}")
            out.append(f"const _: () = assert!(core::mem::size_of::<{typedef.name}>() == {typedef.size});")
            out.append(f"const _: () = assert!(core::mem::align_of::<{typedef.name}>() == {typedef.align});")
            for item in typedef.fields:
                out.append(
                    f"const _: () = assert!(core::mem::offset_of!({typedef.name}, {item.name}) == {item.offset});"
                )
        out.append("")

    out += ['#[link(name = "keel")]', 'extern "C" {']
    for group in abi.groups:
        functions = [f for f in abi.default_functions() if f.group == group.name and not f.libc]
        if not functions:
            continue
        out.append(f"    // {group.name}: {group.doc}")
        for function in functions:
            out += doc_lines(f"{function.doc} [{function.node}]", "    ")
            params = [f"{rust_name(param.name)}: {rust_type(param.type)}" for param in function.params]
            if function.variadic:
                params.append("...")
            if function.noreturn:
                returns = " -> !"
            elif function.returns.c() == "void":
                returns = ""
            else:
                returns = f" -> {rust_type(function.returns)}"
            out += signature("    ", f"pub fn {function.name}", params, f"{returns};")
        out.append("")
    if out[-1] == "":
        out.pop()
    out += ["}", ""]
    return "\n".join(out)
