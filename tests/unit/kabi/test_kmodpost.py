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


ABI_DIR = os.path.dirname(os.path.abspath(SYMVERS))  # build/abi: libkeel.so, include/
KEEL_ABI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts", "abi", "keel-abi.py")
INTERFACE = """
[abi]
format = 1
soname = "exporter.kmod"
symbol_prefix = "acme_"
node_prefix = "ACME"
[[interfaces]]
name = "count"
doc = "Counting."
[[nodes]]
name = "ACME_COUNT_1.0"
interface = "count"
doc = "First."
[[groups]]
name = "count"
doc = "Counting."
[[functions]]
name = "acme_count_add"
node = "ACME_COUNT_1.0"
group = "count"
returns = "int64_t"
params = [{ name = "amount", type = "PARAM" }]
doc = "Adds."
"""
EXPORTER = """#include <keel/module.h>
#include "exporter.h"
KEEL_MODULE_NAME("exporter");
KEEL_MODULE_LICENSE("MIT");
static int64_t total;
KEEL_EXPORT int64_t acme_count_add(PARAM amount) { return total += (int64_t)amount; }
static int exporter_init(void) { return 0; }
KEEL_MODULE_INIT(exporter_init);
"""


class ModuleInterfaceTest(unittest.TestCase):
    """Exports described in the ABI description language (docs/sdk.md):
    kmodpost --exports records their hashes and declarations; a version
    script that hides the entry points is refused."""

    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="kmodpost-interface.")

    def tearDown(self):
        shutil.rmtree(self.directory)

    def path(self, name):
        return os.path.join(self.directory, name)

    def generate(self, param):
        with open(self.path("exporter.toml"), "w") as f:
            f.write(INTERFACE.replace("PARAM", param))
        outputs = (("header", "exporter.h"), ("version-script", "exporter.map"), ("symvers", "exporter.symvers"))
        for kind, name in outputs:
            subprocess.run([sys.executable, KEEL_ABI, kind, "--description", self.path("exporter.toml"),
                            "--output", self.path(name)], check=True)

    def link(self, source, name, version_script, *inputs):
        with open(self.path(name + ".c"), "w") as f:
            f.write(source)
        subprocess.run(["clang", "--target=x86_64-unknown-none-elf", "-ffreestanding", "-fPIC", "-fvisibility=hidden",
                        "-mno-red-zone", "-I", os.path.join(ABI_DIR, "include"), "-I", self.directory, "-c",
                        self.path(name + ".c"), "-o", self.path(name + ".o")], check=True)
        command = ["ld.lld", "-shared", "-nostdlib", "-z", "now", "-soname", name + ".kmod", "-o",
                   self.path(name + ".linked"), self.path(name + ".o"), os.path.join(ABI_DIR, "libkeel.so"), *inputs]
        if version_script:
            command.append("--version-script=" + version_script)
        subprocess.run(command, check=True)
        return self.path(name + ".linked")

    def test_exports_and_declarations_are_recorded(self):
        self.generate("uint64_t")
        linked = self.link(EXPORTER.replace("PARAM", "uint64_t"), "exporter", self.path("exporter.map"))
        out = self.path("exporter.kmod")
        result = run("--symvers", SYMVERS, "--exports", self.path("exporter.symvers"), "-o", out, linked)
        self.assertEqual(result.returncode, 0, result.stderr)
        image = elf.Elf(open(out, "rb").read())
        names = {section.name for section in image.sections}
        self.assertTrue({".keel_kabi", ".keel_exports", ".keel_decls"} <= names, names)
        with open(self.path("exporter.symvers")) as f:
            hash_ = int(f.read().split()[0], 16)
        exports = image.contents(next(s for s in image.sections if s.name == ".keel_exports"))
        self.assertIn(hash_.to_bytes(8, "little"), exports)
        decls = image.contents(next(s for s in image.sections if s.name == ".keel_decls"))
        self.assertIn(b"acme_count_add@ACME_COUNT_1.0\0function acme_count_add(uint64_t)->int64_t\0", decls)
        # An importer records the exporter's hash and declaration.
        importer = self.link('#include <keel/module.h>\n#include "exporter.h"\nKEEL_MODULE_NAME("importer");\n'
                             'KEEL_MODULE_LICENSE("MIT");\nstatic int importer_init(void) '
                             '{ return (int)acme_count_add(1) - 1; }\nKEEL_MODULE_INIT(importer_init);\n',
                             "importer", None, out)
        result = run("--symvers", SYMVERS, "--symvers", self.path("exporter.symvers"), "-o", self.path("i.kmod"),
                     importer)
        self.assertEqual(result.returncode, 0, result.stderr)
        image = elf.Elf(open(self.path("i.kmod"), "rb").read())
        kabi = image.contents(next(s for s in image.sections if s.name == ".keel_kabi"))
        self.assertIn(hash_.to_bytes(8, "little"), kabi)

    def test_an_export_the_module_lacks_is_refused(self):
        self.generate("uint64_t")
        source = EXPORTER.replace("PARAM", "uint64_t")
        source = source.replace("KEEL_EXPORT int64_t acme_count_add", "KEEL_EXPORT int64_t acme_count_other")
        linked = self.link(source, "exporter", None)
        result = run("--symvers", SYMVERS, "--exports", self.path("exporter.symvers"), "-o", self.path("o"), linked)
        self.assertEqual(result.returncode, 1)
        self.assertIn("acme_count_add@ACME_COUNT_1.0 is in", result.stderr)
        self.assertIn("does not export it at that node", result.stderr)

    def test_hidden_entry_points_are_refused(self):
        self.generate("uint64_t")
        with open(self.path("hiding.map"), "w") as f:
            f.write("ACME_COUNT_1.0 { global: acme_count_add; local: *; };\n")
        linked = self.link(EXPORTER.replace("PARAM", "uint64_t"), "exporter", self.path("hiding.map"))
        result = run("--symvers", SYMVERS, "-o", self.path("o"), linked)
        self.assertEqual(result.returncode, 1)
        self.assertIn("keel_module_init is defined but not exported", result.stderr)
        self.assertIn("List keel_module_init; keel_module_exit; keel_param_*; under global:", result.stderr)
        # The generated version script keeps them.
        linked = self.link(EXPORTER.replace("PARAM", "uint64_t"), "exporter", self.path("exporter.map"))
        self.assertEqual(run("--symvers", SYMVERS, "-o", self.path("o"), linked).returncode, 0)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
