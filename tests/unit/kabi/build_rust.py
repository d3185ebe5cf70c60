#!/usr/bin/env python3
"""Builds the Rust crates and a Rust module with the installed rustc:
keel_sys (generated bindings) and keel (the safe layer) as rlibs, then
sample_module.rs as a no_std cdylib linked against the stub libkeel.so.

Usage: build_rust.py RUSTC CLANG KEEL_SYS_RS KEEL_RS MODULE_RS LIBKEEL_SO OUT_KMOD
"""

import os
import subprocess
import sys

rustc, clang, keel_sys_rs, keel_rs, module_rs, libkeel, output = sys.argv[1:]
directory = os.path.dirname(os.path.abspath(output))
common = [rustc, "--edition", "2021", "-C", "panic=abort", "-C", "opt-level=2", "-D", "warnings"]


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(" ".join(command) + "\n" + result.stdout + result.stderr)
        sys.exit(1)


sys_rlib = os.path.join(directory, "libkeel_sys.rlib")
keel_rlib = os.path.join(directory, "libkeel.rlib")
run(common + ["--crate-type", "rlib", "--crate-name", "keel_sys", keel_sys_rs, "-o", sys_rlib])
run(common + ["--crate-type", "rlib", "--crate-name", "keel", "--extern", f"keel_sys={sys_rlib}", keel_rs,
              "-o", keel_rlib])
run(
    common
    + ["--crate-type", "cdylib", "--crate-name", "sample_rs", "-C", "strip=debuginfo"]
    + ["-C", f"linker={clang}", "-C", "link-arg=-fuse-ld=lld", "-C", "link-arg=-nostdlib"]
    + ["-C", "link-arg=-Wl,-z,now", "-C", "link-arg=-Wl,-z,relro"]
    + ["-L", os.path.dirname(os.path.abspath(libkeel)), "-L", directory]
    + ["--extern", f"keel={keel_rlib}", "--extern", f"keel_sys={sys_rlib}", module_rs, "-o", output]
)
