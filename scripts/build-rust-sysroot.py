#!/usr/bin/env python3
"""Build a Rust sysroot for a target the installed rustc has no standard
library for: core, compiler_builtins and alloc, compiled by that rustc from
its own sources (Debian's rust-web-src beside rustc-web; docs/aarch64.md).

  build-rust-sysroot.py --rustc RUSTC --target TRIPLE --out SYSROOT --stamp FILE [--library DIR]

The crates land in SYSROOT/lib/rustlib/TRIPLE/lib, where `rustc --target
TRIPLE --sysroot SYSROOT` finds them. Building a standard library's crates
outside Cargo takes RUSTC_BOOTSTRAP=1 (they use unstable features).
"""

import argparse
import os
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rustc", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--stamp", required=True)
    parser.add_argument("--library", help="the library sources (default: the rustc's rust-src)")
    options = parser.parse_args()

    library = options.library
    if not library:
        sysroot = subprocess.run([options.rustc, "--print", "sysroot"], capture_output=True, text=True,
                                 check=True).stdout.strip()
        library = os.path.join(sysroot, "lib", "rustlib", "src", "rust", "library")
    if not os.path.isfile(os.path.join(library, "core", "src", "lib.rs")):
        sys.exit(f"build-rust-sysroot: no Rust library sources at {library} "
                 "(Debian's rustc-web has them in rust-web-src; rustup's rustc in its rust-src component)")
    out_dir = os.path.join(options.out, "lib", "rustlib", options.target, "lib")
    os.makedirs(out_dir, exist_ok=True)
    environment = dict(os.environ, RUSTC_BOOTSTRAP="1")
    common = [options.rustc, "--edition", "2024", "--crate-type", "rlib", "--target", options.target,
              "--sysroot", options.out, "--out-dir", out_dir, "-C", "panic=abort", "-C", "opt-level=2",
              "-C", "debuginfo=0", "-C", "force-frame-pointers=yes", "--cap-lints", "allow"]
    crates = [
        ("core", os.path.join(library, "core", "src", "lib.rs"), []),
        ("compiler_builtins", os.path.join(library, "compiler-builtins", "compiler-builtins", "src", "lib.rs"),
         ["--cfg", 'feature="compiler-builtins"']),
        ("alloc", os.path.join(library, "alloc", "src", "lib.rs"), []),
    ]
    for name, root, extra in crates:
        result = subprocess.run(common + ["--crate-name", name] + extra + [root], env=environment,
                                capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"build-rust-sysroot: building {name} failed\n{result.stdout}{result.stderr}")
    # The first line names the compiler: keel-rust-sysroot (the SDK's) keeps
    # a sysroot made by the same one.
    version = subprocess.run([options.rustc, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    with open(options.stamp, "w") as stamp:
        stamp.write(f"{version}\n{options.target} {library}\n")


if __name__ == "__main__":
    main()
