#!/usr/bin/env python3
"""Build the ABI compatibility suite's modules and their initramfs.

For each SDK variant (tests/abi/README in docs/abi-policy.md):
  1.0, 1.1   regenerated from the released descriptions in abi/baseline/
             (NODE.toml, --node-limit NODE): old SDKs, as vendors had them
  current    abi/keel.toml
  virtio-1.0 abi/keel.toml with the virtio interface stopped at
             KABI_VIRTIO_1.0: virtio_rng as drivers were built before 1.1
  KABI_PCI_1.0  the released PCI node's description (with the device
             model's KABI_DEVICE_1.0): tests/modules/edu_test.c
  newer      one node ahead of this core (descriptions.newer)
  changed-parameter, reordered-field
             deliberate breaks (descriptions.BREAKS)
it generates keel.h, the stub libkeel.so and keel.symvers, builds the
modules below with scripts/build-module.py, signs them with the build key,
and packs them under /lib/abi/ into a copy of the default initramfs.
manifest.json says what each module must do on the current core.

  build_abi_modules.py --root SRC --build BUILD --workdir DIR
      --kmodpost P --kmod-sign P --key KEY --gen-init-cpio P
      --spec initramfs.spec --output abi-initramfs.cpio --manifest manifest.json
      [--arch aarch64 --rustc RUSTC --rust-sysroot DIR]

--arch builds every SDK's stub and every module for that architecture, as
the build's own modules are (modules/meson.build): the same suite, the same
expectations, on either core.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import descriptions  # noqa: E402


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit("build_abi_modules: " + " ".join(command) + "\n" + result.stdout + result.stderr)
    return result.stdout


def make_sdk(options, name, description, node_limit=None):
    """keel.h (+ module.h, keel.hpp), libkeel.so and keel.symvers of one
    description in WORK/sdk-NAME."""
    root = os.path.join(options.workdir, "sdk-" + name)
    include = os.path.join(root, "include", "keel")
    os.makedirs(include, exist_ok=True)
    tool = [sys.executable, os.path.join(options.root, "scripts", "abi", "keel-abi.py")]
    limit = ["--node-limit", node_limit] if node_limit else []
    outputs = {"header": os.path.join(include, "keel.h"), "stub-c": os.path.join(root, "libkeel-stub.c"),
               "version-script": os.path.join(root, "keel.map"), "symvers": os.path.join(root, "keel.symvers")}
    for kind, path in outputs.items():
        run(tool + [kind, "--description", description, "--output", path] + limit)
    for header in ("module.h", "device.h", "keel.hpp"):
        shutil.copy(os.path.join(options.root, "abi", "include", "keel", header), include)
    run(["clang", f"--target={options.arch}-linux-gnu", "-Wl,-z,max-page-size=4096",
         "-shared", "-fPIC", "-ffreestanding", "-nostdlib", "-fuse-ld=lld",
         f"-Wl,--version-script={outputs['version-script']}", "-Wl,-soname,libkeel.so", "-Wl,--hash-style=gnu",
         "-o", os.path.join(root, "libkeel.so"), outputs["stub-c"]])
    return root


def arch_options(options):
    """build-module.py's options for the target architecture."""
    extra = ["--arch", options.arch, "--rustc", options.rustc]
    return extra + (["--rust-sysroot", options.rust_sysroot] if options.rust_sysroot else [])


def rust_target_options(options):
    """rustc's for a crate of the target architecture (none: the host's)."""
    if options.arch == "x86_64":
        return []
    return ["--target", f"{options.arch}-unknown-linux-gnu", "--sysroot", options.rust_sysroot]


def build(options, sdk, name, output, sources, defines=(), rust=False, extra=()):
    command = [sys.executable, os.path.join(options.root, "scripts", "build-module.py"),
               "--name", name, "--output", output,
               "--include", os.path.join(sdk, "include"), "--stub", os.path.join(sdk, "libkeel.so"),
               "--symvers", os.path.join(sdk, "keel.symvers"), "--kmodpost", options.kmodpost,
               "--kmod-sign", options.kmod_sign, "--key", options.key] + arch_options(options)
    if rust:
        command += ["--rust-crates", os.path.join(options.build, "modules")]
    for define in defines:
        command += ["--define", define]
    run(command + list(extra) + sources)


