#!/usr/bin/env python3
"""Run by `meson install --tags sdk` (and so by scripts/sdk): for every
released node (abi/baseline/NODE.toml), the SDK as it was when NODE was the
newest, under lib/keel/nodes/NODE/ (include/keel/, libkeel.so, keel.map,
keel.symvers, keel_sys.rs), with its own pkg-config file keel-sdk-NODE.pc.
A module built with one calls only what NODE offers: anything newer is not
declared (a compile error) nor in the stub (kmodpost refuses the link), so
it loads on every core that offers NODE (docs/sdk.md, "Building for older
cores").

  install-node-sdks.py SOURCE_ROOT KEEL_ABI CLANG ARCH

Each node's stub is built for ARCH, and its keel-sdk-NODE.pc takes the
compiler flags and tools of the SDK's keel-sdk.pc (that architecture's).
"""

import glob
import os
import shutil
import subprocess
import sys
import tomllib

PC = """# Keel SDK limited to {node} (docs/sdk.md, "Building for older cores").
prefix=${{pcfiledir}}/../..
includedir=${{prefix}}/lib/keel/nodes/{node}/include
libdir=${{prefix}}/lib/keel/nodes/{node}
bindir=${{prefix}}/bin
rustdir=${{libdir}}
{common}
Name: keel-sdk-{node}
Description: Keel kernel module SDK for cores offering {node}
Version: {version}
Cflags: {cflags}
Libs: -L${{libdir}} -lkeel
"""


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("install-node-sdks: " + " ".join(command) + "\n" + result.stdout + result.stderr)


def main():
    root, keel_abi, clang, arch = sys.argv[1:5]
    prefix = os.environ["MESON_INSTALL_DESTDIR_PREFIX"]
    with open(os.path.join(prefix, "lib", "pkgconfig", "keel-sdk.pc")) as f:
        main_pc = f.read()
    # The variables that do not depend on the node (tools, flags), as keel-sdk.pc has them.
    common = "\n".join(line for line in main_pc.splitlines()
                       if "=" in line and line.split("=")[0] in (
                           "symvers_name", "kmodpost", "kmod_sign", "kmodinfo", "keel_abi", "build_module",
                           "mkinitramfs", "manifest", "initramfs", "arch", "target", "cc", "cxx", "ld", "rustc",
                           "rust_target", "rust_sysroot", "rust_sysroot_tool", "cxxflags", "rustflags", "ldflags",
                           "examples"))
    common += "\nsymvers=${libdir}/keel.symvers\nversion_script=${libdir}/keel.map"
    link_flags = next(line.split("=", 1)[1] for line in main_pc.splitlines() if line.startswith("rustlinkflags="))
    common += "\nrustlinkflags=" + link_flags
    version = next(line.split(":", 1)[1].strip() for line in main_pc.splitlines() if line.startswith("Version:"))
    # ${includedir} in the flags names the node's own headers here.
    cflags = next(line.split(":", 1)[1].strip() for line in main_pc.splitlines() if line.startswith("Cflags:"))
    # The errno table belongs to no node: every released node's SDK carries
    # all of it (docs/abi-policy.md), as keel.hpp expects.
    with open(os.path.join(root, "abi", "keel.toml"), "rb") as f:
        errors = tomllib.load(f).get("errors", [])
    errors_text = "".join(f'\n[[errors]]\nname = "{e["name"]}"\nvalue = {e["value"]}\ndoc = "{e["doc"]}"\n'
                          for e in errors)
    for released in sorted(glob.glob(os.path.join(root, "abi", "baseline", "*.toml"))):
        node = os.path.basename(released)[: -len(".toml")]
        out = os.path.join(prefix, "lib", "keel", "nodes", node)
        include = os.path.join(out, "include", "keel")
        os.makedirs(include, exist_ok=True)
        with open(released, "rb") as f:
            has_errors = "errors" in tomllib.load(f)
        description = os.path.join(out, "description.toml")
        with open(released) as f, open(description, "w") as copy:
            copy.write(f.read() + ("" if has_errors else errors_text))
        outputs = {"header": os.path.join(include, "keel.h"), "stub-c": os.path.join(out, "libkeel-stub.c"),
                   "version-script": os.path.join(out, "keel.map"), "symvers": os.path.join(out, "keel.symvers"),
                   "rust-sys": os.path.join(out, "keel_sys.rs")}
        for kind, path in outputs.items():
            run([sys.executable, keel_abi, kind, "--description", description, "--node-limit", node, "--output", path])
        for header in ("module.h", "device.h", "keel.hpp"):
            shutil.copy(os.path.join(root, "abi", "include", "keel", header), include)
        run([clang, f"--target={arch}-linux-gnu", "-Wl,-z,max-page-size=4096", "-shared", "-fPIC", "-ffreestanding",
             "-nostdlib", "-fuse-ld=lld",
             f"-Wl,--version-script={outputs['version-script']}", "-Wl,-soname,libkeel.so", "-Wl,--hash-style=gnu",
             "-o", os.path.join(out, "libkeel.so"), outputs["stub-c"]])
        os.unlink(outputs["stub-c"])
        os.unlink(description)
        with open(os.path.join(prefix, "lib", "pkgconfig", f"keel-sdk-{node}.pc"), "w") as f:
            f.write(PC.format(node=node, common=common, version=version, cflags=cflags))


if __name__ == "__main__":
    main()
