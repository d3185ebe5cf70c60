// copy_segments and apply_relocations on the real modules, into a heap
// buffer standing in for the kernel's mapping.
#include <catch2/catch.hpp>

#include <string.h>

#include <map>
#include <string>
#include <tuple>

#include "elf_test_support.h"
#include "lib/elf/relocate.h"

using keel::Diagnostic;
using keel::Error;
using keel::ModuleImage;
using namespace keel::elf;

namespace {

constexpr uint64_t kLoadAddress = 0xffffffff90000000;

// The core's exports as the resolver sees them, and what it was asked.
struct FakeCore {
    std::map<std::string, uint64_t> exports = {
        { "keel_log", 0xffffffff81001000 },
        { "keel_alloc", 0xffffffff81002000 },
        { "keel_debug_level", 0xffffffff81803000 },
        { "test_shared_counter", 0xffffffffa0004000 },
    };
    std::map<std::string, std::string> asked; // name -> "file:version"
    bool fail_silently = false;

    static keel::Result<uint64_t> resolve(
        void* context, const ModuleImage::Symbol& symbol, uint32_t index, Diagnostic& diagnostic)
    {
        auto* core = static_cast<FakeCore*>(context);
        CHECK_FALSE(symbol.defined);
        CHECK(index > 0);
        core->asked[symbol.name] = std::string(symbol.version_file ? symbol.version_file : "") + ":"
            + (symbol.version ? symbol.version : "");
        auto found = core->exports.find(symbol.name);
        if (found == core->exports.end()) {
            if (core->fail_silently)
                return keel::Err(Error::ENOENT);
            return keel::reject_with(Error::ENOENT, diagnostic, "unknown symbol %s", symbol.name);
        }
        return found->second;
    }
    keel::SymbolResolver resolver() { return { resolve, this }; }
};

struct Loaded {
    elf_test::Bytes file;
    Diagnostic diagnostic;
    keel::Result<ModuleImage> image;
    elf_test::Bytes mapped;

    explicit Loaded(const char* name)
        : file(elf_test::load_module(name))
        , image(ModuleImage::parse(file.data(), file.size(), diagnostic))
    {
        INFO(diagnostic.message);
        REQUIRE(image.is_ok());
        mapped.assign(image.value().load_span(), 0xcc);
        keel::copy_segments(image.value(), file.data(), mapped.data());
    }
    const ModuleImage& operator*() const { return image.value(); }

    uint64_t word(uint64_t vaddr) const
    {
        uint64_t value;
        memcpy(&value, mapped.data() + vaddr, 8);
        return value;
    }
};

} // namespace

TEST_CASE("copy_segments copies file bytes and zeroes bss and gaps")
{
    Loaded loaded("test_cpp.kmod");
    const ModuleImage& image = *loaded;
    uint64_t covered = 0;
    for (size_t i = 0; i < image.load_segment_count(); ++i) {
        ModuleImage::LoadSegment segment = image.load_segment(i);
        CHECK(memcmp(loaded.mapped.data() + segment.vaddr, loaded.file.data() + segment.offset, segment.filesz) == 0);
        for (uint64_t at = covered; at < segment.vaddr; ++at)
            REQUIRE(loaded.mapped[at] == 0);
        for (uint64_t at = segment.vaddr + segment.filesz; at < segment.vaddr + segment.memsz; ++at)
            REQUIRE(loaded.mapped[at] == 0);
        covered = segment.vaddr + segment.memsz;
    }
    for (uint64_t at = covered; at < image.load_span(); ++at)
        REQUIRE(loaded.mapped[at] == 0);
}

TEST_CASE("apply_relocations writes B + A, S + A and S")
{
    // The same C module for x86_64 and for AArch64 (R_AARCH64_ABS64,
    // GLOB_DAT, JUMP_SLOT, RELATIVE; there GLOB_DAT and JUMP_SLOT are S + A).
    const char* name = GENERATE("test.kmod", "test-aarch64.kmod");
    INFO(name);
    Loaded loaded(name);
    const ModuleImage& image = *loaded;
    FakeCore core;
    Diagnostic diagnostic;
    auto result = keel::apply_relocations(image, loaded.mapped.data(), kLoadAddress, core.resolver(), diagnostic);
    INFO(diagnostic.message);
    REQUIRE(result.is_ok());

    // Symbols the module defines itself bind to it; the core answers for imports.
    auto address = [&](uint32_t index) {
        ModuleImage::Symbol symbol = image.symbol(index);
        return symbol.defined ? kLoadAddress + symbol.value : core.exports.at(symbol.name);
    };
    size_t checked = 0;
    image.for_each_relocation([&](const ModuleImage::Relocation& relocation) {
        uint64_t value = loaded.word(relocation.offset);
        CHECK(relocation.kind == find_module_machine(image.machine())->kind(relocation.type));
        switch (relocation.kind) {
        case RelocationKind::Relative:
            CHECK(value == kLoadAddress + relocation.addend);
            // Here every RELATIVE target is a pointer into the module itself.
            CHECK(relocation.addend >= 0);
            CHECK(uint64_t(relocation.addend) < image.load_span());
            break;
        case RelocationKind::Absolute64: CHECK(value == address(relocation.symbol) + relocation.addend); break;
        case RelocationKind::GlobDat:
        case RelocationKind::JumpSlot:
            CHECK(value == address(relocation.symbol) + (image.machine() == EM_AARCH64 ? relocation.addend : 0));
            break;
        case RelocationKind::None:
        case RelocationKind::Unsupported: FAIL("parse() let an unsupported relocation through"); break;
        }
        ++checked;
    });
    CHECK(checked == image.relocation_count());
    // Imported data through the GOT and functions through the PLT, all at KABI_CORE_1.0.
    CHECK(core.asked["keel_debug_level"] == "libkeel.so:KABI_CORE_1.0");
    CHECK(core.asked["keel_log"] == "libkeel.so:KABI_CORE_1.0");
    CHECK(core.asked["keel_alloc"] == "libkeel.so:KABI_CORE_1.0");
    CHECK(core.asked.size() == 3);
}