def main():
    parser = argparse.ArgumentParser()
    for name in ("root", "build", "workdir", "kmodpost", "kmod-sign", "key", "gen-init-cpio", "spec", "output",
                 "manifest"):
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--arch", default="x86_64", choices=("x86_64", "aarch64"))
    parser.add_argument("--rustc", default="rustc")
    parser.add_argument("--rust-sysroot", help="core and alloc built for --arch (modules/meson.build)")
    options = parser.parse_args()
    if options.arch != "x86_64" and not options.rust_sysroot:
        parser.error(f"--arch {options.arch} needs --rust-sysroot")
    os.makedirs(options.workdir, exist_ok=True)
    modules_dir = os.path.join(options.workdir, "modules")
    os.makedirs(modules_dir, exist_ok=True)
    description = os.path.join(options.root, "abi", "keel.toml")
    baseline = os.path.join(options.root, "abi", "baseline")
    with open(description, encoding="utf-8") as f:
        text = f.read()

    sdks = {}
    for entry in sorted(os.listdir(baseline)):
        if entry.endswith(".toml"):
            node = entry[:-5]
            sdks[node] = make_sdk(options, node, os.path.join(baseline, entry), node)
    sdks["current"] = make_sdk(options, "current", description)
    # A driver as vendors built it before KABI_VIRTIO_1.1: the current
    # description with the virtio interface stopped at 1.0.
    sdks["virtio-1.0"] = make_sdk(options, "virtio-1.0", description, "KABI_VIRTIO_1.0")
    variants = {"newer": descriptions.newer(text)}
    variants.update({name: edit(text) for name, edit in descriptions.BREAKS.items()})
    for name, altered in variants.items():
        path = os.path.join(options.workdir, name + ".toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(altered)
        sdks[name] = make_sdk(options, name, path)

    probe = os.path.join(HERE, "abi_probe.c")
    breaker = os.path.join(HERE, "abi_break.c")
    manifest = {}

    def module(file, sdk, sources, expect, defines=(), words=(), row="baseline", rust=False, name=None, extra=()):
        output = os.path.join(modules_dir, file)
        build(options, sdks[sdk], name or file.split("-")[0].replace(".kmod", ""), output, sources, defines, rust,
              extra)
        manifest[file] = {"sdk": sdk, "expect": expect, "words": list(words), "row": row}

    for node in [n for n in sdks if n.startswith("KABI_CORE_")]:
        short = node.replace("KABI_CORE_", "")
        module(f"abi_probe-{short}.kmod", node, [probe], "loads", [f'ABI_PROBE_SDK="{short}"'],
               [f"abi_probe: sdk {short} ok: thread 5 counted 3 clock monotonic"], name="abi_probe")
    module("abi_probe-current.kmod", "current", [probe], "loads", ['ABI_PROBE_SDK="current"'],
           ["abi_probe: sdk current ok: thread 5 counted 3 clock monotonic"], row="current", name="abi_probe")
    virtio_rng = os.path.join(options.root, "modules", "virtio_rng", "virtio_rng.c")
    module("virtio_rng-virtio-1.0.kmod", "virtio-1.0", [virtio_rng], "loads", row="test", name="virtio_rng")
    # A PCI driver as vendors build it against the released KABI_PCI_1.0
    # (with KABI_DEVICE_1.0): QEMU's edu device, bound in
    # abi-pci-1-0-driver-binds-on-current-core.
    edu = os.path.join(options.root, "tests", "modules", "edu_test.c")
    module("edu_test-pci-1.0.kmod", "KABI_PCI_1.0", [edu], "loads", row="test", name="edu_test")
    module("abi_break-future-call.kmod", "newer", [breaker], "refused", ["ABI_FUTURE_CALL"],
           [f"unknown symbol keel_future_call@{descriptions.NEWER_NODE}"], row="test", name="abi_break")
    module("abi_break-future-node.kmod", "newer", [breaker], "refused", ["ABI_FUTURE_NODE"],
           [f"needs keel_monotonic_ns@{descriptions.NEWER_NODE}, but this core provides it only at KABI_CORE_1.0"],
           row="test", name="abi_break")
    module("abi_break-changed-parameter.kmod", "changed-parameter", [breaker], "refused", ["ABI_BREAK_SLEEP"],
           ["disagrees about the version of symbol keel_sleep_ns@KABI_CORE_1.0"], row="test", name="abi_break")
    module("abi_break-reordered-field.kmod", "reordered-field", [breaker], "refused", ["ABI_BREAK_SPINLOCK"],
           ["disagrees about the version of symbol keel_spin_lock@KABI_CORE_1.0"], row="test", name="abi_break")
    # The out-of-tree examples, built as a vendor would against this SDK
    # (tests/oot/ builds them from the installed SDK too).
    # vendor_c exports acme_blocks_sum from its interface description;
    # vendor_rust imports it through the crate keel-abi makes from it.
    oot = os.path.join(options.root, "tests", "oot")
    interface = os.path.join(oot, "vendor_c", "acme_blocks.toml")
    generated = os.path.join(options.workdir, "vendor_c-interface")
    os.makedirs(generated, exist_ok=True)
    tool = [sys.executable, os.path.join(options.root, "scripts", "abi", "keel-abi.py")]
    for kind, file in (("header", "vendor_c.h"), ("version-script", "vendor_c.map"), ("symvers", "vendor_c.symvers"),
                       ("rust-sys", "vendor_c.rs")):
        run(tool + [kind, "--description", interface, "--output", os.path.join(generated, file)])
    run([options.rustc, "--edition", "2021", "-C", "panic=abort", "-C", "opt-level=2", "-C", "no-redzone=yes",
         "-C", "relocation-model=pic", "--crate-type", "rlib", "--crate-name", "vendor_c"]
        + rust_target_options(options)
        + [os.path.join(generated, "vendor_c.rs"), "-o", os.path.join(generated, "libvendor_c.rlib")])
    module("vendor_c.kmod", "current", [os.path.join(oot, "vendor_c", "vendor_c.c")], "loads", row="oot",
           name="vendor_c", extra=["--include", generated, "--version-script", os.path.join(generated, "vendor_c.map"),
                                   "--exports", os.path.join(generated, "vendor_c.symvers")])
    module("vendor_cpp.kmod", "current", [os.path.join(oot, "vendor_cpp", "vendor_cpp.cpp")], "loads", row="oot",
           name="vendor_cpp")
    module("vendor_rust.kmod", "current", [os.path.join(oot, "vendor_rust", "vendor_rust.rs")], "loads", row="oot",
           rust=True, name="vendor_rust",
           extra=["--needs", os.path.join(modules_dir, "vendor_c.kmod"),
                  "--extern", f"vendor_c={os.path.join(generated, 'libvendor_c.rlib')}"])

    spec = os.path.join(options.workdir, "abi.spec")
    with open(options.spec) as f:
        lines = [f.read().rstrip("\n"), "dir /lib/abi 0755 0 0"]
    for file in sorted(manifest):
        lines.append(f"file /lib/abi/{file} {os.path.join(modules_dir, file)} 0644 0 0")
    # vendor_rust needs vendor_c, found by name in the vendor directory.
    lines.append("dir /lib/vendor 0755 0 0")
    lines.append(f"file /lib/vendor/vendor_c.kmod {os.path.join(modules_dir, 'vendor_c.kmod')} 0644 0 0")
    with open(spec, "w") as f:
        f.write("\n".join(lines) + "\n")
    run([options.gen_init_cpio, "-o", options.output, spec],
        env=dict(os.environ, KEEL_INITRAMFS_DIR=os.path.join(options.root, "initramfs")))
    with open(options.manifest, "w") as f:
        json.dump({"modules_dir": modules_dir, "sdks": sdks, "modules": manifest}, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
