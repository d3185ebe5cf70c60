#!/usr/bin/env python3
"""The out-of-tree SDK, end to end (docs/sdk.md, issue 6):

1. scripts/sdk packs the SDK from the build directory;
2. in a scratch directory holding only that tarball and copies of the
   three example modules (tests/oot/vendor_*), every `sh` block of
   docs/sdk.md runs in order, with a minimal environment (no KEEL_BUILD, no
   source tree on any path): unpack, pkg-config, a vendor key endorsed by
   the build key, the C module with make, the C++ one with Meson, the Rust
   one with rustc, keel-build-module, kmodinfo --check-against;
3. the modules and the endorsement go into an initramfs (/lib/vendor/),
   the kernel boots with module.sig_enforce=1, and every `console` block of
   docs/sdk.md runs at the prompt: each line shown under a command must
   appear in its output.

  KEEL_BUILD=BUILD tests/oot/test_oot.py
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from keel.machine import BUILD, PROMPT, Machine  # noqa: E402

DOC = os.path.join(ROOT, "docs", "sdk.md")
EXAMPLES = ["vendor_c", "vendor_cpp", "vendor_rust"]


def blocks(language):
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.M | re.S)


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


def make_initramfs(scratch, files):
    spec = os.path.join(scratch, "vendor.spec")
    with open(os.path.join(BUILD, "initramfs", "initramfs.spec")) as f:
        lines = [f.read().rstrip("\n"), "dir /lib/vendor 0755 0 0"]
    for name, path in files.items():
        lines.append(f"file /lib/vendor/{name} {path} 0644 0 0")
    with open(spec, "w") as f:
        f.write("\n".join(lines) + "\n")
    image = os.path.join(scratch, "vendor.cpio")
    env = dict(os.environ, KEEL_INITRAMFS_DIR=os.path.join(ROOT, "initramfs"))
    run([os.path.join(BUILD, "scripts", "tools", "gen_init_cpio"), "-o", image, spec], env=env)
    return image


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


def main():
    key = os.environ.get("KEEL_SIGNING_KEY", os.path.join(BUILD, "loader", "signing_key.pem"))
    core = os.path.join(BUILD, "core", "keel.elf")
    with tempfile.TemporaryDirectory(prefix="keel-oot-") as scratch:
        work = os.path.join(scratch, "vendor")
        os.makedirs(work)
        tarball = run([os.path.join(ROOT, "scripts", "sdk"), "--no-build", work],
                      env=dict(os.environ, KEEL_BUILD=BUILD)).strip().splitlines()[-1]
        if not os.path.isfile(tarball):
            fail(f"scripts/sdk did not make a tarball: {tarball}")
        for example in EXAMPLES:
            shutil.copytree(os.path.join(HERE, example), os.path.join(work, example))
        # The kernel builder's key and a core: outside the vendor's directory,
        # as a vendor would receive them.
        shutil.copy(key, os.path.join(scratch, "signing_key.pem"))
        shutil.copy(core, os.path.join(scratch, "keel.elf"))
        env = minimal_environment()
        env["KEEL_SIGNING_KEY"] = os.path.join(scratch, "signing_key.pem")
        env["KEEL_CORE"] = os.path.join(scratch, "keel.elf")
        script = "set -eux\n" + "\n".join(blocks("sh"))
        result = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True)
        log = result.stdout + result.stderr
        if result.returncode != 0:
            fail(f"a docs/sdk.md command failed:\n{log[-6000:]}")
        if ROOT in log.replace(tarball, ""):
            fail(f"the build touched the source tree ({ROOT}):\n{log[-3000:]}")
        for needle in ["keel-sdk-", "--target=x86_64-unknown-none-elf", "-lkeel", "vendor_c: loads on",
                       "vendor_cpp: loads on", "vendor_rust: loads on", "requires:       KABI_CORE_1.0"]:
            if needle not in log:
                fail(f"docs/sdk.md commands did not print '{needle}':\n{log[-4000:]}")
        modules = {
            "vendor_c.kmod": os.path.join(work, "vendor_c", "vendor_c.kmod"),
            "vendor_cpp.kmod": os.path.join(work, "vendor_cpp", "build", "vendor_cpp.kmod"),
            "vendor_rust.kmod": os.path.join(work, "vendor_rust", "vendor_rust.kmod"),
            "vendor.endorsement": os.path.join(work, "vendor.endorsement"),
        }
        image = make_initramfs(scratch, modules)
        steps = console_steps()
        if len(steps) < 5:
            fail("docs/sdk.md has no console session to run")
        with Machine(cmdline="panic=-1 module.sig_enforce=1", initrd=image) as vm:
            vm.expect(PROMPT, 60)
            for command, expected in steps:
                out = vm.command_output(command, 60)
                for line in expected:
                    if line not in out:
                        fail(f"`{command}` did not print '{line}':\n{out}\n--- console tail ---\n{vm.output[-3000:]}")
        print(f"PASS oot-sdk: {len(blocks('sh'))} shell blocks, {len(steps)} console commands, "
              f"{len(EXAMPLES)} modules built from {os.path.basename(tarball)} and loaded under module.sig_enforce=1")


if __name__ == "__main__":
    main()
