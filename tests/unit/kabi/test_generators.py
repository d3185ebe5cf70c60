#!/usr/bin/env python3
"""The ABI description model and generators: what changes a symbol's hash
and what does not, validation messages, --node-limit, and the glibc-style
compatibility scheme end to end (compat.toml: a stub with sym@NODE and
sym@@NODE, and a module that binds to the default).

Usage: test_generators.py DESCRIPTION COMPAT_DESCRIPTION CLANG
"""

import copy
import os
import subprocess
import sys
import tempfile
import tomllib
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "..", "..", "..", "scripts")
sys.path[:0] = [os.path.join(SCRIPTS, "abi"), SCRIPTS]
from keel import elf  # noqa: E402
from keelabi import gen_c, gen_kernel, gen_link, gen_rust, model  # noqa: E402

DESCRIPTION, COMPAT, CLANG = sys.argv[1:4]
TOOL = os.path.join(HERE, "..", "..", "..", "scripts", "abi", "keel-abi.py")


def raw(path):
    with open(path, "rb") as file:
        return tomllib.load(file)


def hashes(data):
    return {f.versioned_name: f.hash for f in model.build(copy.deepcopy(data)).functions}


def function(data, name):
    return next(f for f in data["functions"] if f["name"] == name)


def errno(data, name):
    return next(e for e in data["errors"] if e["name"] == name)


def typedef(data, name):
    return next(t for t in data["types"] if t["name"] == name)


class HashTest(unittest.TestCase):
    def setUp(self):
        self.data = raw(DESCRIPTION)
        self.base = hashes(self.data)

    def changed(self):
        after = hashes(self.data)
        return {name for name in self.base if after.get(name) != self.base[name]}

    def test_stable(self):
        self.assertEqual(hashes(self.data), self.base)
        # Golden value: the canonical string and its hash are part of the
        # ABI contract (docs/abi.md); this catches an accidental change to
        # the hash definition itself.
        free = next(f for f in model.build(self.data).functions if f.name == "keel_free")
        self.assertEqual(free.canonical, "function keel_free(ptr(void))->void")
        self.assertEqual(free.hash,
                         int.from_bytes(__import__("hashlib").sha256(free.canonical.encode()).digest()[:8], "big"))

    def test_parameter_type_changes_the_hash(self):
        function(self.data, "keel_sleep_ns")["params"][0]["type"] = "uint32_t"
        self.assertEqual(self.changed(), {"keel_sleep_ns@KABI_CORE_1.0"})

    def test_return_type_changes_the_hash(self):
        function(self.data, "keel_monotonic_ns")["returns"] = "int64_t"
        self.assertEqual(self.changed(), {"keel_monotonic_ns@KABI_CORE_1.0"})

    def test_parameter_name_and_docs_do_not(self):
        function(self.data, "keel_sleep_ns")["params"][0]["name"] = "nanoseconds"
        function(self.data, "keel_sleep_ns")["doc"] = "Reworded."
        typedef(self.data, "keel_spinlock")["doc"] = "Reworded."
        typedef(self.data, "keel_spinlock")["fields"][0]["doc"] = "Reworded."
        self.assertEqual(self.changed(), set())

    def test_struct_field_order_reaches_every_user(self):
        fields = typedef(self.data, "keel_spinlock")["fields"]
        fields.reverse()
        self.assertEqual(self.changed(), {"keel_spin_lock@KABI_CORE_1.0", "keel_spin_unlock@KABI_CORE_1.0"})

    def test_struct_field_type_changes_layout_and_hash(self):
        typedef(self.data, "keel_spinlock")["fields"][1]["type"] = "uint64_t"
        abi = model.build(copy.deepcopy(self.data))
        self.assertEqual(abi.types["keel_spinlock"].size, 16)
        self.assertEqual(self.changed(), {"keel_spin_lock@KABI_CORE_1.0", "keel_spin_unlock@KABI_CORE_1.0"})

    def test_enum_value_changes_the_hash(self):
        typedef(self.data, "keel_log_level")["values"][3]["value"] = 30
        self.assertEqual(self.changed(), {"keel_log@KABI_CORE_1.0", "keel_logf@KABI_CORE_1.0"})

    def test_function_pointer_signature_changes_the_hash(self):
        typedef(self.data, "keel_thread_fn")["returns"] = "int64_t"
        self.assertEqual(self.changed(), {"keel_thread_create@KABI_CORE_1.0"})

    def test_pointer_depth_and_constness_change_the_hash(self):
        function(self.data, "keel_log")["params"][1]["type"] = "char*"
        function(self.data, "keel_mutex_create")["params"][0]["type"] = "keel_mutex*"
        self.assertEqual(self.changed(), {"keel_log@KABI_CORE_1.0", "keel_mutex_create@KABI_CORE_1.0"})

    def test_variadic_changes_the_hash(self):
        function(self.data, "keel_logf")["variadic"] = False
        function(self.data, "keel_logf").pop("printf_format")
        self.assertEqual(self.changed(), {"keel_logf@KABI_CORE_1.0"})


