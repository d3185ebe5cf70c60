#!/usr/bin/env python3
"""The out-of-tree SDK, end to end (docs/sdk.md, issues 6 and 17):

1. scripts/sdk packs the SDK from the build directory;
2. in a scratch directory holding only that tarball, every `sh` block of
   docs/sdk.md runs in order, exactly as written, with a minimal
   environment (no KEEL_BUILD, no source tree on any path): unpack, copy
   the SDK's examples, a vendor key endorsed by the build key, the
   exporting C module with make, the C++ one with Meson, the importing
   Rust one with rustc, keel-build-module, an older node's SDK,
   kmodinfo --check-against, keel-mkinitramfs; the files the page shows
   (`make file=...`, `sh file=...`) must be the SDK's examples, byte for
   byte;
3. the core boots with the image the page made and its `cmdline` block
   (module.sig_enforce=1, modules_load=): the vendor key comes from the
   initramfs, the modules load at boot, and every `console` block runs at
   the prompt, each line shown under a command appearing in its output;
4. the Rust recipe's module is the size of keel-build-module's;
5. building against KABI_CORE_1.0 and calling a newer function fails;
6. changing the exporter's function and rebuilding only the exporter gets
   the importer refused by kmodinfo --check-against and by the loader,
   both naming both declarations.

The SDK is the build's architecture's (scripts/sdk makes one per
architecture): in build-aarch64/ the same commands build aarch64 modules
(the Rust recipe after keel-rust-sysroot) and the core boots on QEMU's
virt machine.

  KEEL_BUILD=BUILD tests/oot/test_oot.py
"""

import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from keel.machine import ARCH, BUILD, PROMPT, Machine, kernel_path  # noqa: E402

DOC = os.path.join(ROOT, "docs", "sdk.md")
EXAMPLES = ["vendor_c", "vendor_cpp", "vendor_rust"]


