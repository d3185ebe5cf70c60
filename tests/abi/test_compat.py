#!/usr/bin/env python3
"""The compatibility suite's host half (docs/abi-policy.md):

1. every deliberate break (descriptions.BREAKS) is caught by scripts/abi-check
   with the right diagnosis (symbol, node or errno, what changed), and the
   newer description only adds;
2. --release writes a new node's baseline and the new errnos, and refuses to
   touch a released node;
3. kmodinfo --check-against the built core predicts every suite module's
   fate exactly as the manifest (and the boot test) expects it;
4. the compatibility shim: the 1.0-SDK probe imports keel_add_taint@KABI_CORE_1.0,
   later ones @KABI_CORE_1.1, and the core exports both with their
   baseline hashes.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import descriptions  # noqa: E402

BUILD = os.environ["KEEL_BUILD"]
KMODINFO = os.environ.get("KMODINFO", os.path.join(BUILD, "scripts", "tools", "kmodinfo"))
CORE = os.path.join(BUILD, "core", "keel.elf")
ABI_CHECK = os.path.join(ROOT, "scripts", "abi-check")
failures = []


def expect(condition, message):
    if not condition:
        failures.append(message)


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


# What abi-check must say for each break.
DIAGNOSES = {
    "changed-parameter": [
        "BREAK: symbol keel_sleep_ns@KABI_CORE_1.0: hash 0x", "parameter 1 type uint64_t -> uint32_t"
    ],
    "reordered-field": ["BREAK: type keel_spinlock: members reordered: locked, reserved -> reserved, locked",
                        "reached by keel_spin_lock@KABI_CORE_1.0, keel_spin_unlock@KABI_CORE_1.0",
                        "BREAK: symbol keel_spin_lock@KABI_CORE_1.0: hash 0x"],
    "removed-symbol": ["BREAK: symbol keel_thread_yield@KABI_CORE_1.0: removed"],
    "changed-errno": ["BREAK: errno EINVAL: number 22 -> 222 (released in errno.abi)"],
    "renamed-errno": ["BREAK: errno ENOTSUP (95): removed; 95 is now EOPNOTSUPP"],
}


def main():
    with open(os.path.join(ROOT, "abi", "keel.toml"), encoding="utf-8") as f:
        text = f.read()
    with tempfile.TemporaryDirectory(prefix="keel-abi-") as scratch:
        # 1. Breaks and additions.
        for name, edit in descriptions.BREAKS.items():
            path = os.path.join(scratch, name + ".toml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(edit(text))
            status, out = run([ABI_CHECK, "--description", path])
            expect(status == 1, f"abi-check passed the {name} break:\n{out}")
            for needle in DIAGNOSES[name]:
                expect(needle in out, f"abi-check on {name} does not say '{needle}':\n{out}")
        newer = os.path.join(scratch, "newer.toml")
        with open(newer, "w", encoding="utf-8") as f:
            f.write(descriptions.newer(text))
        status, out = run([ABI_CHECK, "--description", newer])
        expect(status == 0, f"abi-check refused a compatible addition:\n{out}")
        for needle in [f"added: node {descriptions.NEWER_NODE}",
                       f"added: symbol keel_future_call@{descriptions.NEWER_NODE}",
                       f"added: symbol keel_monotonic_ns@{descriptions.NEWER_NODE}",
                       "added: errno {} {} (unreleased)".format(*descriptions.NEWER_ERRNO)]:
            expect(needle in out, f"abi-check does not report '{needle}':\n{out}")

        # 1b. The interfaces modules own (abi/baseline/modules/): a released
        # declaration changed, a core name taking a module's prefix, and a
        # module's released nodes with no description of it.
        inet = os.path.join(ROOT, "modules", "inet", "inet.toml")
        with open(inet, encoding="utf-8") as f:
            inet_text = f.read()
        skewed = os.path.join(scratch, "inet-skewed.toml")
        local = ('name = "keel_inet_is_local"\nnode = "KABI_INET_1.3"\ngroup = "protocols"\nreturns = "int32_t"\n'
                 'params = [{ name = "address", type = "uint32_t" }]')
        expect(local in inet_text, f"{inet} no longer has keel_inet_is_local as this test expects")
        with open(skewed, "w", encoding="utf-8") as f:
            f.write(inet_text.replace(local, local.replace("uint32_t", "uint64_t")))
        status, out = run([ABI_CHECK, "--description", os.path.join(ROOT, "abi", "keel.toml"), "--description", skewed])
        expect(status == 1 and "BREAK: symbol keel_inet_is_local@KABI_INET_1.3: hash 0x" in out
               and "parameter 1 type uint32_t -> uint64_t" in out, f"abi-check on a skewed inet.toml:\n{out}")
        claimed = os.path.join(scratch, "claims-inet.toml")
        with open(claimed, "w", encoding="utf-8") as f:
            f.write(descriptions.newer(text).replace("keel_future_call", "keel_inet_future_call"))
        status, out = run([ABI_CHECK, "--description", claimed, "--description", inet])
        expect(status == 1 and "BREAK: keel_inet_future_call: in the core's description, but keel_inet_ is "
               "inet.kmod's prefix" in out, f"abi-check on a core taking inet's prefix:\n{out}")
        status, out = run([ABI_CHECK])
        expect(status == 0 and "KABI_INET_1.3" in out and "KABI_UDP_1.0" in out and "KABI_ICMP_1.0" in out,
               f"abi-check with the default descriptions:\n{out}")
        status, out = run([ABI_CHECK, "--description", os.path.join(ROOT, "abi", "keel.toml")])
        expect(status == 0 and "NOTE: inet.kmod: released KABI_INET_1.0" in out,
               f"abi-check of the core alone does not note inet's released nodes:\n{out}")

        # 2. Releasing, into a copy of the baseline.
        baseline = os.path.join(scratch, "baseline")
        shutil.copytree(os.path.join(ROOT, "abi", "baseline"), baseline)
        status, out = run(
            [ABI_CHECK, "--description", newer, "--baseline", baseline, "--release", descriptions.NEWER_NODE]
        )
        expect(status == 0 and os.path.exists(os.path.join(baseline, descriptions.NEWER_NODE + ".abi")),
               f"--release {descriptions.NEWER_NODE}:\n{out}")
        with open(os.path.join(baseline, "errno.abi"), encoding="utf-8") as f:
            errnos = f.read()
        expect("error {} {}\n".format(*descriptions.NEWER_ERRNO) in errnos and "error EINVAL 22\n" in errnos,
               f"--release did not record the new errno after the released ones:\n{errnos}")
        status, out = run([ABI_CHECK, "--description", newer, "--baseline", baseline, "--release", "KABI_CORE_1.0"])
        expect(status == 1 and "already released" in out, f"re-releasing KABI_CORE_1.0 was not refused:\n{out}")
        status, out = run([ABI_CHECK, "--description", os.path.join(ROOT, "abi", "keel.toml"), "--baseline", baseline])
        expect(status == 1 and f"node {descriptions.NEWER_NODE}: removed" in out,
               f"dropping a released node was not caught:\n{out}")
        expect("BREAK: errno {} ({}): removed".format(*descriptions.NEWER_ERRNO) in out,
               f"dropping a released errno was not caught:\n{out}")
        broken = os.path.join(scratch, "changed-parameter.toml")
        status, out = run([ABI_CHECK, "--description", broken, "--release"])
        expect(status == 1 and "refusing to release" in out, f"--release over a break:\n{out}")

    # 3. kmodinfo --check-against predicts what the boot test sees.
    with open(os.path.join(BUILD, "tests", "abi", "abi-manifest.json")) as f:
        manifest = json.load(f)
    for file, spec in sorted(manifest["modules"].items()):
        path = os.path.join(manifest["modules_dir"], file)
        status, out = run([KMODINFO, "--check-against", CORE, path])
        if spec["expect"] == "loads":
            expect(status == 0 and "every import resolves" in out, f"{file} should load:\n{out}")
        else:
            expect(status == 1 and "REFUSED" in out, f"{file} should be refused:\n{out}")
            for word in spec["words"]:
                expect(word in out, f"{file}: kmodinfo does not say '{word}':\n{out}")

    # 4. The shim, as linked.
    modules = manifest["modules_dir"]
    for file, node in (("abi_probe-1.0.kmod", "KABI_CORE_1.0"), ("abi_probe-1.1.kmod", "KABI_CORE_1.1"),
                       ("abi_probe-current.kmod", "KABI_CORE_1.1")):
        status, out = run([KMODINFO, os.path.join(modules, file)])
        expect(status == 0 and f"keel_add_taint@{node} 0x" in out,
               f"{file} should import keel_add_taint@{node}:\n{out}")
    status, out = run([ABI_CHECK, "--core", CORE])
    expect(status == 0, f"the built core breaks the baseline:\n{out}")

    for failure in failures:
        print("FAIL:", failure)
    print(f"abi-compat: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
