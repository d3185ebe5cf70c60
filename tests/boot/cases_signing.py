"""Module signing scenarios: tampering, unknown and blocked keys, blocked
digests, enforcement, vendor keys with and without endorsement."""

import json
import os
import re
import subprocess

from harness import ALL_ARCHES, ARCH, BUILD, TEST_INITRAMFS, TEST_METADATA, boot, case, check, kernel_path
from cases_agreement import CORE, KMODINFO
from cases_modules import insmod, lsmod_names, refused


def metadata():
    with open(TEST_METADATA) as f:
        return json.load(f)


TAMPERED = ["hello-tampered-header", "hello-tampered-code", "hello-tampered-trailer", "hello-tampered-footer",
            "hello-truncated-trailer", "hello_cpp-pasted-signature"]


@case(arches=ALL_ARCHES)
def tampered_modules_are_refused():
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        for name in TAMPERED:
            out = refused(vm, f"/lib/test/{name}.kmod", "module verification failed")
            check("EKEYREJECTED" in out or "EBADMSG" in out, f"{name}: {out}", vm)
        check(lsmod_names(vm) == [], "a tampered module loaded", vm)
        check("Not tainted" in vm.command_output("lsmod"), "refusals tainted the kernel", vm)


@case(arches=ALL_ARCHES)
def b2sum_matches_the_host_on_every_length():
    """The kernel's BLAKE2b (on AArch64 and on x86_64 with BMI2 a
    compression function in generated assembly) against Python's hashlib,
    on lengths either side of a block and of b2sum's 16 KiB reads."""
    expected = metadata()["b2sum"]
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        out = vm.command_output("b2sum " + " ".join(expected), timeout=120)
        got = dict(reversed(line.split("  ", 1)) for line in out.splitlines() if "  /lib/test/" in line)
        for path, digest in expected.items():
            check(got.get(path) == digest, f"{path}: {got.get(path)} != {digest}\n{out}", vm)
        out = vm.command_output("b2sum /lib/test/no-such-file")
        check("b2sum: cannot open '/lib/test/no-such-file'" in out and "ENOENT" in out, out, vm)


@case(arches=ALL_ARCHES)
def unsigned_and_unknown_key_permissive():
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        out = insmod(vm, "/lib/test/hello-unsigned.kmod")
        check("signature and/or required key missing - tainting kernel" in out and "hello: loaded" in out, out, vm)
        lsmod = vm.command_output("lsmod")
        check(re.search(r"^hello .*\(E\)$", lsmod, re.M) and "Tainted: E" in lsmod, f"taint E: {lsmod}", vm)
        vm.command_output("rmmod hello")
        out = insmod(vm, "/lib/test/hello-unknown-key.kmod")
        check(f"signed by key {metadata()['unknown_key_id']}, which is not trusted" in out, out, vm)


@case(arches=ALL_ARCHES)
def enforcement_refuses_unsigned_and_unknown():
    with boot("panic=-1 module.sig_enforce=1", initrd=TEST_INITRAMFS) as vm:
        refused(vm, "/lib/test/hello-unsigned.kmod", "unsigned module (module.sig_enforce is on)", "EKEYREJECTED")
        refused(vm, "/lib/test/hello-unknown-key.kmod", "not trusted", "ENOKEY")
        refused(vm, "/lib/test/hello-vendor.kmod", "not trusted", "ENOKEY")
        for name in TAMPERED:
            refused(vm, f"/lib/test/{name}.kmod", "module verification failed")
        out = insmod(vm, "hello")
        check("hello: loaded" in out, f"a signed module under enforcement: {out}", vm)
        # Two signatures, one by an unknown vendor: one trusted signature suffices.
        vm.command_output("rmmod hello")
        out = insmod(vm, "/lib/test/hello-two-signatures.kmod")
        check("hello: loaded" in out, f"two signatures: {out}", vm)
        check("Not tainted" in vm.command_output("lsmod"), "enforced loads tainted the kernel", vm)


