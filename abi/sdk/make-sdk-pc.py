#!/usr/bin/env python3
"""Fill in keel-sdk.pc.in for one architecture, from the table the modules
are built with (scripts/build-module.py's ARCHES and flags), so that a
vendor's make, Meson or rustc command compiles exactly as the in-tree
modules do (docs/sdk.md).

  make-sdk-pc.py --arch ARCH --version VERSION --build-module build-module.py --template keel-sdk.pc.in --output OUT
"""

import argparse
import importlib.util


def load_build_module(path):
    spec = importlib.util.spec_from_file_location("build_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def linker_words(flags):
    """ld.lld's flags as clang -Wl, arguments: "-z X" stays one argument."""
    words = []
    for flag in flags:
        if words and words[-1] == "-z":
            words[-1] += "," + flag
        else:
            words.append(flag)
    return words


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--build-module", required=True)
    parser.add_argument("--template", required=True)
    parser.add_argument("--output", required=True)
    options = parser.parse_args()
    build = load_build_module(options.build_module)
    if options.arch not in build.ARCHES:
        parser.error(f"--arch {options.arch}: build-module.py knows {', '.join(sorted(build.ARCHES))}")
    arch = build.ARCHES[options.arch]
    # The code-generation flags only: optimisation, debug information and
    # warnings are the vendor's choice.
    code = [flag for flag in build.COMMON if flag.startswith("-f")]
    sysroot = "${prefix}/lib/keel/rust-sysroot" if arch["rust_target"] else ""
    rust_link = (["-C strip=debuginfo", "-C linker=clang"]
                 + [f"-C {flag}" for flag in build.rust_link_flags(options.arch)]
                 + ["-C link-arg=-fuse-ld=lld", "-C link-arg=-nostdlib"]
                 + [f"-C link-arg=-Wl,{flag}" for flag in linker_words(build.LINK_FLAGS[2:])] + ["-L ${libdir}"])
    values = {
        "ARCH": options.arch,
        "VERSION": options.version,
        "TARGET": arch["target"],
        "RUSTC": arch["rustc"],
        "RUST_TARGET": arch["rust_target"] or "",
        "RUST_SYSROOT": sysroot,
        "CFLAGS": " ".join([f"--target={arch['target']}"] + code + arch["cflags"]),
        "CXXFLAGS": " ".join(build.CXX_FLAGS),
        "LDFLAGS": " ".join(build.LINK_FLAGS + arch["ldflags"]),
        "RUSTFLAGS": " ".join(build.RUST_FLAGS + build.rust_target_flags(options.arch, "${rust_sysroot}")),
        "RUSTLINKFLAGS": " ".join(rust_link),
    }
    with open(options.template, encoding="utf-8") as f:
        text = f.read()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    with open(options.output, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