def compiler_target(arch):
    """The C target the SDK's flags name: build-module.py's, which makes them."""
    spec = importlib.util.spec_from_file_location("build_module", os.path.join(ROOT, "scripts", "build-module.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ARCHES[arch]["target"]


def core_files(scratch):
    """The built core as the kernel's builder hands it out, copied into
    `scratch`: keel.elf (what kmodinfo --check-against reads, with its
    manifest beside it) and what QEMU boots (the stripped ELF on x86_64, the
    arm64 Image on aarch64). Returns (elf, bootable)."""
    elf = os.path.join(scratch, "keel.elf")
    shutil.copy(os.path.join(BUILD, "core", "keel.elf"), elf)
    shutil.copy(os.path.join(BUILD, "core", "keel.manifest"), os.path.join(scratch, "keel.manifest"))
    built = kernel_path(BUILD, ARCH)
    bootable = os.path.join(scratch, os.path.basename(built))
    if bootable != elf:
        shutil.copy(built, bootable)
    return elf, bootable


def blocks(language):
    """The bodies of the ```LANGUAGE blocks (not those naming a file)."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.M | re.S)


def file_blocks():
    """{path: text} of the ```LANG file=PATH blocks."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    return dict(re.findall(r"^```\w+ file=(\S+)\n(.*?)^```", text, re.M | re.S))


def fail(message):
    print(f"FAIL oot-sdk: {message}")
    sys.exit(1)


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        fail(f"{command if isinstance(command, str) else ' '.join(command)}\n{result.stdout}{result.stderr}")
    return result.stdout


def minimal_environment():
    """What a vendor's machine has: compilers on the standard PATH (and
    rustup's), nothing pointing into the kernel tree."""
    rustc = shutil.which("rustc")
    path = ["/usr/local/bin", "/usr/bin", "/bin"]
    if rustc:
        path.insert(0, os.path.dirname(os.path.realpath(rustc)) if "rustup" not in rustc else os.path.dirname(rustc))
    env = {"PATH": ":".join(path), "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    for name in ("RUSTUP_HOME", "CARGO_HOME", "RUSTUP_TOOLCHAIN"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def console_steps():
    """(command, [expected lines]) from the console blocks."""
    steps = []
    for block in blocks("console"):
        for line in block.splitlines():
            if line.startswith("keel> "):
                steps.append((line[len("keel> "):], []))
            elif line.strip() and steps:
                steps[-1][1].append(line.strip())
    return steps


def shell(script, cwd, env):
    result = subprocess.run(["bash", "-c", "set -eux\n" + script], cwd=cwd, env=env, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def boot_and_run(core, image, cmdline, steps):
    with Machine(cmdline="panic=-1 " + cmdline, initrd=image, kernel=core) as vm:
        vm.expect(PROMPT, 60)
        for command, expected in steps:
            out = vm.command_output(command, 60)
            for line in expected:
                if line not in out:
                    fail(f"`{command}` did not print '{line}':\n{out}\n--- console tail ---\n{vm.output[-3000:]}")


def main():
    key = os.environ["KEEL_SIGNING_KEY"]
    with tempfile.TemporaryDirectory(prefix="keel-oot-") as scratch:
        work = os.path.join(scratch, "vendor")
        os.makedirs(work)
        tarball = run([os.path.join(ROOT, "scripts", "sdk"), "--no-build", work],
                      env=dict(os.environ, KEEL_BUILD=BUILD)).strip().splitlines()[-1]
        if not os.path.isfile(tarball):
            fail(f"scripts/sdk did not make a tarball: {tarball}")
        # The kernel builder's key and a core (with its manifest beside it):
        # outside the vendor's directory, as a vendor would receive them.
        shutil.copy(key, os.path.join(scratch, "signing_key.pem"))
        core, bootable = core_files(scratch)
        env = minimal_environment()
        env["KEEL_SIGNING_KEY"] = os.path.join(scratch, "signing_key.pem")
        env["KEEL_CORE"] = core
        status, log = shell("\n".join(blocks("sh")), work, env)
        if status != 0:
            fail(f"a docs/sdk.md command failed:\n{log[-6000:]}")
        if ROOT in log.replace(tarball, ""):
            fail(f"the build touched the source tree ({ROOT}):\n{log[-3000:]}")
        if not os.path.basename(tarball).endswith(f"-{ARCH}.tar.gz"):
            fail(f"scripts/sdk made {os.path.basename(tarball)} for the {ARCH} build")
        for needle in ["keel-sdk-", f"--target={compiler_target(ARCH)}", "-lkeel", "vendor_c: loads on",
                       "vendor_cpp: loads on", "vendor_rust: loads on", "requires:       KABI_CORE_1.0",
                       "export:         acme_blocks_sum@ACME_BLOCKS_1.0", "KABI_CORE_1.0        core",
                       "released"]:
            if needle not in log:
                fail(f"docs/sdk.md commands did not print '{needle}':\n{log[-4000:]}")

        # The files the page shows are the SDK's examples.
        sdk = next(path for path in glob.glob(os.path.join(work, "keel-sdk-*")) if os.path.isdir(path))
        # What the page's first block exported, for the commands below.
        env["PATH"] = os.path.join(sdk, "bin") + ":" + env["PATH"]
        env["PKG_CONFIG_PATH"] = os.path.join(sdk, "lib", "pkgconfig")
        for path, text in file_blocks().items():
            with open(os.path.join(sdk, "share", "keel-sdk", "examples", path), encoding="utf-8") as f:
                if f.read() != text:
                    fail(f"docs/sdk.md shows {path}, but the SDK's example differs")

        # The Rust recipe builds what keel-build-module builds.
        recipe = os.path.getsize(os.path.join(work, "vendor_rust", "vendor_rust.kmod"))
        one = os.path.getsize(os.path.join(work, "onecommand", "vendor_rust.kmod"))
        if abs(recipe - one) > one // 20:
            fail(f"the Rust recipe's module is {recipe} bytes, keel-build-module's {one}")

        # An older node's SDK: a newer function is a build error.
        with open(os.path.join(work, "newer.c"), "w") as f:
            f.write('#include <keel/module.h>\nKEEL_MODULE_NAME("newer");\nKEEL_MODULE_LICENSE("MIT");\n'
                    'static int newer_init(void) { return keel_register_filesystem(0); }\n'
                    'KEEL_MODULE_INIT(newer_init);\n')
        status, out = shell("keel-build-module --abi KABI_CORE_1.0 -o newer.kmod newer.c", work, env)
        if status == 0 or "keel_register_filesystem" not in out:
            fail(f"a KABI_VFS_1.0 call built against the KABI_CORE_1.0 SDK:\n{out[-2000:]}")
        status, out = shell("keel-build-module -o newer.kmod newer.c", work, env)
        if status != 0:
            fail(f"the same module does not build against the current SDK:\n{out[-2000:]}")

        # Booted with the image the page made: keys and modules at boot.
        cmdline = blocks("cmdline")[0].strip()
        steps = console_steps()
        if len(steps) < 5:
            fail("docs/sdk.md has no console session to run")
        boot_and_run(bootable, os.path.join(work, "vendor.cpio"), cmdline, steps)

        # Both Rust builds load and unload under enforcement. (Their sizes are
        # compared above; how fast they load is for scripts/bench, not a test
        # on a shared machine.)
        status, out = shell("keel-mkinitramfs -o compare.cpio --key vendor.endorsement --module vendor_c/vendor_c.kmod "
                            "--file vendor_rust/vendor_rust.kmod=/lib/compare/recipe/vendor_rust.kmod "
                            "--file onecommand/vendor_rust.kmod=/lib/compare/one/vendor_rust.kmod", work, env)
        if status != 0:
            fail(f"keel-mkinitramfs failed:\n{out}")
        with Machine(cmdline="panic=-1 module.sig_enforce=1 modules_load=vendor_c",
                     initrd=os.path.join(work, "compare.cpio"), kernel=bootable) as vm:
            vm.expect(PROMPT, 60)
            for build in ("recipe", "one"):
                out = vm.command_output(f"insmod /lib/compare/{build}/vendor_rust.kmod", 60)
                lsmod = vm.command_output("lsmod", 60)
                if not re.search(r"^vendor_rust\b", lsmod, re.M):
                    fail(f"the {build} build did not load: {out}\n{lsmod}")
                out = vm.command_output("rmmod vendor_rust", 60)
                if re.search(r"^vendor_rust\b", vm.command_output("lsmod", 60), re.M):
                    fail(f"the {build} build did not unload: {out}")

        # The exporter changes acme_blocks_sum's parameter; only it is rebuilt.
        toml = os.path.join(work, "vendor_c", "acme_blocks.toml")
        source = os.path.join(work, "vendor_c", "vendor_c.c")
        for path, old, new in ((toml, 'type = "uint64_t" }', 'type = "uint32_t" }'),
                               (source, "acme_blocks_sum(uint64_t count)", "acme_blocks_sum(uint32_t count)")):
            with open(path) as f:
                text = f.read()
            if old not in text:
                fail(f"{path} has no '{old}' to change")
            with open(path, "w") as f:
                f.write(text.replace(old, new))
        status, out = shell("make -C vendor_c KEY=../vendor.pem\n"
                            "keel-mkinitramfs -o changed.cpio --key vendor.endorsement --module vendor_c/vendor_c.kmod "
                            "--module vendor_rust/vendor_rust.kmod", work, env)
        if status != 0:
            fail(f"rebuilding the exporter failed:\n{out[-3000:]}")
        declarations = ["function acme_blocks_sum(uint64_t)->uint64_t", "function acme_blocks_sum(uint32_t)->uint64_t"]
        status, out = shell('kmodinfo --check-against "$KEEL_CORE" --sig-enforce --key vendor.endorsement -L vendor_c '
                            "vendor_rust/vendor_rust.kmod", work, env)
        words = ["refused  vendor_rust: disagrees about the version of symbol acme_blocks_sum@ACME_BLOCKS_1.0"]
        if status != 1 or any(word not in out for word in words + declarations):
            fail(f"kmodinfo --check-against did not refuse the importer naming both declarations:\n{out[-3000:]}")
        boot_and_run(bootable, os.path.join(work, "changed.cpio"), "module.sig_enforce=1",
                     [("insmod vendor_rust", words[0][len("refused  "):].split(":")[:1] + declarations + ["EINVAL"])])
        print(f"PASS oot-sdk ({ARCH}): {len(blocks('sh'))} shell blocks, {len(steps)} console commands, "
              f"3 modules built from {os.path.basename(tarball)}, loaded at boot under module.sig_enforce=1; "
              f"the Rust recipe's module {recipe} bytes (keel-build-module's: {one}), both loaded and unloaded; "
              "a changed export refused by kmodinfo and the loader")


if __name__ == "__main__":
    main()
