"""The ABI part of a core's manifest (docs/sdk.md, "The core's manifest"):
the version nodes the core offers, each marked released or not, and every
export with its hash and canonical declaration. scripts/gen-builtin-keys.py
appends the core's keyring, and `kmodinfo --check-against` reads the whole,
so a vendor can check a module without the core's unstripped ELF."""

from __future__ import annotations

import os

from .model import Abi

FORMAT = 1


def generate_manifest(abi: Abi, released_dir: str | None) -> str:
    released = set()
    if released_dir:
        released = {name[: -len(".abi")] for name in os.listdir(released_dir)
                    if name.endswith(".abi") and name != "errno.abi"}
    out = [
        f"keel-manifest {FORMAT}",
        "# Generated from abi/keel.toml and abi/baseline/; read by kmodinfo --check-against and --list-nodes.",
        "# node NAME INTERFACE PARENT|- released|unreleased",
    ]
    for node in abi.nodes:
        state = "released" if node.name in released else "unreleased"
        out.append(f"node {node.name} {node.interface} {node.parent or '-'} {state}")
    out.append("# symbol 0xHASH NAME NODE CANONICAL-DECLARATION")
    for function in abi.exports_sorted():
        out.append(f"symbol 0x{function.hash:016x} {function.name} {function.node} {function.canonical}")
    return "\n".join(out) + "\n"
