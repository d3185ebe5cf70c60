#!/usr/bin/env python3
"""Build the boot tests' initramfs: the default one plus /lib/test/ with
modules that must be refused (or accepted) for a precise reason, made from
the in-tree modules by editing single fields and re-signing, and a vendor
key with and without an endorsement by the build key.

  make_test_initramfs.py --spec DEFAULT.spec --gen-init-cpio TOOL
      --kmod-sign TOOL --key BUILD_KEY.pem --modules DIR --extra NAME=FILE...
      --workdir DIR --output test.cpio --metadata test.json

test.json records what the tests need to know (key ids, digests).
"""

import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from keel import elf  # noqa: E402


B2SUM_LENGTHS = (0, 1, 127, 128, 129, 256, 257, 16383, 16384, 16385, 40001)


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit("make_test_initramfs: " + " ".join(command) + "\n" + result.stdout + result.stderr)
    return result.stdout


class Patch:
    """A module image being edited in place; its layout comes from
    scripts/keel/elf.py, read before any edit."""

    def __init__(self, data):
        self.layout = elf.Elf(bytes(data))
        self.data = bytearray(data)

    def section(self, wanted):
        section = self.layout.section(wanted)
        if section is None:
            raise KeyError(wanted)
        return section.offset, section.size

    def segments(self):
        return self.layout.segments

    def replace_string(self, section, old, new):
        assert len(old) == len(new)
        offset, size = self.section(section)
        chunk = bytes(self.data[offset:offset + size])
        position = chunk.find(old + b"\0")
        if position < 0:
            raise KeyError(old)
        self.data[offset + position:offset + position + len(new)] = new


