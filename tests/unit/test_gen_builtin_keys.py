#!/usr/bin/env python3
"""scripts/gen-builtin-keys.py: the built-in keyring source has the key, the
blocked key ids (given in hex or as a key file) and the blocked module
digests (given in hex or as a module file, digest of the image without its
signature trailer) and the known modules' digests, with their names, that the
options name; the manifest lists the known modules too."""

import hashlib
import os
import re
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOOL = os.path.join(ROOT, "scripts", "gen-builtin-keys.py")
KEY = os.path.join(ROOT, "tests", "keys", "blocked-test.pem")
PUB = os.path.join(ROOT, "tests", "keys", "blocked-test.pub.pem")


def c_bytes(data):
    return ", ".join(f"0x{b:02x}" for b in data)


def main():
    der = subprocess.run(["openssl", "pkey", "-in", KEY, "-pubout", "-outform", "DER"], capture_output=True,
                         check=True).stdout
    raw = der[12:]
    key_id = hashlib.sha512(raw).digest()[:16]
    with tempfile.TemporaryDirectory() as scratch:
        image = b"\x7fELF" + bytes(range(256)) * 4
        footer_records = b"R" * 168
        trailer = footer_records + struct.pack("<HHI", 1, 1, 168 + 32) + b"~Keel module signature~\n"
        module = os.path.join(scratch, "m.kmod")
        with open(module, "wb") as f:
            f.write(image + trailer)
        out = os.path.join(scratch, "keys.cpp")
        subprocess.run([sys.executable, TOOL, out, "--enforce", "yes", "--key", f"test key={KEY}",
                        "--blocked-key-pem", PUB, "--blocked-key", "00" * 16, "--blocked-module", module,
                        "--known-module", f"m={module}"],
                       check=True)
        text = open(out).read()
        abi = os.path.join(scratch, "abi.manifest")
        with open(abi, "w") as f:
            f.write("keel-manifest 1\n")
        manifest = os.path.join(scratch, "core.manifest")
        subprocess.run([sys.executable, TOOL, "--manifest", manifest, "--abi-manifest", abi, "--enforce", "no",
                        "--known-module", f"m={module}"], check=True)
        manifest_text = open(manifest).read()
        bad = subprocess.run([sys.executable, TOOL, out, "--enforce", "no", "--known-module", module],
                             capture_output=True, text=True)
    failures = []
    if c_bytes(raw) not in text:
        failures.append("the public key is missing")
    if c_bytes(key_id) not in text or "g_builtin_blocked_key_id_count = 2;" not in text:
        failures.append("blocked key ids wrong")
    if (c_bytes(hashlib.blake2b(image, digest_size=64).digest()) not in text
            or "g_builtin_blocked_digest_count = 1;" not in text):
        failures.append("the blocked module digest is not that of the image without its trailer")
    digest = hashlib.blake2b(image, digest_size=64).digest()
    known = re.search(r"g_builtin_known_module_digests\[\] = \{\n    \{ \{([^}]*)\} \},\n\};", text)
    if (not known or known.group(1) != c_bytes(digest) or '"m",' not in text
            or "g_builtin_known_module_count = 1;" not in text):
        failures.append("the known module's digest (of its image without the trailer) or its name is wrong")
    if c_bytes(key_id) not in text.split("g_builtin_keys[] = {")[1].split("};")[0]:
        failures.append("the built-in key's id is not in its entry")
    if "const uint64_t g_builtin_known_module_lengths[] = {\n    1028,\n};" not in text:
        failures.append("the known module's image length is wrong")
    if f"known-module m 1028 {digest.hex()}" not in manifest_text:
        failures.append("the manifest does not list the known module")
    if bad.returncode == 0 or "NAME=FILE.kmod" not in bad.stderr:
        failures.append(f"--known-module without a name was accepted: {bad.stderr}")
    if not re.search(r"g_builtin_sig_enforce = true;", text):
        failures.append("enforcement not set")
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
