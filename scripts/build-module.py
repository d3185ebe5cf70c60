#!/usr/bin/env python3
"""Build one module: compile, link against the stub libkeel.so, record the
import hashes (kmodpost) and sign it. In-tree modules are built with this
(modules/meson.build), and so can out-of-tree ones with the SDK.

  build-module.py [--arch x86_64|aarch64] --name NAME --output OUT.kmod --include DIR --stub libkeel.so
      --symvers keel.symvers --kmodpost PATH [--kmod-sign PATH --key KEY.pem]
      [--version-script MAP] [--exports SYMVERS] [--needs DEP.kmod ...] [--intree]
      [--rust-crates DIR [--rust-sysroot DIR]] [--strip-debug] [--pad-to BYTES] SOURCES...

Sources are .c, .cpp or (one) .rs file. Alongside OUT.kmod it writes
OUT.symvers: the module's own versioned exports, for modules that link
against it. With --exports (the symvers keel-abi made from the module's
interface description) kmodpost records their hashes in the module and
OUT.symvers is that file; without, exports get hash 0 (unchecked).
With --strip-debug the module is signed without its debug information and
the compiler's .comment (as the modules in the initramfs are) and
OUT.kmod.debug keeps the unstripped image for the debugger (docs/debugging.md). With --pad-to the module gets a
section `.pad` of zeros, never loaded, that brings the file (signed, when it
is signed) to BYTES, or at most 7 below (the section headers after it are
8-byte aligned): tests/modules/big.kmod is made the size of the
Linux module scripts/bench compares it with on each architecture.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Per architecture: the compiler's target and what kernel mode asks of the
# code. x86_64: interrupts use the same stack, so no red zone. AArch64
# (which has none): atomics inline, not through a helper library; frame
# records in leaf functions too, for backtraces; 4 KiB segment alignment,
# the kernel's page size (lld's default there is 64 KiB).
# Rust: x86_64 modules use the host's own core and alloc (the rustc on
# PATH); on aarch64 the rustc is Debian's rustc-web, whose library sources
# (rust-web-src) build core and alloc for the target into a sysroot
# (scripts/build-rust-sysroot.py; the SDK's keel-rust-sysroot).
# The SDK's keel-sdk.pc is made from this table (abi/sdk/make-sdk-pc.py).
ARCHES = {
    "x86_64": {"target": "x86_64-unknown-none-elf", "cflags": ["-mno-red-zone"], "ldflags": [],
               "rust_target": None, "rustc": "rustc"},
    "aarch64": {"target": "aarch64-unknown-none-elf",
                "cflags": ["-mno-outline-atomics", "-mno-omit-leaf-frame-pointer"],
                "ldflags": ["-z", "max-page-size=4096"], "rust_target": "aarch64-unknown-linux-gnu",
                "rustc": "/usr/bin/rustc"},
}
# A section per function and object, and --gc-sections at the link: a
# module keeps only what its exports, entry points, notes (.note.keel),
# device tables and init/fini arrays reach (the protocol modules shed the
# parts of core/lib they do not call; less to read, hash and map).
COMMON = ["-O2", "-g", "-ffunction-sections", "-fdata-sections", "-ffreestanding", "-fno-stack-protector", "-fPIC",
          "-fvisibility=hidden", "-fno-omit-frame-pointer", "-Wall", "-Wextra", "-Werror"]
C_FLAGS = ["-std=c11"]
CXX_FLAGS = ["-std=c++20", "-fno-exceptions", "-fno-rtti", "-nostdinc++", "-fno-use-cxa-atexit",
             "-fno-threadsafe-statics"]
# ld.lld directly: the same command works for every language and needs no
# compiler driver's idea of a default C library.
LINK_FLAGS = ["-shared", "-nostdlib", "--gc-sections", "-z", "now", "-z", "relro", "-z", "noexecstack",
              "--hash-style=gnu"]
RUST_FLAGS = ["--edition", "2021", "-C", "panic=abort", "-C", "opt-level=2", "-C", "no-redzone=yes",
              "-C", "relocation-model=pic", "-C", "force-frame-pointers=yes"]


def rust_target_flags(arch, sysroot):
    """rustc's flags for the architecture's target: none on x86_64 (the
    host's), else the target and the sysroot holding its core and alloc."""
    target = ARCHES[arch]["rust_target"]
    return ["--target", target, "--sysroot", sysroot] if target else []


def rust_link_flags(arch):
    """The link arguments rustc passes to clang on top of LINK_FLAGS: the
    target, for clang, and the architecture's own linker flags."""
    target = ARCHES[arch]["rust_target"]
    flags = [f"link-arg=--target={target}"] if target else []
    ldflags = ARCHES[arch]["ldflags"]
    if ldflags:
        flags.append("link-arg=-Wl," + ",".join(ldflags))
    return flags


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write("build-module: " + " ".join(command) + "\n" + result.stdout + result.stderr)
        sys.exit(1)
    return result.stdout


def exports(kmod):
    """Versioned symbols the module defines: NAME@@NODE from llvm-nm -D."""
    lines = run(["llvm-nm", "-D", "--defined-only", kmod]).splitlines()
    found = []
    for line in lines:
        match = re.search(r"\s([A-Za-z_][\w]*)@@?([\w.]+)$", line)
        if match and not match.group(1).startswith(("keel_module_", "keel_param_")):
            found.append((match.group(1), match.group(2)))
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", choices=sorted(ARCHES), default="x86_64")
    parser.add_argument("--rust-sysroot", help="a sysroot with core built for the target (aarch64)")
    parser.add_argument("--name", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--include", required=True, action="append", help="an include directory (repeatable)")
    parser.add_argument("--stub", required=True)
    parser.add_argument("--symvers", required=True)
    parser.add_argument("--kmodpost", required=True)
    parser.add_argument("--kmod-sign")
    parser.add_argument("--key")
    parser.add_argument("--version-script")
    parser.add_argument("--exports", help="symvers of the module's own interface (keel-abi symvers)")
    parser.add_argument("--needs", action="append", default=[])
    parser.add_argument("--intree", action="store_true")
    parser.add_argument("--define", action="append", default=[], help="a -D for C/C++ sources")
    parser.add_argument("--rust-crates", help="directory with libkeel.rlib and libkeel_sys.rlib")
    parser.add_argument("--extern", action="append", default=[], metavar="NAME=RLIB",
                        help="another crate for a Rust module (another module's interface)")
    parser.add_argument("--rustc", help="default: the architecture's (ARCHES)")
    parser.add_argument("--cc", default="clang")
    parser.add_argument("--cxx", default="clang++")
    parser.add_argument("--ld", default="ld.lld")
    parser.add_argument("--strip-debug", action="store_true",
                        help="ship the module without debug information (its symbol table stays, for backtraces); "
                             "the unstripped, unsigned image goes to OUT.kmod.debug for the debugger")
    parser.add_argument("--pad-to", type=int, metavar="BYTES",
                        help="add a section of zeros, never loaded, that makes OUT.kmod BYTES long (or up to 7 less)")
    parser.add_argument("--objcopy", default="llvm-objcopy")
    parser.add_argument("sources", nargs="+")
    options = parser.parse_args()
    arch = ARCHES[options.arch]
    options.rustc = options.rustc or arch["rustc"]
    if arch["rust_target"] and not options.rust_sysroot and any(s.endswith(".rs") for s in options.sources):
        parser.error(f"a Rust module for {options.arch} needs --rust-sysroot "
                     f"(core and alloc for {arch['rust_target']})")
    common = [f"--target={arch['target']}"] + COMMON + arch["cflags"]
    link_flags = LINK_FLAGS + arch["ldflags"]

    with tempfile.TemporaryDirectory() as scratch:
        link_extra = ["-soname", f"{options.name}.kmod"]
        if options.version_script:
            link_extra.append(f"--version-script={options.version_script}")
        inputs = [options.stub] + options.needs
        linked = os.path.join(scratch, options.name + ".linked")
        defines = (["-DKEEL_INTREE_MODULE"] if options.intree else []) + ["-D" + d for d in options.define]
        rust = [s for s in options.sources if s.endswith(".rs")]
        if rust:
            crates = options.rust_crates
            command = [options.rustc] + RUST_FLAGS + rust_target_flags(options.arch, options.rust_sysroot) + [
                "--crate-type", "cdylib", "--crate-name", options.name, "-C", "strip=debuginfo", "-D", "warnings",
                "-C", f"linker={options.cc}", "-L", crates, "-L", os.path.dirname(os.path.abspath(options.stub)),
                "--extern", f"keel={os.path.join(crates, 'libkeel.rlib')}",
                "--extern", f"keel_sys={os.path.join(crates, 'libkeel_sys.rlib')}"]
            for extern in options.extern:
                command += ["--extern", extern]
            if options.intree:
                command += ["--cfg", "keel_intree"]
            for flag in rust_link_flags(options.arch):
                command += ["-C", flag]
            command += ["-C", "link-arg=-fuse-ld=lld", "-C", "link-arg=-nostdlib"]
            for flag in LINK_FLAGS[2:] + link_extra:
                command += ["-C", f"link-arg=-Wl,{flag}"]
            for extra in options.needs:
                command += ["-C", f"link-arg={extra}"]
            run(command + [rust[0], "-o", linked])
        else:
            objects = []
            includes = [flag for directory in options.include for flag in ("-I", directory)]
            for source in options.sources:
                obj = os.path.join(scratch, os.path.basename(source) + ".o")
                if source.endswith((".cpp", ".cc")):
                    run([options.cxx] + common + CXX_FLAGS + defines + includes + ["-c", source, "-o", obj])
                else:
                    run([options.cc] + common + C_FLAGS + defines + includes + ["-c", source, "-o", obj])
                objects.append(obj)
            run([options.ld] + link_flags + link_extra + objects + inputs + ["-o", linked])

        symvers = [options.symvers] + [os.path.splitext(dep)[0] + ".symvers" for dep in options.needs]
        posted = os.path.join(scratch, options.name + ".posted")
        command = [options.kmodpost]
        for path in symvers:
            command += ["--symvers", path]
        if options.exports:
            command += ["--exports", options.exports]
        run(command + ["-o", posted, linked])

        with open(os.path.splitext(options.output)[0] + ".symvers", "w") as f:
            if options.exports:
                with open(options.exports) as description_symvers:
                    f.write(description_symvers.read())
            else:
                # Exports without an interface description: matched by name
                # and version node only, hash 0 (the loader warns).
                for name, node in exports(posted):
                    f.write(f"0x{0:016x} {name} {node}\n")

        if options.strip_debug:
            shutil.copyfile(posted, options.output + ".debug")
            stripped = os.path.join(scratch, options.name + ".stripped")
            run([options.objcopy, "--strip-debug", "--remove-section=.comment", posted, stripped])
            posted = stripped

        finish(options, posted)
        if options.pad_to is not None:
            pad(options, posted, scratch)


def finish(options, image):
    """OUT.kmod from the image: signed when a key is given."""
    if options.kmod_sign and options.key:
        run([options.kmod_sign, "sign", options.key, image, "-o", options.output])
    else:
        shutil.copyfile(image, options.output)


def pad(options, image, scratch):
    """Rebuild OUT.kmod from `image` with a `.pad` section that brings it to
    options.pad_to bytes, or at most 7 below: the section header table
    after the padding starts on an 8-byte boundary. The section's header and
    name cost the same whatever its size, so the second attempt, sized from
    the first, lands, or the third when the alignment took it over."""
    padded = os.path.join(scratch, "padded")
    filler = os.path.join(scratch, "filler")
    size = 0
    for _ in range(4):
        with open(filler, "wb") as f:
            f.write(bytes(size))
        run([options.objcopy, "--add-section", f".pad={filler}", image, padded])
        finish(options, padded)
        missing = options.pad_to - os.path.getsize(options.output)
        if 0 <= missing < 8:
            return
        if size + missing < 0:
            sys.exit(f"build-module.py: {options.output} is larger than --pad-to {options.pad_to} "
                     f"without padding ({options.pad_to - missing} bytes)")
        size += missing
    sys.exit(f"build-module.py: cannot pad {options.output} to {options.pad_to} bytes")


if __name__ == "__main__":
    main()
