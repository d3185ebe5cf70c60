// ModuleImage on real modules built by meson.build with the host clang and
// lld: a C module (test.kmod) and a C++ one (test_cpp.kmod) that imports
// from both the stub core (libkeel.so) and test.kmod.
#include <catch2/catch.hpp>

#include <string.h>

#include <set>
#include <string>
#include <vector>

#include "elf_test_support.h"
#include "lib/elf/module_image.h"
#include "lib/kabi/module_check.h"

using keel::Diagnostic;
using keel::Error;
using keel::ModuleImage;
using namespace keel::elf;

namespace {

struct Parsed {
    elf_test::Bytes bytes;
    Diagnostic diagnostic;
    keel::Result<ModuleImage> image;

    explicit Parsed(const char* name)
        : bytes(elf_test::load_module(name))
        , image(ModuleImage::parse(bytes.data(), bytes.size(), diagnostic))
    {
        INFO(diagnostic.message);
        REQUIRE(image.is_ok());
    }
    const ModuleImage& operator*() const { return image.value(); }
    const ModuleImage* operator->() const { return &image.value(); }
};

ModuleImage::Symbol defined(const ModuleImage& image, const char* name)
{
    auto index = image.find_defined_symbol(name);
    INFO(name);
    REQUIRE(index.is_ok());
    return image.symbol(index.value());
}

const ModuleImage::Symbol* find_import(const ModuleImage& image, const char* name, ModuleImage::Symbol& out)
{
    for (uint32_t i = 1; i < image.symbol_count(); ++i) {
        out = image.symbol(i);
        if (!out.defined && strcmp(out.name, name) == 0)
            return &out;
    }
    return nullptr;
}

} // namespace

TEST_CASE("C module: segments, span and RELRO")
{
    Parsed image("test.kmod");
    REQUIRE(image->load_segment_count() >= 3);
    std::set<uint32_t> kinds;
    uint64_t end = 0;
    for (size_t i = 0; i < image->load_segment_count(); ++i) {
        ModuleImage::LoadSegment segment = image->load_segment(i);
        CHECK(segment.vaddr >= end);
        CHECK(segment.filesz <= segment.memsz);
        end = segment.vaddr + segment.memsz;
        kinds.insert(segment.flags);
    }
    CHECK(image->load_segment(0).vaddr == 0);
    CHECK(kinds == std::set<uint32_t> { PF_R, PF_R | PF_X, PF_R | PF_W });
    CHECK(image->load_span() == ((end + 4095) & ~uint64_t(4095)));
    CHECK(image->load_alignment() == 4096);

    // -z relro: the GOT and const pointer tables become read-only after relocation.
    ModuleImage::Range relro = image->relro();
    REQUIRE_FALSE(relro.empty());
    CHECK(relro.start % 4096 == 0);
    CHECK(relro.end % 4096 == 0);
    // The range is whole pages of one writable segment: linkers pad RELRO
    // to the end of its page, past the segment's p_memsz, and the segment
    // may start inside its first page.
    bool covered = false;
    for (size_t i = 0; i < image->load_segment_count(); i++) {
        ModuleImage::LoadSegment segment = image->load_segment(i);
        covered = covered
            || (segment.writable() && relro.start == (segment.vaddr & ~uint64_t(4095))
                && relro.end <= ((segment.vaddr + segment.memsz + 4095) & ~uint64_t(4095)));
    }
    CHECK(covered);
}

