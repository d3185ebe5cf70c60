#!/usr/bin/env python3
"""kmodpost end to end on modules linked against the stub libkeel.so:
the .keel_kabi section it appends (docs/module-format.md), that nothing
allocated moves, idempotence, and its errors on bad input.

Usage: test_kmodpost.py KMODPOST SYMVERS MODULE...
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts"))
from keel import elf  # noqa: E402

KMODPOST, SYMVERS, MODULES = sys.argv[1], sys.argv[2], sys.argv[3:]


def load_symvers(path):
    entries = {}
    with open(path) as file:
        for line in file:
            hash_, name, node = line.split()
            entries[(name, node)] = int(hash_, 16)
    return entries


def run(*args):
    return subprocess.run([KMODPOST, *args], capture_output=True, text=True)


def allocated_bytes(image):
    """Program headers and every allocated section's bytes: what the loader
    maps, which kmodpost must not change."""
    result = [image.segments]
    for section in image.sections:
        if section.flags & elf.SHF_ALLOC and section.type != elf.SHT_NOBITS:
            result.append((section.name, image.contents(section)))
    return result


class KmodpostTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="kmodpost-test.")
        self.symvers = load_symvers(SYMVERS)

    def tearDown(self):
        shutil.rmtree(self.directory)

    def path(self, name):
        return os.path.join(self.directory, name)

    def test_records_every_import_with_its_hash(self):
        for module in MODULES:
            with self.subTest(module=module):
                out = self.path("out.kmod")
                result = run("--symvers", SYMVERS, "-o", out, module)
                self.assertEqual(result.returncode, 0, result.stderr)
                before, after = elf.read(module), elf.read(out)
                imports = sorted(
                    (symbol.name, symbol.version)
                    for symbol in before.dynamic_symbols()
                    if not symbol.defined and symbol.version
                )
                self.assertTrue(imports)
                entries = elf.parse_keel_kabi(after.section_bytes(".keel_kabi"))
                self.assertEqual([(name, node) for _, name, node in entries], imports)
                for hash_, name, node in entries:
                    self.assertEqual(hash_, self.symvers[(name, node)], f"{name}@{node}")
                section = after.section(".keel_kabi")
                self.assertEqual(section.flags, 0, ".keel_kabi must not be allocated")
                self.assertEqual(allocated_bytes(before), allocated_bytes(after))
                # Every original section is still there, in place.
                self.assertEqual([s.name for s in after.sections[: len(before.sections)]],
                                 [s.name for s in before.sections])

    def test_in_place_and_again_is_identical(self):
        module = self.path("m.kmod")
        shutil.copy(MODULES[0], module)
        self.assertEqual(run("--symvers", SYMVERS, module).returncode, 0)
        with open(module, "rb") as file:
            first = file.read()
        result = run("--symvers", SYMVERS, module)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(module, "rb") as file:
            self.assertEqual(file.read(), first)

    def test_unknown_symbol_is_named(self):
        partial = self.path("partial.symvers")
        with open(SYMVERS) as source, open(partial, "w") as target:
            for line in source:
                if " keel_logf " not in line:
                    target.write(line)
        result = run("--symvers", partial, "-o", self.path("x.kmod"), MODULES[0])
        self.assertEqual(result.returncode, 1)
        self.assertIn("keel_logf@KABI_CORE_1.0", result.stderr)
        self.assertFalse(os.path.exists(self.path("x.kmod")))

    def test_several_symvers_files(self):
        first, second = self.path("a.symvers"), self.path("b.symvers")
        with open(SYMVERS) as source:
            lines = source.readlines()
        with open(first, "w") as file:
            file.writelines(lines[::2])
        with open(second, "w") as file:
            file.writelines(lines[1::2])
        result = run("--symvers", first, "--symvers", second, "-o", self.path("x.kmod"), MODULES[0])
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_conflicting_symvers(self):
        bad = self.path("bad.symvers")
        with open(SYMVERS) as source:
            line = source.readline()
        hash_, name, node = line.split()
        with open(bad, "w") as file:
            file.write(f"0x{int(hash_, 16) ^ 1:016x} {name} {node}\n")
        result = run("--symvers", SYMVERS, "--symvers", bad, "-o", self.path("x.kmod"), MODULES[0])
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"{name}@{node} has hash", result.stderr)

    def test_malformed_symvers(self):
        bad = self.path("bad.symvers")
        with open(bad, "w") as file:
            file.write("0x12 keel_log KABI_CORE_1.0\n")
        result = run("--symvers", bad, "-o", self.path("x.kmod"), MODULES[0])
        self.assertEqual(result.returncode, 1)
        self.assertIn("bad.symvers:1: hash '0x12'", result.stderr)

    def test_bad_modules_are_refused_with_a_reason(self):
        with open(MODULES[0], "rb") as file:
            good = file.read()
        cases = {
            "garbage": (b"this is not an ELF file at all" * 10, "bad magic"),
            "empty": (b"", "smaller than an ELF64 header"),
            "truncated": (good[:200], "outside the file"),
            "signed": (good + b"~Module signature appended~\n", "run kmodpost before kmod-sign"),
            "bad shstrndx": (good[:62] + b"\xff\x7f" + good[64:], "e_shstrndx"),
            "not x86_64": (good[:18] + b"\x03\x00" + good[20:], "e_machine 3"),
        }
        for name, (data, message) in cases.items():
            with self.subTest(case=name):
                module = self.path("bad.kmod")
                with open(module, "wb") as file:
                    file.write(data)
                result = run("--symvers", SYMVERS, "-o", self.path("out.kmod"), module)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn(message, result.stderr)
                self.assertFalse(os.path.exists(self.path("out.kmod")))

    def test_usage(self):
        self.assertEqual(run().returncode, 2)
        self.assertEqual(run(MODULES[0]).returncode, 2)
        self.assertEqual(run("--symvers", SYMVERS).returncode, 2)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