def unsigned(kmod_sign, path, out):
    run([kmod_sign, "strip", path, "-o", out])
    with open(out, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def signed(kmod_sign, key, image, out):
    temporary = out + ".unsigned"
    write(temporary, image)
    run([kmod_sign, "sign", key, temporary, "-o", out])
    os.remove(temporary)


def main():
    parser = argparse.ArgumentParser()
    for name in ("spec", "gen-init-cpio", "kmod-sign", "key", "modules", "workdir", "output", "metadata"):
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--extra", action="append", default=[])
    # Driver modules: in /lib/modules (autoload indexes it), plus an
    # unsigned copy in the work directory for the enforcement test.
    parser.add_argument("--driver", action="append", default=[])
    options = parser.parse_args()
    sign_tool, key = options.kmod_sign, options.key
    work = options.workdir
    os.makedirs(work, exist_ok=True)
    files = {}       # name in /lib/test -> path on the host
    meta = {}

    def module(name):
        return os.path.join(options.modules, name + ".kmod")

    def out(name):
        path = os.path.join(work, name)
        files[name] = path
        return path

    hello = module("hello")
    hello_image = unsigned(sign_tool, hello, os.path.join(work, "hello.image"))

    # Signatures.
    write(out("hello-unsigned.kmod"), hello_image)
    with open(hello, "rb") as f:
        signed_hello = f.read()
    trailer_start = len(hello_image)
    for label, position in [("header", 0x12), ("code", None), ("trailer", trailer_start + 60),
                            ("footer", len(signed_hello) - 3)]:
        data = bytearray(signed_hello)
        if position is None:
            offset, size = Patch(hello_image).section(".text")
            position = offset + size // 2
        data[position] ^= 0x01
        write(out(f"hello-tampered-{label}.kmod"), data)
    write(out("hello-truncated-trailer.kmod"), signed_hello[:-40])
    # A valid signature cut from hello and pasted onto hello_cpp's image.
    hello_cpp_image = unsigned(sign_tool, module("hello_cpp"), os.path.join(work, "hello_cpp.image"))
    write(out("hello_cpp-pasted-signature.kmod"), hello_cpp_image + signed_hello[trailer_start:])

    # Keys: an unknown one, and a vendor key endorsed by the build key.
    for name in ("unknown", "vendor"):
        pem = os.path.join(work, name + ".pem")
        if not os.path.exists(pem):
            run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", pem])
        run(["openssl", "pkey", "-in", pem, "-pubout", "-out", os.path.join(work, name + ".pub.pem")])
        meta[name + "_key_id"] = run([sign_tool, "keyid", os.path.join(work, name + ".pub.pem")]).split()[0]
    meta["build_key_id"] = run([sign_tool, "keyid", key]).split()[0]
    files["vendor.pub.pem"] = os.path.join(work, "vendor.pub.pem")  # keyctl add of a PEM key is explained
    signed(sign_tool, os.path.join(work, "unknown.pem"), hello_image, out("hello-unknown-key.kmod"))
    # Signed with the test key keel-enforce.elf has on its built-in blocklist.
    blocked_pem = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keys", "blocked-test.pem")
    signed(sign_tool, blocked_pem, hello_image, out("hello-blocked-key.kmod"))
    meta["blocked_test_key_id"] = run([sign_tool, "keyid", blocked_pem]).split()[0]
    signed(sign_tool, os.path.join(work, "vendor.pem"), hello_image, out("hello-vendor.kmod"))
    # Two signatures: the vendor's (unknown until endorsed) and the build key's.
    run([sign_tool, "sign", key, files["hello-vendor.kmod"], "-o", out("hello-two-signatures.kmod"), "--append"])
    run([sign_tool, "endorse", key, os.path.join(work, "vendor.pub.pem"), "-o", out("vendor.endorsement"),
         "--description", "Example Vendor"])
    # An endorsement signed by a key the kernel does not trust.
    run([sign_tool, "endorse", os.path.join(work, "unknown.pem"), os.path.join(work, "vendor.pub.pem"),
         "-o", out("vendor-bad.endorsement")])
    # The kernel knows its own tmpfs by digest (the known_modules build
    # option): the same image signed by a key it does not trust, and one
    # changed byte of it signed by that key.
    tmpfs_image = unsigned(sign_tool, module("tmpfs"), os.path.join(work, "tmpfs.image"))
    signed(sign_tool, os.path.join(work, "unknown.pem"), tmpfs_image, out("tmpfs-unknown-key.kmod"))
    changed = bytearray(tmpfs_image)
    offset, size = Patch(tmpfs_image).section(".text")
    changed[offset + size // 2] ^= 0x01
    signed(sign_tool, os.path.join(work, "unknown.pem"), bytes(changed), out("tmpfs-changed-unknown-key.kmod"))
    meta["tmpfs_digest"] = hashlib.blake2b(tmpfs_image, digest_size=64).hexdigest()
    # b2sum's input: lengths either side of BLAKE2b's 128-byte block and of
    # the command's 16 KiB reads; hashlib says what their digests are.
    meta["b2sum"] = {}
    for length in B2SUM_LENGTHS:
        data = bytes((i * 131 + length) & 0xff for i in range(length))
        write(out(f"b2-{length}.bin"), data)
        meta["b2sum"][f"/lib/test/b2-{length}.bin"] = hashlib.blake2b(data, digest_size=64).hexdigest()
    # The digest blocklist holds BLAKE2b-512 digests of images, whatever
    # digest the signatures use.
    meta["hello_digest"] = hashlib.blake2b(hello_image, digest_size=64).hexdigest()
    # The build key's signature with a SHA-512 image digest, as kmod-sign
    # wrote it before BLAKE2b: such modules keep loading.
    temporary = out("hello-sha512.kmod") + ".unsigned"
    write(temporary, hello_image)
    run([sign_tool, "sign", key, temporary, "-o", files["hello-sha512.kmod"], "--digest", "sha512"])
    os.remove(temporary)

    # ELF problems, each re-signed with the build key so that validation,
    # not the signature check, is what refuses them.
    def corrupted(name, edit):
        patch = Patch(hello_image)
        edit(patch)
        signed(sign_tool, key, bytes(patch.data), out(name))

    def relocation_type(patch):
        offset, _ = patch.section(".rela.dyn")
        struct.pack_into("<I", patch.data, offset + 8, 2)    # R_X86_64_PC32

    def writable_code(patch):
        for segment in patch.segments():
            if segment.type == elf.PT_LOAD and segment.flags & elf.PF_X:
                struct.pack_into("<I", patch.data, segment.header_offset + 4, 7)
                return

    def interpreter(patch):
        for segment in patch.segments():
            if segment.type == elf.PT_GNU_STACK:
                struct.pack_into("<I", patch.data, segment.header_offset, elf.PT_INTERP)
                return

    def hash_mismatch(patch):
        offset, _ = patch.section(".keel_kabi")
        patch.data[offset + 8] ^= 0xFF                        # the first entry's hash

    def newer_node(patch):
        patch.replace_string(".dynstr", b"KABI_CORE_1.0", b"KABI_CORE_1.7")
        patch.replace_string(".keel_kabi", b"KABI_CORE_1.0", b"KABI_CORE_1.7")

    def unknown_symbol(patch):
        patch.replace_string(".dynstr", b"keel_logf", b"keel_logz")

    def no_license(patch):
        # The note's key, same length: "licenze=MIT" is free text, so
        # the module has no license= at all.
        position = patch.data.find(b"license=")
        patch.data[position:position + 8] = b"licenze="

    def hidden_init(patch):
        # What a version script's `local: *;` does: keel_module_init is no
        # longer among the exports, though modinfo still announces it.
        patch.replace_string(".dynstr", b"keel_module_init", b"keel_module_inix")

    def missing_dependency(patch):
        # consumer needs a module that is nowhere: DT_NEEDED and the
        # version requirement name the same string.
        patch.replace_string(".dynstr", b"provider.kmod", b"providex.kmod")

    consumer_image = unsigned(sign_tool, module("consumer"), os.path.join(work, "consumer.image"))
    patch = Patch(consumer_image)
    missing_dependency(patch)
    signed(sign_tool, key, bytes(patch.data), out("bad-missing-dependency.kmod"))
    corrupted("bad-no-license.kmod", no_license)
    corrupted("bad-hidden-init.kmod", hidden_init)
    corrupted("bad-relocation.kmod", relocation_type)
    corrupted("bad-wx-segment.kmod", writable_code)
    corrupted("bad-interpreter.kmod", interpreter)
    corrupted("bad-hash.kmod", hash_mismatch)
    corrupted("bad-newer-node.kmod", newer_node)
    corrupted("bad-unknown-symbol.kmod", unknown_symbol)
    signed(sign_tool, key, hello_image[:1000], out("bad-truncated.kmod"))
    # A dependency named by a path, with a module at that path: the loader
    # must refuse the name, not load (and run) the file.
    consumer_patch = Patch(unsigned(sign_tool, module("consumer"), os.path.join(work, "consumer.image")))
    consumer_patch.replace_string(".dynstr", b"provider.kmod", b"/lib/test/dep")
    signed(sign_tool, key, bytes(consumer_patch.data), out("bad-needed-path.kmod"))
    write(out("dep"), signed_hello)
    write(out("bad-not-elf.kmod"), b"this is not an ELF module, just text\n" * 8)

    for item in options.extra:
        name, _, path = item.partition("=")
        files[name] = path
    drivers = {}
    meta["unsigned_drivers"] = {}
    for item in options.driver:
        name, _, path = item.partition("=")
        drivers[name] = path
        stripped = out(name.replace(".kmod", "-unsigned.kmod"))
        unsigned(sign_tool, path, stripped)
        meta["unsigned_drivers"][name] = os.path.abspath(stripped)

    spec = os.path.join(work, "test.spec")
    with open(options.spec) as f:
        text = f.read()
    lines = [text.rstrip("\n"), "dir /lib/test 0755 0 0"]
    for name, path in sorted(files.items()):
        target = f"/lib/modules/{name}" if name.startswith("cycle_") else f"/lib/test/{name}"
        lines.append(f"file {target} {os.path.abspath(path)} 0644 0 0")
    for name, path in sorted(drivers.items()):
        lines.append(f"file /lib/modules/{name} {os.path.abspath(path)} 0644 0 0")
    with open(spec, "w") as f:
        f.write("\n".join(lines) + "\n")
    run([options.gen_init_cpio, "-o", options.output, spec])
    with open(options.metadata, "w") as f:
        json.dump(meta, f, indent=2)


if __name__ == "__main__":
    main()