@case(arches=ALL_ARCHES)
def sha512_signed_module_loads_under_enforcement():
    # Modules signed before BLAKE2b (record algorithm 1, SHA-512 image
    # digest; kmod-sign --digest sha512) keep loading.
    with boot("panic=-1 module.sig_enforce=1", initrd=TEST_INITRAMFS) as vm:
        out = vm.command_output("modinfo /lib/test/hello-sha512.kmod")
        check("valid (1 signature(s); Ed25519, SHA-512 image digest)" in out, f"modinfo: {out}", vm)
        out = vm.command_output("modinfo hello")
        check("valid (1 signature(s); Ed25519, BLAKE2b-512 image digest)" in out, f"modinfo: {out}", vm)
        out = insmod(vm, "/lib/test/hello-sha512.kmod")
        check("hello: loaded" in out, f"a SHA-512-signed module under enforcement: {out}", vm)
        check("Not tainted" in vm.command_output("lsmod"), "a SHA-512-signed module tainted the kernel", vm)


@case(arches=ALL_ARCHES)
def vendor_key_needs_endorsement():
    meta = metadata()
    with boot("panic=-1 module.sig_enforce=1", initrd=TEST_INITRAMFS) as vm:
        refused(vm, "/lib/test/hello-vendor.kmod", "ENOKEY")
        out = vm.command_output("keyctl add /lib/test/vendor-bad.endorsement")
        check("endorsement rejected" in out, f"an endorsement by an untrusted key: {out}", vm)
        out = vm.command_output("keyctl add /lib/test/vendor.endorsement")
        check(f"added key {meta['vendor_key_id']}" in out, f"keyctl add: {out}", vm)
        out = vm.command_output("keyctl add /lib/test/vendor.pub.pem")
        check("this is a PEM key, not an endorsement" in out and "kmod-sign endorse" in out, f"a PEM key: {out}", vm)
        keys = vm.command_output("keyctl list")
        check(re.search(rf"^{meta['build_key_id']}\s+built-in\s+trusted", keys, re.M), f"built-in key: {keys}", vm)
        check("Example Vendor  (from keyctl add /lib/test/vendor.endorsement)" in keys,
              f"where it came from: {keys}", vm)
        check(re.search(rf"^{meta['vendor_key_id']}\s+secondary\s+trusted\s+{meta['build_key_id']}\s+Example Vendor",
                        keys, re.M), f"the vendor key and who endorsed it: {keys}", vm)
        out = insmod(vm, "/lib/test/hello-vendor.kmod")
        check("hello: loaded" in out, f"vendor-signed module after endorsement: {out}", vm)
        check("Example Vendor" in vm.command_output("modinfo hello"), "modinfo does not name the vendor signer", vm)
        vm.command_output("rmmod hello")
        # Blocking the vendor key: its modules are refused again; the key stays listed.
        vm.command_output(f"keyctl block {meta['vendor_key_id']}")
        refused(vm, "/lib/test/hello-vendor.kmod", f"signed by blocked key {meta['vendor_key_id']}", "EKEYREJECTED")
        keys = vm.command_output("keyctl list")
        check(re.search(rf"^{meta['vendor_key_id']}\s+secondary\s+blocked", keys, re.M), f"blocked key: {keys}", vm)


@case(arches=ALL_ARCHES)
def blocked_module_digest_is_refused():
    meta = metadata()
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        vm.command_output(f"keyctl block-module {meta['hello_digest']}")
        refused(vm, "hello", "digest is blocklisted", "EKEYREJECTED")
        refused(vm, "/lib/test/hello-unsigned.kmod", "digest is blocklisted", "EKEYREJECTED")
        # The same image signed by another (untrusted) key is still the blocked module.
        refused(vm, "/lib/test/hello-unknown-key.kmod", "digest is blocklisted", "EKEYREJECTED")
        refused(vm, "/lib/test/hello-vendor.kmod", "digest is blocklisted", "EKEYREJECTED")
        # Blocklist entries are BLAKE2b-512 digests: the same image signed by
        # a trusted key with a SHA-512 digest is hashed again and refused.
        refused(vm, "/lib/test/hello-sha512.kmod", "digest is blocklisted", "EKEYREJECTED")
        check("valid, but blocklisted" in vm.command_output("modinfo /lib/test/hello-sha512.kmod"),
              "modinfo does not report the blocklisted SHA-512-signed module", vm)
        out = insmod(vm, "hello_cpp")
        check("hello_cpp: loaded" in out, f"another module is unaffected: {out}", vm)
        out = vm.command_output("keyctl block-module 1234")
        check("128 hex digits" in out, f"bad digest: {out}", vm)