TEST_CASE("C module: dynamic section, symbols and versions")
{
    Parsed image("test.kmod");
    CHECK(std::string(image->soname()) == "test.kmod");
    std::vector<std::string> needed;
    image->for_each_needed([&](const char* name) { needed.push_back(name); });
    CHECK(needed == std::vector<std::string> { "libkeel.so" });
    CHECK(image->needed_count() == 1);
    CHECK(image->init_array().count == 0);

    ModuleImage::Symbol init = defined(*image, "keel_module_init");
    CHECK(init.type == STT_FUNC);
    CHECK(init.bind == STB_GLOBAL);
    CHECK(init.visibility == STV_DEFAULT);
    CHECK(init.defined);
    CHECK(std::string(init.version) == "TESTMOD_1.0");
    CHECK_FALSE(init.version_hidden);
    CHECK(init.version_file == nullptr);
    CHECK(image->is_executable(init.value));

    ModuleImage::Symbol verbose = defined(*image, "keel_param_verbose");
    CHECK(verbose.type == STT_OBJECT);
    CHECK(verbose.size == 1);
    CHECK_FALSE(image->is_executable(verbose.value));
    CHECK(defined(*image, "keel_param_level").size == 8);

    CHECK(image->find_defined_symbol("keel_module_init", "TESTMOD_1.0").is_ok());
    CHECK(image->find_defined_symbol("keel_module_init", "TESTMOD_2.0").error() == Error::ENOENT);
    CHECK(image->find_defined_symbol("keel_log").error() == Error::ENOENT); // an import, not defined here
    CHECK(image->find_defined_symbol("helper").error() == Error::ENOENT);   // hidden
    CHECK(image->find_defined_symbol("").error() == Error::ENOENT);

    for (const char* name : { "keel_log", "keel_alloc", "keel_debug_level" }) {
        ModuleImage::Symbol symbol;
        INFO(name);
        REQUIRE(find_import(*image, name, symbol));
        CHECK(std::string(symbol.version) == "KABI_CORE_1.0");
        CHECK(std::string(symbol.version_file) == "libkeel.so");
        CHECK_FALSE(symbol.version_hidden);
    }
    ModuleImage::Symbol data;
    REQUIRE(find_import(*image, "keel_debug_level", data));
    CHECK(data.type == STT_OBJECT);

    std::vector<std::string> definitions;
    image->for_each_version_definition(
        [&](const ModuleImage::VersionDefinition& definition) { definitions.push_back(definition.name); });
    CHECK(definitions == std::vector<std::string> { "TESTMOD_1.0" });
    std::vector<std::string> needs;
    image->for_each_version_need([&](const ModuleImage::VersionNeed& need) {
        needs.push_back(std::string(need.file) + ":" + need.name);
        CHECK(need.index >= 2);
    });
    CHECK(needs == std::vector<std::string> { "libkeel.so:KABI_CORE_1.0" });
}

TEST_CASE("C module: relocations cover the four types the loader applies")
{
    Parsed image("test.kmod");
    std::set<uint32_t> types;
    std::set<std::string> tables;
    image->for_each_relocation([&](const ModuleImage::Relocation& relocation) {
        types.insert(relocation.type);
        tables.insert(relocation.table);
        if (relocation.type == R_X86_64_RELATIVE)
            CHECK(relocation.symbol == 0);
        else
            CHECK(relocation.symbol > 0);
    });
    CHECK(types == std::set<uint32_t> { R_X86_64_RELATIVE, R_X86_64_64, R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT });
    CHECK(tables == std::set<std::string> { "DT_RELA", "DT_JMPREL" });
    uint64_t rela = 0;
    uint64_t jmprel = 0;
    image->for_each_relocation([&](const ModuleImage::Relocation& relocation) {
        uint64_t& count = strcmp(relocation.table, "DT_RELA") == 0 ? rela : jmprel;
        CHECK(relocation.table_index == count);
        ++count;
    });
    CHECK(rela + jmprel == image->relocation_count());
}

TEST_CASE("C module: modinfo notes")
{
    Parsed image("test.kmod");
    CHECK(std::string(image->modinfo("name")) == "test");
    CHECK(image->name() == image->modinfo("name")); // kept from parse()
    CHECK(std::string(image->modinfo("license")) == "MIT");
    CHECK(std::string(image->modinfo("modinfo_version")) == "1");
    CHECK(std::string(image->modinfo("description")) == "ELF loader test module");
    CHECK(image->modinfo("nam") == nullptr);
    CHECK(image->modinfo("names") == nullptr);
    CHECK(image->modinfo("intree") == nullptr);
    CHECK_FALSE(image->in_tree());
    std::vector<std::string> entries;
    std::vector<std::string> parms;
    image->for_each_modinfo([&](const ModuleImage::ModinfoEntry& entry) {
        std::string key(entry.key, entry.key_length);
        entries.push_back(key);
        if (key == "parm")
            parms.push_back(entry.value);
    });
    CHECK(entries.size() == 7);
    CHECK(entries.front() == "modinfo_version");
    CHECK(parms == std::vector<std::string> { "verbose:bool:Log more", "level:int:Starting level" });
}

TEST_CASE("C module: .keel_kabi import hashes")
{
    Parsed image("test.kmod");
    REQUIRE(image->has_kabi());
    REQUIRE(image->kabi_count() == 3);
    std::set<std::string> names;
    for (size_t i = 0; i < image->kabi_count(); ++i) {
        ModuleImage::KabiEntry entry = image->kabi_entry(i);
        names.insert(entry.name);
        CHECK(std::string(entry.node) == "KABI_CORE_1.0");
        CHECK(entry.hash != 0);
    }
    CHECK(names == std::set<std::string> { "keel_log", "keel_alloc", "keel_debug_level" });
    ModuleImage::KabiEntry entry;
    CHECK(image->find_kabi_entry("keel_alloc", "KABI_CORE_1.0", entry));
    CHECK(std::string(entry.name) == "keel_alloc");
    CHECK_FALSE(image->find_kabi_entry("keel_alloc", "KABI_CORE_1.1", entry));
    CHECK_FALSE(image->find_kabi_entry("keel_free", "KABI_CORE_1.0", entry));
}

