#!/usr/bin/env python3
"""kmod-sign and scripts/genkey end to end: sign, verify, show, strip,
endorse, keyid, pubkey-raw, and the error messages people will see.

    test_kmod_sign.py KMOD_SIGN GENKEY
"""
import hashlib
import os
import subprocess
import sys
import tempfile

KMOD_SIGN, GENKEY = sys.argv[1], sys.argv[2]
MAGIC = b"~Keel module signature~\n"
failures = []


def run(*args, expect=0, contains=None):
    result = subprocess.run([KMOD_SIGN, *args], capture_output=True, text=True)
    output = result.stdout + result.stderr
    label = "kmod-sign " + " ".join(os.path.basename(a) for a in args)
    if expect == "nonzero":
        ok = result.returncode != 0
    else:
        ok = result.returncode == expect
    if not ok:
        failures.append(f"{label}: exit {result.returncode}, expected {expect}:\n{output}")
    if contains and contains not in output:
        failures.append(f"{label}: output lacks {contains!r}:\n{output}")
    return output


def check(condition, what):
    if not condition:
        failures.append(what)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


with tempfile.TemporaryDirectory() as tmp:
    keys = os.path.join(tmp, "keys")
    for name in ("vendor", "distro"):
        subprocess.run([GENKEY, keys, name], check=True, capture_output=True)
    vendor, vendor_pub = os.path.join(keys, "vendor.pem"), os.path.join(keys, "vendor.pub.pem")
    distro, distro_pub = os.path.join(keys, "distro.pem"), os.path.join(keys, "distro.pub.pem")
    check(os.stat(vendor).st_mode & 0o077 == 0, "genkey: private key readable by others")
    again = subprocess.run([GENKEY, keys, "vendor"], capture_output=True, text=True)
    check(again.returncode != 0 and "refusing to overwrite" in again.stderr, "genkey overwrote a key")
    default = subprocess.run([GENKEY, keys], capture_output=True, text=True)
    check(default.returncode == 0 and os.path.exists(os.path.join(keys, "signing_key.pem")),
          "genkey without NAME makes signing_key.pem")

    rsa = os.path.join(tmp, "rsa.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:1024",
                    "-out", rsa], check=True, capture_output=True)

    # A stand-in module: kmod-sign only requires an ELF64 header.
    image = b"\x7fELF\x02\x01\x01" + bytes(57) + os.urandom(5000)
    module = os.path.join(tmp, "foo.kmod")
    write(module, image)
    os.chmod(module, 0o640)

    # keyid and pubkey-raw, from the private and the public file alike.
    key_id = run("keyid", vendor).strip()
    check(key_id == run("keyid", vendor_pub).strip(), "keyid differs between private and public PEM")
    raw = run("pubkey-raw", vendor_pub).strip()
    check(len(raw) == 64, f"pubkey-raw printed {raw!r}")
    check(hashlib.sha512(bytes.fromhex(raw)).hexdigest()[:32] == key_id,
          "key id is not SHA-512(public key)[:16]")
    c_array = run("pubkey-raw", vendor_pub, "--c-array")
    check(c_array.count("0x") == 32 and key_id in c_array, f"--c-array output:\n{c_array}")

    # Sign in place, verify, show. The default record is algorithm 2: Ed25519
    # with a BLAKE2b-512 image digest.
    run("sign", vendor, module)
    signed = read(module)
    check(signed.startswith(image) and signed.endswith(MAGIC), "signed module layout")
    check(len(signed) == len(image) + 168 + 32, f"signed size {len(signed)}")
    check(signed[len(image) + 14:len(image) + 16] == b"\x02\x00", "the default record is not algorithm 2")
    blake2b = hashlib.blake2b(image, digest_size=64).digest()
    check(signed[len(image) + 40:len(image) + 104] == blake2b, "the record does not hold the image's BLAKE2b-512")
    check(os.stat(module).st_mode & 0o777 == 0o640, "sign changed the file mode")
    run("verify", vendor_pub, module, contains="valid signature by key " + key_id)
    run("verify", vendor_pub, module, contains="BLAKE2b-512 image digest")
    run("verify", vendor, module)  # a private PEM holds the public key too
    show = run("show", module, contains="1 signature")
    check(key_id in show and "algorithm 2 (Ed25519, BLAKE2b-512)" in show
          and "blake2b512:" + blake2b.hex() in show, f"show output:\n{show}")
    run("verify", distro_pub, module, expect="nonzero", contains="ENOKEY")

    # A second signature only with --append, never twice by the same key.
    run("sign", distro, module, expect="nonzero", contains="already signed")
    check(read(module) == signed, "a refused sign changed the module")
    run("sign", distro, module, "--append")
    run("sign", vendor, module, "--append", expect="nonzero", contains="already signed by key " + key_id)
    run("show", module, contains="2 signature")
    run("verify", vendor_pub, module, contains="record 0 of 2")
    run("verify", distro_pub, module, contains="record 1 of 2")

    # --digest sha512: the algorithm-1 record older kernels and tools wrote.
    old_style = os.path.join(tmp, "sha512.kmod")
    run("sign", vendor, module, "-o", old_style, "--digest", "sha512", expect="nonzero", contains="already signed")
    run("strip", module, "-o", old_style)
    run("sign", vendor, old_style, "--digest", "sha512")
    sha512_signed = read(old_style)
    check(sha512_signed[len(image) + 14:len(image) + 16] == b"\x01\x00", "--digest sha512 is not algorithm 1")
    check(sha512_signed[len(image) + 40:len(image) + 104] == hashlib.sha512(image).digest(),
          "the record does not hold the image's SHA-512")
    run("verify", vendor_pub, old_style, contains="SHA-512 image digest")
    show = run("show", old_style)
    check("algorithm 1 (Ed25519, SHA-512)" in show and "sha512:" + hashlib.sha512(image).hexdigest() in show,
          f"show output:\n{show}")
    # Records of both algorithms side by side, each verifying.
    run("sign", distro, old_style, "--append", "--digest", "blake2b")
    run("verify", vendor_pub, old_style, contains="record 0 of 2; Ed25519, SHA-512")
    run("verify", distro_pub, old_style, contains="record 1 of 2; Ed25519, BLAKE2b-512")
    run("sign", vendor, module, "--digest", "md5", expect="nonzero", contains="--digest is blake2b")

    # Strip to a new file, then in place: both give back the image.
    stripped = os.path.join(tmp, "stripped.kmod")
    run("strip", module, "-o", stripped)
    check(read(stripped) == image, "strip -o did not restore the image")
    check(read(module).endswith(MAGIC), "strip -o touched its input")
    run("strip", module)
    check(read(module) == image, "strip did not restore the image")
    run("strip", module, expect="nonzero", contains="not signed")
    run("show", module, expect=1, contains="not signed")
    run("verify", vendor_pub, module, expect="nonzero", contains="ENODATA")

    # Sign to another file, leaving the input alone.
    out = os.path.join(tmp, "out.kmod")
    run("sign", vendor, module, "-o", out)
    check(read(module) == image, "sign -o changed its input")
    signed = read(out)

    # Tampering and truncation.
    tampered = bytearray(signed)
    tampered[100] ^= 1
    write(out, bytes(tampered))
    run("verify", vendor_pub, out, expect="nonzero", contains="EKEYREJECTED")
    truncated = signed[:len(image) + 50] + signed[-32:]
    write(out, truncated)
    run("verify", vendor_pub, out, expect="nonzero", contains="EBADMSG")
    run("show", out, expect="nonzero", contains="truncated")
    run("sign", vendor, out, expect="nonzero", contains="truncated")
    # A signature pasted from another module of the same size.
    other = os.path.join(tmp, "other.kmod")
    write(other, b"\x7fELF\x02\x01\x01" + bytes(57) + os.urandom(5000))
    run("sign", vendor, other)
    write(out, image + read(other)[len(image):])
    run("verify", vendor_pub, out, expect="nonzero", contains="image digest differs")

    # Errors that name what is wrong.
    run("sign", os.path.join(tmp, "missing.pem"), module, expect="nonzero", contains="cannot open")
    run("sign", rsa, module, expect="nonzero", contains="key is RSA, not Ed25519")
    run("sign", vendor_pub, module, expect="nonzero", contains="no PEM private key")
    notelf = os.path.join(tmp, "notelf.kmod")
    write(notelf, b"#!/bin/sh\necho hello\n")
    run("sign", vendor, notelf, expect="nonzero", contains="not an ELF module")
    elf32 = os.path.join(tmp, "elf32.kmod")
    write(elf32, b"\x7fELF\x01\x01\x01" + bytes(100))
    run("sign", vendor, elf32, expect="nonzero", contains="ELFCLASS64")
    run("frobnicate", expect=2, contains="unknown command")
    run("sign", vendor, expect="nonzero", contains="usage")

    # Endorsements.
    endorsement = os.path.join(tmp, "distro.endorsement")
    run("endorse", vendor, distro_pub, "-o", endorsement, "--description", "Distro kernel team",
        contains="endorsed by key " + key_id)
    record = read(endorsement)
    check(record.startswith(b"KeelEndo") and len(record) == 144 + len("Distro kernel team"),
          f"endorsement is {len(record)} bytes")
    check(b"Distro kernel team" in record, "description missing")
    run("endorse", vendor, distro_pub, expect="nonzero", contains="-o")
    run("endorse", vendor_pub, distro_pub, "-o", endorsement, expect="nonzero", contains="no PEM private key")
    run("endorse", vendor, distro_pub, "-o", endorsement, "--description", "bad\ttab",
        expect="nonzero", contains="printable ASCII")

    leftovers = [name for name in os.listdir(tmp) if ".kmod." in name or ".endorsement." in name]
    check(not leftovers, f"temporary files left behind: {leftovers}")

for failure in failures:
    print("FAIL:", failure)
print(f"kmod-sign round trips: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
