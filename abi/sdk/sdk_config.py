"""The installed SDK's own settings, read from its keel-sdk.pc (the file a
vendor's make or Meson reads through pkg-config), so that keel-build-module
and keel-rust-sysroot build exactly what those recipes build: the
architecture, the Rust target, its sysroot and the rustc.

Only what keel-sdk.pc.in writes is understood: NAME=VALUE lines whose
${NAME} references name earlier variables or pcfiledir.
"""

import os
import re

SDK = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
PC_FILE = os.path.join(SDK, "lib", "pkgconfig", "keel-sdk.pc")


def variables(path=PC_FILE):
    """{name: value} of the pkg-config file's variables, references expanded."""
    found = {"pcfiledir": os.path.dirname(os.path.abspath(path))}
    with open(path, encoding="utf-8") as f:
        for line in f:
            match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line.rstrip("\n"))
            if match:
                found[match.group(1)] = re.sub(r"\$\{(\w+)\}", lambda ref: found.get(ref.group(1), ""),
                                               match.group(2))
    return found