class ValidationTest(unittest.TestCase):
    def error(self, mutate):
        data = raw(DESCRIPTION)
        mutate(data)
        with self.assertRaises(model.AbiError) as context:
            model.build(data, "keel.toml")
        return str(context.exception)

    def test_messages_name_the_field_and_value(self):
        cases = [
            (lambda d: function(d, "keel_log")["params"][0].update(type="keel_nothing"), "unknown type 'keel_nothing'"),
            (lambda d: function(d, "keel_log").update(node="KABI_CORE_9.0"), "unknown node 'KABI_CORE_9.0'"),
            (lambda d: function(d, "keel_log").pop("doc"), "missing field 'doc'"),
            (lambda d: function(d, "keel_log").update(doc=" "), "'doc' must not be empty"),
            (lambda d: function(d, "keel_log").update(colour="red"), "unknown field 'colour'"),
            (lambda d: function(d, "keel_log").update(name="log"), "must match keel_"),
            (lambda d: d["functions"].append(copy.deepcopy(function(d, "keel_log"))),
             "keel_log@KABI_CORE_1.0 is defined twice"),
            (lambda d: typedef(d, "keel_spinlock")["fields"][0].update(type="keel_mutex"), "opaque type 'keel_mutex'"),
            (lambda d: typedef(d, "keel_spinlock")["fields"][0].update(type="keel_spinlock"), "contains itself"),
            (lambda d: typedef(d, "keel_log_level")["values"][1].update(value=0),
             "value 0 of KEEL_LOG_ALERT is used twice"),
            (lambda d: typedef(d, "keel_taint_flag")["values"][0].update(value=-1), "does not fit uint32_t"),
            (lambda d: function(d, "keel_log")["params"][1].update(type="const char**const*x"), "cannot parse type"),
            (lambda d: function(d, "keel_log")["params"][0].update(type="char"), "plain 'char'"),
            (lambda d: d["nodes"].append({"name": "KABI_CORE_0.9", "interface": "core", "doc": "x"}), "higher version"),
            (lambda d: d["abi"].update(format=2), "format = 2 is not supported"),
            (lambda d: function(d, "memcpy").update(name="strcpy"), "libc = true is only for"),
            (lambda d: function(d, "keel_log").update(printf_format=1), "printf_format = 1"),
            (lambda d: errno(d, "EINVAL").update(value=23), "errors[20] (ENFILE): value 23 is already EINVAL"),
            (lambda d: errno(d, "EINVAL").update(value=0), "value 0 is not an errno number (1..4095)"),
            (lambda d: errno(d, "EINVAL").update(name="Einval"), "errno name 'Einval' must be E and upper case"),
            (lambda d: errno(d, "EINVAL").update(doc='Invalid "argument".'), "must be one line"),
            (lambda d: d["constants"].append(
                {"name": "KEEL_EIO", "type": "int32_t", "value": 5, "group": "log", "doc": "x"}),
             "(EIO): name 'KEEL_EIO' is already used"),
        ]
        for mutate, message in cases:
            with self.subTest(message=message):
                self.assertIn(message, self.error(mutate))

    def test_bad_toml(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as file:
            file.write("[abi\n")
            file.flush()
            result = subprocess.run([sys.executable, TOOL, "check", "--description", file.name, "--output", "-"],
                                    capture_output=True, text=True)
            self.assertEqual(result.returncode, 1)
            self.assertIn("not valid TOML", result.stderr)


class ErrnoTest(unittest.TestCase):
    """One table, every language: the kernel's keel::Error, keel.h, keel_sys."""

    def test_every_output_has_every_errno(self):
        abi = model.load(DESCRIPTION)
        self.assertIn(("EINVAL", 22), [(e.name, e.value) for e in abi.errors])
        kernel = gen_kernel.generate_kernel_errno(abi)
        header = gen_c.generate_header(abi)
        rust = gen_rust.generate_sys(abi)
        for error in abi.errors:
            with self.subTest(errno=error.name):
                self.assertIn(f"    {error.name} = {error.value}, //", kernel)
                self.assertIn(f"#undef {error.name}\n", kernel)
                self.assertIn(f'X({error.name}, "{error.message}")', kernel)
                self.assertRegex(header, rf"#define KEEL_{error.name} +{error.value} +/\* ")
                self.assertIn(f'X({error.name}, {error.value}, "{error.message}")', header)
                self.assertIn(f"pub const KEEL_{error.name}: i32 = {error.value};", rust)
                self.assertIn(f'({error.name}, {error.value}, "{error.message}"),', rust)

    def test_errnos_change_no_hash(self):
        data = raw(DESCRIPTION)
        before = hashes(data)
        data["errors"].append({"name": "EHWPOISON", "value": 133, "doc": "Memory page has a hardware error."})
        errno(data, "EINVAL")["doc"] = "Another description."
        self.assertEqual(hashes(data), before)

    def test_old_descriptions_have_no_table(self):
        data = raw(DESCRIPTION)
        del data["errors"]
        abi = model.build(data)
        self.assertEqual(abi.errors, [])
        self.assertNotIn("KEEL_ERRNO_TABLE", gen_c.generate_header(abi))


class CompatTest(unittest.TestCase):
    def setUp(self):
        self.abi = model.load(COMPAT)
        self.directory = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.directory.cleanup()

    def path(self, name):
        return os.path.join(self.directory.name, name)

    def write(self, name, text):
        with open(self.path(name), "w") as file:
            file.write(text)
        return self.path(name)

    def test_default_and_compat_entries(self):
        entries = {f.versioned_name: f for f in self.abi.functions}
        self.assertFalse(entries["keel_test_get@KABI_TEST_1.0"].is_default)
        self.assertTrue(entries["keel_test_get@KABI_TEST_1.1"].is_default)
        self.assertNotEqual(entries["keel_test_get@KABI_TEST_1.0"].hash, entries["keel_test_get@KABI_TEST_1.1"].hash)
        header = gen_c.generate_header(self.abi)
        self.assertIn("int32_t keel_test_get(keel_test_pair* pair, size_t size);", header)
        self.assertEqual(header.count("keel_test_get("), 1)
        self.assertIn("int32_t keel_test_get_v1_0(keel_test_pair* pair);", gen_c.generate_impl_header(self.abi))
        self.assertIn("} KABI_TEST_1.0;", gen_link.generate_version_script(self.abi))
        exports = gen_kernel.generate_exports(self.abi)
        self.assertIn('{ "keel_test_get", "KABI_TEST_1.0"', exports)
        self.assertIn("&keel_test_get_v1_0", exports)
        self.assertIn("pub fn keel_test_get(pair: *mut keel_test_pair, size: usize) -> i32;",
                      gen_rust.generate_sys(self.abi))

    def test_node_limit_gives_the_old_sdk(self):
        old = model.load(COMPAT, ["KABI_TEST_1.0"])
        self.assertEqual([n.name for n in old.nodes], ["KABI_TEST_1.0", "KABI_OTHER_1.0"])
        get = [f for f in old.functions if f.name == "keel_test_get"]
        self.assertEqual(len(get), 1)
        self.assertTrue(get[0].is_default)
        self.assertIn("int32_t keel_test_get(keel_test_pair* pair);", gen_c.generate_header(old))
        with self.assertRaises(model.AbiError):
            model.load(COMPAT, ["KABI_TEST_7.0"])

    def test_headers_compile_as_c_and_cxx(self):
        include = self.path("include")
        os.makedirs(os.path.join(include, "keel"))
        with open(os.path.join(include, "keel", "keel.h"), "w") as file:
            file.write(gen_c.generate_header(self.abi))
        source = self.write("use.c", "#include <keel/keel.h>\n"
                                     "int f(keel_test_pair* p) { return keel_test_get(p, sizeof *p); }\n")
        for language, standard in (("c", "-std=c11"), ("c++", "-std=c++20")):
            with self.subTest(language=language):
                result = subprocess.run(
                    [CLANG, "-x", language, standard, "-pedantic", "-Wall", "-Wextra", "-Werror", "-ffreestanding",
                     "-I", include, "-c", source, "-o", self.path("use.o")],
                    capture_output=True, text=True,
                )
                self.assertEqual(result.returncode, 0, result.stderr)

    def test_stub_versions_and_module_binding(self):
        stub_c = self.write("stub.c", gen_link.generate_stub(self.abi))
        script = self.write("keel.map", gen_link.generate_version_script(self.abi))
        stub = self.path("libkeel.so")
        link = [CLANG, "-shared", "-fPIC", "-ffreestanding", "-nostdlib", "-fuse-ld=lld", "-Wall", "-Wextra", "-Werror"]
        result = subprocess.run(link + [f"-Wl,--version-script={script}", "-Wl,-soname,libkeel.so", "-o", stub, stub_c],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        symbols = {(s.name, s.version): s.default for s in elf.read(stub).dynamic_symbols() if s.defined}
        self.assertEqual(
            symbols,
            {
                ("keel_test_get", "KABI_TEST_1.0"): False,  # keel_test_get@KABI_TEST_1.0
                ("keel_test_get", "KABI_TEST_1.1"): True,  # keel_test_get@@KABI_TEST_1.1
                ("keel_test_plain", "KABI_TEST_1.0"): True,
                ("keel_other_call", "KABI_OTHER_1.0"): True,
            },
        )
        # A module linked now binds to the default (newest) version.
        module_c = self.write("m.c", "void keel_test_get(void); void keel_other_call(void);\n"
                                     "__attribute__((visibility(\"default\"))) void go(void)"
                                     " { keel_test_get(); keel_other_call(); }\n")
        module = self.path("m.kmod")
        result = subprocess.run(link + ["-fvisibility=hidden", "-o", module, module_c, stub],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        imports = {(s.name, s.version) for s in elf.read(module).dynamic_symbols() if not s.defined}
        self.assertEqual(imports, {("keel_test_get", "KABI_TEST_1.1"), ("keel_other_call", "KABI_OTHER_1.0")})


MODULE_INTERFACE = {
    "abi": {"format": 1, "soname": "vendor_c.kmod", "symbol_prefix": "acme_", "node_prefix": "ACME"},
    "interfaces": [{"name": "blocks", "doc": "Blocks."}],
    "nodes": [{"name": "ACME_BLOCKS_1.0", "interface": "blocks", "doc": "First."}],
    "groups": [{"name": "blocks", "doc": "Blocks."}],
    "types": [{"name": "acme_range", "kind": "struct", "group": "blocks", "doc": "A range.",
               "fields": [{"name": "first", "type": "uint64_t", "doc": "x"},
                          {"name": "count", "type": "uint32_t", "doc": "x"}]}],
    "functions": [{"name": "acme_blocks_sum", "node": "ACME_BLOCKS_1.0", "group": "blocks", "returns": "uint64_t",
                   "params": [{"name": "range", "type": "const acme_range*"}], "doc": "Sums."}],
}


class ModuleInterfaceTest(unittest.TestCase):
    """A module's own interface in the same language (docs/abi.md)."""

    def build(self, mutate=None):
        data = copy.deepcopy(MODULE_INTERFACE)
        if mutate:
            mutate(data)
        return model.build(data, "acme.toml")

    def test_outputs(self):
        abi = self.build()
        header = gen_c.generate_header(abi)
        self.assertIn("#ifndef ACME_VENDOR_C_H", header)
        self.assertIn('#define ACME_NODE_BLOCKS_1_0 "ACME_BLOCKS_1.0"', header)
        self.assertIn("uint64_t acme_blocks_sum(const acme_range* range);", header)
        script = gen_link.generate_version_script(abi)
        for name in ("acme_blocks_sum;", "keel_module_init;", "keel_module_exit;", "keel_param_*;", "local:"):
            self.assertIn(name, script)
        symvers = gen_link.generate_symvers(abi).split()
        self.assertEqual(symvers[1:4], ["acme_blocks_sum", "ACME_BLOCKS_1.0", "function"])
        self.assertIn("function acme_blocks_sum(ptr(const struct acme_range{", " ".join(symvers[3:]))
        rust = gen_rust.generate_sys(abi)
        self.assertNotIn("#[link(", rust)
        self.assertIn("pub fn acme_blocks_sum(range: *const acme_range) -> u64;", rust)
        # The hash follows the declaration, as the core's do.
        changed = self.build(lambda d: d["types"][0]["fields"][1].update(type="uint64_t"))
        self.assertNotEqual(abi.functions[0].hash, changed.functions[0].hash)

    def test_headers_compile_as_c_and_cxx(self):
        header = gen_c.generate_header(self.build())
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "vendor_c.h")
            with open(path, "w") as f:
                f.write(header)
            for compiler, language in (("clang", "c"), ("clang++", "c++")):
                result = subprocess.run([compiler, "-x", language, "-fsyntax-only", "-Wall", "-Wextra", "-Werror",
                                         "-pedantic", path], capture_output=True, text=True)
                self.assertEqual(result.returncode, 0, result.stderr)

    def test_rules(self):
        cases = [
            (lambda d: d["abi"].update(symbol_prefix="keel_"), "needs its own symbol_prefix"),
            (lambda d: d["abi"].update(node_prefix="KABI"), "keel_<interface>_ and KABI; any other has neither"),
            (lambda d: d["abi"].update(symbol_prefix="keel_blocks_"), "has both keel_<interface>_ and KABI"),
            (lambda d: d["abi"].update(soname="vendor_c.so"), "must be the module's file name"),
            (lambda d: d["abi"].update(symbol_prefix="Acme"), "symbol_prefix 'Acme'"),
            (lambda d: d["functions"][0].update(name="keel_blocks_sum"), "must match acme_[a-z0-9_]+"),
            (lambda d: d["nodes"][0].update(name="KABI_BLOCKS_1.0"), "must look like ACME_<INTERFACE>"),
            (lambda d: d.update(errors=[{"name": "EINVAL", "value": 22, "doc": "Invalid argument."}]),
             "[[errors]] belong to the core's description"),
        ]
        for mutate, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(model.AbiError) as context:
                    self.build(mutate)
                self.assertIn(message, str(context.exception))


OWNED_INTERFACE = {
    "abi": {"format": 1, "soname": "inet.kmod", "symbol_prefix": "keel_inet_", "node_prefix": "KABI"},
    "interfaces": [{"name": "inet", "doc": "IPv4."}],
    "nodes": [{"name": "KABI_INET_1.0", "interface": "inet", "doc": "First."},
              {"name": "KABI_INET_1.1", "interface": "inet", "doc": "Second."}],
    "groups": [{"name": "inet", "doc": "IPv4."}],
    "constants": [{"name": "KEEL_INET_VERSION", "type": "uint32_t", "value": 1, "group": "inet", "doc": "x"}],
    "types": [{"name": "keel_inet_route", "kind": "struct", "group": "inet", "doc": "A route.",
               "fields": [{"name": "ifindex", "type": "uint32_t", "doc": "x"},
                          {"name": "name", "type": "const char*", "doc": "x"},
                          {"name": "mac", "type": "uint8_t", "count": 6, "doc": "x"}]},
              {"name": "keel_inet", "kind": "opaque", "group": "inet", "doc": "The prefix names a type too."},
              {"name": "keel_inet_handler", "kind": "funcptr", "group": "inet", "doc": "A handler.",
               "returns": "void", "params": [{"name": "arg", "type": "void*"}]}],
    "functions": [{"name": "keel_inet_send", "node": "KABI_INET_1.0", "group": "inet", "returns": "int32_t",
                   "params": [{"name": "route", "type": "const keel_inet_route*"},
                              {"name": "handler", "type": "keel_inet_handler"}], "doc": "Sends."},
                  {"name": "keel_inet_open", "node": "KABI_INET_1.1", "group": "inet", "returns": "int32_t",
                   "params": [{"name": "out", "type": "keel_inet**"}], "doc": "Opens."}],
}

OWNED_HEADER = """#include <stddef.h>
#include <stdint.h>
#define KEEL_INET_VERSION 1
typedef struct keel_inet keel_inet;
typedef struct keel_inet_route {
    uint32_t ifindex;
    const char* name;
    uint8_t mac[6];
} keel_inet_route;
typedef void (*keel_inet_handler)(void* arg);
int32_t keel_inet_send(const keel_inet_route* route, keel_inet_handler handler);
int32_t keel_inet_open(keel_inet** out);
"""


class OwnedInterfaceTest(unittest.TestCase):
    """A module's interface in the core's namespace (keel_inet_*@KABI_INET_*,
    docs/abi.md, "A module-owned interface")."""

    def build(self, mutate=None):
        data = copy.deepcopy(OWNED_INTERFACE)
        if mutate:
            mutate(data)
        return model.build(data, "inet.toml")

    def test_outputs(self):
        abi = self.build()
        self.assertEqual([f.versioned_name for f in abi.exports_sorted()],
                         ["keel_inet_send@KABI_INET_1.0", "keel_inet_open@KABI_INET_1.1"])
        script = gen_link.generate_version_script(abi)
        self.assertIn("KABI_INET_1.1 {\n  global:\n    keel_inet_open;\n} KABI_INET_1.0;", script)
        for name in ("keel_module_init;", "keel_param_*;", "local:"):
            self.assertIn(name, script)
        self.assertIn("function keel_inet_open(ptr(ptr(opaque keel_inet)))->int32_t", gen_link.generate_symvers(abi))

    def header_check_compiles(self, header):
        check = gen_c.generate_header_check(self.build(), "keel/inet.h")
        with tempfile.TemporaryDirectory() as directory:
            os.makedirs(os.path.join(directory, "keel"))
            with open(os.path.join(directory, "keel", "inet.h"), "w") as f:
                f.write(header)
            path = os.path.join(directory, "check.c")
            with open(path, "w") as f:
                f.write(check)
            result = subprocess.run(["clang", "-std=c11", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-pedantic",
                                     "-I", directory, path], capture_output=True, text=True)
        return result.returncode == 0, result.stderr

    def test_header_check(self):
        ok, errors = self.header_check_compiles(OWNED_HEADER)
        self.assertTrue(ok, errors)
        # Each way a hand-written header can drift from the description.
        drifts = [
            ("int32_t keel_inet_open(keel_inet** out);", "int32_t keel_inet_open(keel_inet* out);", "conflicting"),
            ("    uint32_t ifindex;", "    uint64_t ifindex;", "keel_inet_route"),
            ("    uint8_t mac[6];", "    uint8_t mac[8];", "keel_inet_route"),
            ("    const char* name;", "    char* name;", "keel_inet_route.name: type"),
            ("(void* arg);", "(const void* arg);", "keel_inet_handler"),
            ("#define KEEL_INET_VERSION 1", "#define KEEL_INET_VERSION 2", "KEEL_INET_VERSION"),
        ]
        for old, new, message in drifts:
            with self.subTest(new=new):
                self.assertIn(old, OWNED_HEADER)
                ok, errors = self.header_check_compiles(OWNED_HEADER.replace(old, new))
                self.assertFalse(ok)
                self.assertIn(message, errors)

    def test_the_cores_opaque_types_behind_a_pointer(self):
        def takes(type_text):
            def mutate(data):
                data["functions"].append({"name": "keel_inet_take", "node": "KABI_INET_1.1",
                                          "group": data["functions"][0]["group"], "returns": "int32_t",
                                          "params": [{"name": "packet", "type": type_text}],
                                          "doc": "Takes a core packet."})
            return mutate

        abi = self.build(takes("keel_pkt*"))
        take = next(f for f in abi.functions if f.name == "keel_inet_take")
        self.assertEqual(take.canonical, "function keel_inet_take(ptr(opaque keel_pkt))->int32_t")
        self.assertNotIn("keel_pkt", abi.types)  # the core's: nothing generated for it
        for type_text, message in (("keel_pkt", "can only be used behind a pointer"),
                                   ("keel_no_such_type*", "unknown type 'keel_no_such_type'")):
            with self.subTest(type_text=type_text):
                with self.assertRaises(model.AbiError) as context:
                    self.build(takes(type_text))
                self.assertIn(message, str(context.exception))
        # By value after a use behind a pointer: refused all the same.

        def both(data):
            takes("keel_pkt*")(data)
            takes("keel_pkt")(data)
            data["functions"][-1]["name"] = "keel_inet_take_value"
        with self.assertRaises(model.AbiError) as context:
            self.build(both)
        self.assertIn("can only be used behind a pointer", str(context.exception))

    def test_rules(self):
        cases = [
            (lambda d: d["abi"].update(node_prefix="INET"), "has both keel_<interface>_ and KABI"),
            (lambda d: d["interfaces"][0].update(name="core"), "describes the interface 'inet' only"),
            (lambda d: d["functions"][0].update(name="keel_send"), "must match keel_inet_[a-z0-9_]+"),
            (lambda d: d["nodes"][0].update(name="KABI_CORE_1.0"), "must be named KABI_INET_*"),
            (lambda d: d["types"][0].update(name="keel_route"), "must match keel_inet_[a-z0-9_]+"),
            (lambda d: d["abi"].update(soname="libkeel.so"), "the core (soname libkeel.so) uses symbol_prefix 'keel_'"),
        ]
        for mutate, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(model.AbiError) as context:
                    self.build(mutate)
                self.assertIn(message, str(context.exception))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
