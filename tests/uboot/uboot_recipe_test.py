#!/usr/bin/env python3
"""The project's U-Boot as scripts/build-uboot.py caches it: the build for
the current inputs exists (scripts/build makes it) and its configuration
holds every setting of arch/aarch64/uboot/keel_defconfig.fragment (legacy
images off, signatures on, the boot command, nothing probed); the cache
key changes with each input; the fragment check sees a dropped setting;
firmware() appends the tree after the image and refuses an image whose
length would misalign it."""

import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from keel import machine, uboot  # noqa: E402


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def test_cached_build_has_the_fragment():
    binary = uboot.built()
    config = os.path.join(os.path.dirname(binary), "config")
    check(uboot.config_mismatches(config) == [], f"{config}: {uboot.config_mismatches(config)}")
    settings = uboot.parse_config(config)
    for name, value in (("CONFIG_LEGACY_IMAGE_FORMAT", "n"), ("CONFIG_FIT_SIGNATURE", "y"),
                        ("CONFIG_OF_SEPARATE", "y"), ("CONFIG_ENV_IS_NOWHERE", "y"), ("CONFIG_BOOTDELAY", "-2"),
                        ("CONFIG_PCI", "n"), ("CONFIG_NET", "n"), ("CONFIG_DISTRO_DEFAULTS", "n")):
        check(settings.get(name, "n") == value, f"{name}: {settings.get(name, 'n')}, not {value}")
    # The boot command is the one machine.py's Debian environment holds, then poweroff.
    check(settings["CONFIG_BOOTCOMMAND"] == f'"{machine.UBOOT_BOOT}; poweroff"',
          f"CONFIG_BOOTCOMMAND {settings['CONFIG_BOOTCOMMAND']} is not machine.UBOOT_BOOT's")
    check(os.path.getsize(binary) % uboot.DTB_ALIGN == 0, f"{binary}: misaligned length")


def test_key_follows_inputs():
    values = uboot.inputs()
    base = uboot.key(values)
    check(uboot.key(dict(values)) == base, "the same inputs gave another key")
    for name in values:
        changed = dict(values, **{name: values[name] + "x"})
        check(uboot.key(changed) != base, f"changing {name} kept the key")


def test_mismatch_seen():
    with tempfile.TemporaryDirectory() as scratch:
        fragment = os.path.join(scratch, "fragment")
        config = os.path.join(scratch, "config")
        with open(fragment, "w") as handle:
            handle.write("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"x y\"\n# a comment\n")
        with open(config, "w") as handle:
            handle.write("CONFIG_A=y\nCONFIG_C=\"x y\"\n")
        check(uboot.config_mismatches(config, fragment) == [], "a matching configuration was refused")
        with open(config, "w") as handle:
            handle.write("CONFIG_B=y\n# CONFIG_A is not set\n")
        check(sorted(uboot.config_mismatches(config, fragment)) ==
              [("CONFIG_A", "y", "n"), ("CONFIG_B", "n", "y"), ("CONFIG_C", '"x y"', "n")],
              f"mismatches: {uboot.config_mismatches(config, fragment)}")


def test_firmware_appends_the_tree():
    with tempfile.TemporaryDirectory() as scratch:
        image, tree, output = (os.path.join(scratch, name) for name in ("image", "tree", "output"))
        with open(image, "wb") as handle:
            handle.write(b"\x01" * 64)
        with open(tree, "wb") as handle:
            handle.write(b"\xd0\x0d\xfe\xed" + b"\0" * 12)
        uboot.firmware(image, tree, output)
        with open(output, "rb") as handle:
            check(handle.read() == b"\x01" * 64 + b"\xd0\x0d\xfe\xed" + b"\0" * 12, "not image then tree")
        with open(image, "wb") as handle:
            handle.write(b"\x01" * 60)
        try:
            uboot.firmware(image, tree, output)
            raise Failure("a 60-byte image was taken: the tree would be misaligned")
        except RuntimeError as error:
            check("not a multiple of 8" in str(error), f"the refusal: {error}")


def main():
    tests = [test_cached_build_has_the_fragment, test_key_follows_inputs, test_mismatch_seen,
             test_firmware_appends_the_tree]
    failed = 0
    for test in tests:
        try:
            test()
            print(f"ok {test.__name__}")
        except (Failure, uboot.NotBuilt) as error:
            failed += 1
            print(f"FAIL {test.__name__}: {error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
