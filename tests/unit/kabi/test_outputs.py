#!/usr/bin/env python3
"""Checks the generated link-time outputs and modules built with them:
the stub libkeel.so defines every export at its node (readelf -V, in
Python), carries keel.symvers in .keel_symvers; each module's imports are
versioned and known, its modinfo notes and parameters follow
docs/module-format.md.

Usage: test_outputs.py LIBKEEL_SO SYMVERS MODULE...
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts"))
from keel import elf  # noqa: E402

STUB, SYMVERS, MODULES = sys.argv[1], sys.argv[2], sys.argv[3:]
PARAM_SIZES = {"bool": 1, "int": 8, "uint": 8}


def symvers():
    with open(SYMVERS) as file:
        return [tuple(line.split()) for line in file if line.strip()]


def notes(image):
    """(name, type, descriptor) of every note in .note.keel."""
    return elf.notes(image.section_bytes(".note.keel"))


class StubTest(unittest.TestCase):
    def test_every_export_is_defined_at_its_node(self):
        image = elf.read(STUB)
        definitions = set(image.version_definitions().values())
        defined = {(s.name, s.version): s for s in image.dynamic_symbols() if s.defined}
        entries = symvers()
        self.assertTrue(entries)
        for _hash, name, node in entries:
            self.assertIn(node, definitions)
            self.assertIn((name, node), defined, f"{name}@{node} missing from the stub")
        self.assertEqual(len(defined), len(entries), "the stub exports something keel.symvers does not list")
        self.assertIn("libkeel.so", definitions)  # the base definition names the soname

    def test_symvers_rides_along(self):
        with open(SYMVERS, "rb") as file:
            self.assertEqual(elf.read(STUB).section_bytes(".keel_symvers"), file.read())


class ModuleTest(unittest.TestCase):
    def test_imports_are_versioned_and_known(self):
        known = {(name, node) for _hash, name, node in symvers()}
        for module in MODULES:
            with self.subTest(module=module):
                image = elf.read(module)
                imports = [s for s in image.dynamic_symbols() if not s.defined]
                self.assertTrue(imports)
                for symbol in imports:
                    self.assertIn((symbol.name, symbol.version), known, f"{symbol.name}@{symbol.version}")
                needs = {file for _node, file in image.version_needs().values()}
                self.assertEqual(needs, {"libkeel.so"})

    def test_modinfo_and_parameters(self):
        for module in MODULES:
            with self.subTest(module=module):
                image = elf.read(module)
                section = image.section(".note.keel")
                self.assertIsNotNone(section)
                self.assertEqual(section.type, 7, ".note.keel must be SHT_NOTE")
                self.assertTrue(section.flags & 2, ".note.keel must be allocated (in a PT_NOTE segment)")
                info = {}
                parms = []
                for name, type_, desc in notes(image):
                    self.assertEqual(name, b"Keel\0")
                    self.assertEqual(type_, 1)
                    self.assertTrue(desc.endswith(b"\0") and desc.count(b"\0") == 1, desc)
                    key, _, value = desc[:-1].decode().partition("=")
                    if key == "parm":
                        parms.append(value)
                    else:
                        self.assertNotIn(key, info, f"{key} given twice")
                        info[key] = value
                self.assertEqual(info["modinfo_version"], "1")
                self.assertRegex(info["name"], r"^[a-z0-9_]{1,55}$")
                self.assertEqual(info["license"], "MIT")
                exported = {s.name: s for s in image.dynamic_symbols() if s.defined}
                self.assertIn("keel_module_init", exported)
                symbols_by_name = {s.name: s.size for s in image.dynamic_symbols()}
                self.assertTrue(parms)
                for parm in parms:
                    name, type_, description = parm.split(":", 2)
                    self.assertTrue(description)
                    symbol = f"keel_param_{name}"
                    self.assertIn(symbol, exported)
                    if type_ == "string":
                        self.assertGreater(symbols_by_name[symbol], 1)
                    else:
                        self.assertEqual(symbols_by_name[symbol], PARAM_SIZES[type_], symbol)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