TEST_CASE("a kernel refuses modules built for another machine")
{
    for (auto [name, machine, expected] : { std::tuple { "test.kmod", EM_AARCH64, "EM_AARCH64 (183)" },
             std::tuple { "test-aarch64.kmod", EM_X86_64, "EM_X86_64 (62)" } }) {
        elf_test::Bytes bytes = elf_test::load_module(name);
        Diagnostic diagnostic;
        auto image = ModuleImage::parse(bytes.data(), bytes.size(), diagnostic, machine);
        REQUIRE(image.is_error());
        CHECK(image.error() == Error::ENOEXEC);
        CHECK_THAT(diagnostic.message, Catch::Contains(std::string("modules for this kernel are ") + expected));
        CHECK(ModuleImage::parse(bytes.data(), bytes.size(), diagnostic).is_ok());
    }
}

TEST_CASE("apply_relocations: init_array entries point at the module's code")
{
    Loaded loaded("test_cpp.kmod");
    const ModuleImage& image = *loaded;
    FakeCore core;
    Diagnostic diagnostic;
    REQUIRE(keel::apply_relocations(image, loaded.mapped.data(), kLoadAddress, core.resolver(), diagnostic).is_ok());
    for (ModuleImage::PointerArray array : { image.init_array(), image.fini_array() }) {
        REQUIRE(array.count == 1);
        uint64_t entry = loaded.word(array.vaddr);
        REQUIRE(entry >= kLoadAddress);
        CHECK(image.is_executable(entry - kLoadAddress));
    }
    CHECK(core.asked["test_shared_counter"] == "test.kmod:TESTMOD_1.0");
}

TEST_CASE("apply_relocations: relocating twice gives the same image")
{
    // RELA relocations overwrite rather than add: a retry after a failed
    // resolution starts from a clean state.
    Loaded loaded("test.kmod");
    FakeCore core;
    Diagnostic diagnostic;
    REQUIRE(keel::apply_relocations(*loaded, loaded.mapped.data(), kLoadAddress, core.resolver(), diagnostic).is_ok());
    elf_test::Bytes first = loaded.mapped;
    REQUIRE(keel::apply_relocations(*loaded, loaded.mapped.data(), kLoadAddress, core.resolver(), diagnostic).is_ok());
    CHECK(first == loaded.mapped);
}

TEST_CASE("apply_relocations: a missing import fails with the resolver's error and message")
{
    Loaded loaded("test.kmod");
    FakeCore core;
    core.exports.erase("keel_alloc");
    Diagnostic diagnostic;
    auto result = keel::apply_relocations(*loaded, loaded.mapped.data(), kLoadAddress, core.resolver(), diagnostic);
    REQUIRE(result.is_error());
    CHECK(result.error() == Error::ENOENT);
    CHECK(std::string(diagnostic.message) == "unknown symbol keel_alloc");

    SECTION("a resolver that leaves no message gets one naming the symbol and version")
    {
        core.fail_silently = true;
        result = keel::apply_relocations(*loaded, loaded.mapped.data(), kLoadAddress, core.resolver(), diagnostic);
        REQUIRE(result.is_error());
        CHECK_THAT(diagnostic.message, Catch::Contains("'keel_alloc' version KABI_CORE_1.0 from libkeel.so"));
        CHECK_THAT(diagnostic.message, Catch::Contains("ENOENT"));
    }
    SECTION("no resolver at all")
    {
        keel::SymbolResolver none { nullptr, nullptr };
        result = keel::apply_relocations(*loaded, loaded.mapped.data(), kLoadAddress, none, diagnostic);
        REQUIRE(result.is_error());
        CHECK(result.error() == Error::ENOENT);
        CHECK_THAT(diagnostic.message, Catch::Contains("no resolver"));
    }
}

#if KEEL_ELF_TEST_BFD
TEST_CASE("a module linked by GNU ld parses and relocates")
{
    Loaded loaded("test_bfd.kmod");
    const ModuleImage& image = *loaded;
    // GNU ld exports the version node as an absolute marker symbol; it is
    // neither an import nor something a lookup may return.
    bool marker_seen = false;
    for (uint32_t i = 1; i < image.symbol_count(); ++i) {
        ModuleImage::Symbol symbol = image.symbol(i);
        if (symbol.version_marker) {
            CHECK(std::string(symbol.name) == "TESTMOD_1.0");
            marker_seen = true;
        }
    }
    CHECK(marker_seen);
    CHECK(image.find_defined_symbol("TESTMOD_1.0").error() == Error::ENOENT);
    CHECK(image.find_defined_symbol("keel_module_init", "TESTMOD_1.0").is_ok());
    CHECK(std::string(image.modinfo("name")) == "test");

    FakeCore core;
    Diagnostic diagnostic;
    auto result = keel::apply_relocations(image, loaded.mapped.data(), kLoadAddress, core.resolver(), diagnostic);
    INFO(diagnostic.message);
    REQUIRE(result.is_ok());
    CHECK(core.asked["keel_log"] == "libkeel.so:KABI_CORE_1.0");
    CHECK(elf_test::walk_image(image) > 0);
}
#endif