@case(arches=ALL_ARCHES)
def the_kernels_own_tmpfs_is_trusted_by_its_digest():
    # known_modules=['tmpfs']: the build embeds the digest of tmpfs's image,
    # and an image with that digest needs no trusted key, even under
    # enforcement. Verification comes before parsing, so a trusted image
    # gets as far as "already loaded", a refused one does not.
    meta = metadata()
    with boot("panic=-1 module.sig_enforce=1", initrd=TEST_INITRAMFS) as vm:
        info = vm.command_output("modinfo /lib/modules/tmpfs.kmod")
        check("known to the kernel by digest" in info, f"modinfo of the boot's tmpfs: {info}", vm)
        check("known to the kernel" not in vm.command_output("modinfo hello"), "hello is not a known module", vm)
        refused(vm, "/lib/test/tmpfs-unknown-key.kmod", "a module of that name is already loaded", "EEXIST")
        info = vm.command_output("modinfo /lib/test/tmpfs-unknown-key.kmod")
        check("known to the kernel by digest; signature not trusted" in info, f"modinfo: {info}", vm)
        # One byte changed: a stranger, and its key is not trusted.
        refused(vm, "/lib/test/tmpfs-changed-unknown-key.kmod", "not trusted", "ENOKEY")
        refused(vm, "/lib/test/hello-unknown-key.kmod", "not trusted", "ENOKEY")
        # kmodinfo --check-against decides the same from the core's manifest.
        for name, word in (("tmpfs-unknown-key", "ok       known to the core by digest (its build's tmpfs)"),
                           ("tmpfs-changed-unknown-key", "which is not trusted")):
            host = subprocess.run([KMODINFO, "--check-against", CORE, "--sig-enforce",
                                   os.path.join(BUILD, "tests", "modules", "work", name + ".kmod")],
                                  capture_output=True, text=True)
            check(word in host.stdout, f"kmodinfo --check-against on {name}: {host.stdout}{host.stderr}", vm)
        # The digest blocklist still applies to a known image.
        vm.command_output(f"keyctl block-module {meta['tmpfs_digest']}")
        refused(vm, "/lib/test/tmpfs-unknown-key.kmod", "digest is blocklisted", "EKEYREJECTED")
        info = vm.command_output("modinfo /lib/test/tmpfs-unknown-key.kmod")
        check("known to the kernel" not in info, f"modinfo of a blocked known image: {info}", vm)


@case(arches=ALL_ARCHES)
def build_option_enforcement_cannot_be_turned_off():
    # keel-enforce: the same core built with sig_enforce=true.
    kernel = kernel_path(BUILD, ARCH, "keel-enforce")
    with boot("panic=-1 module.sig_enforce=0", initrd=TEST_INITRAMFS, kernel=kernel) as vm:
        refused(vm, "/lib/test/hello-unsigned.kmod", "unsigned module", "EKEYREJECTED")
        # Its built-in blocklist holds the test key.
        refused(vm, "/lib/test/hello-blocked-key.kmod", f"signed by blocked key {metadata()['blocked_test_key_id']}",
                "EKEYREJECTED")
        check("1 blocked key id(s)" in vm.command_output("dmesg"), "the built-in blocklist is not reported", vm)
        out = insmod(vm, "hello")
        check("hello: loaded" in out, f"a signed module: {out}", vm)


@case(arches=ALL_ARCHES)
def vendor_keys_at_boot_before_modules_load():
    # Issue 17: an endorsement named by module.keys= is trusted from boot
    # on, before modules_load=, so a vendor module loads at boot under
    # enforcement with no console step.
    meta = metadata()
    with boot("panic=-1 module.sig_enforce=1 module.keys=/lib/test/vendor.endorsement,/lib/test/vendor.pub.pem "
              "modules_load=/lib/test/hello-vendor.kmod", initrd=TEST_INITRAMFS) as vm:
        check("hello, world" in vm.output, "the vendor module did not load at boot", vm)
        check("this is a PEM key, not an endorsement" in vm.output, "a PEM key on module.keys= is not explained", vm)
        keys = vm.command_output("keyctl list")
        check(re.search(rf"^{meta['vendor_key_id']}\s+secondary\s+trusted\s+{meta['build_key_id']}\s+Example Vendor"
                        r"\s+\(from module\.keys= /lib/test/vendor\.endorsement\)", keys, re.M),
              f"keyctl list: {keys}", vm)