TEST_CASE("modinfo: a module with more entries than are kept at hand")
{
    // test.kmod's seven entries are looked up from what parse() recorded;
    // test_cpp.kmod's 29 from the notes themselves. Both give every entry.
    Parsed image("test_cpp.kmod");
    CHECK(std::string(image->name()) == "test_cpp");
    CHECK(image->in_tree());
    CHECK(std::string(image->modinfo("license")) == "GPL");
    CHECK(std::string(image->modinfo("extra_1")) == "value 1");
    CHECK(std::string(image->modinfo("extra_26")) == "value 26");
    CHECK(image->modinfo("extra_27") == nullptr);
    size_t entries = 0;
    image->for_each_modinfo([&](const ModuleImage::ModinfoEntry&) { ++entries; });
    CHECK(entries == 29);
}

TEST_CASE("C++ module: init/fini arrays and an import from another module")
{
    Parsed image("test_cpp.kmod");
    CHECK(std::string(image->soname()) == "test_cpp.kmod");
    std::vector<std::string> needed;
    image->for_each_needed([&](const char* name) { needed.push_back(name); });
    CHECK(needed == std::vector<std::string> { "libkeel.so", "test.kmod" });

    ModuleImage::PointerArray init = image->init_array();
    ModuleImage::PointerArray fini = image->fini_array();
    CHECK(init.count == 1);
    CHECK(fini.count == 1);
    const ModuleImage::LoadSegment* segment = image->find_segment(init.vaddr, init.count * 8);
    REQUIRE(segment);
    CHECK(segment->writable()); // relocated, then sealed by RELRO
    CHECK(init.vaddr >= image->relro().start);
    CHECK(init.vaddr + 8 <= image->relro().end);

    ModuleImage::Symbol counter;
    REQUIRE(find_import(*image, "test_shared_counter", counter));
    CHECK(std::string(counter.version) == "TESTMOD_1.0");
    CHECK(std::string(counter.version_file) == "test.kmod");

    // No version script: exports are unversioned, and there is no DT_VERDEF.
    ModuleImage::Symbol entry = defined(*image, "keel_module_init");
    CHECK(entry.version == nullptr);
    CHECK(image->find_defined_symbol("keel_module_init", "TESTMOD_1.0").error() == Error::ENOENT);
    size_t definitions = 0;
    image->for_each_version_definition([&](const ModuleImage::VersionDefinition&) { ++definitions; });
    CHECK(definitions == 0);

    CHECK(std::string(image->modinfo("intree")) == "Y");
    CHECK(image->in_tree());
    CHECK_FALSE(image->has_kabi());
}

TEST_CASE("every accessor of the real modules is consistent")
{
    for (const char* name : { "test.kmod", "test_cpp.kmod" }) {
        Parsed image(name);
        CHECK(elf_test::walk_image(*image) > 0);
    }
}

TEST_CASE("the stub core library is not a module: it has no modinfo")
{
    elf_test::Bytes bytes = elf_test::load_module("libkeel.so");
    Diagnostic diagnostic;
    auto image = ModuleImage::parse(bytes.data(), bytes.size(), diagnostic);
    REQUIRE(image.is_error());
    CHECK(image.error() == Error::ENOEXEC);
    CHECK_THAT(diagnostic.message, Catch::Contains("no name="));
}

TEST_CASE("an export kept at an older node is found by that node; the default without one")
{
    Parsed image("test_versions.kmod");
    auto older = keel::module_export_offset(*image, "test_twice", "TESTVER_1.0");
    auto newer = keel::module_export_offset(*image, "test_twice", "TESTVER_1.1");
    auto either = keel::module_export_offset(*image, "test_twice", nullptr);
    REQUIRE(older.is_ok()); // a module built against 1.0 still loads
    REQUIRE(newer.is_ok());
    REQUIRE(either.is_ok());
    CHECK(older.value() != newer.value());
    CHECK(either.value() == newer.value());
    CHECK(keel::module_export_offset(*image, "test_twice", "TESTVER_2.0").error() == Error::ENOENT);
}
