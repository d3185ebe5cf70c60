#include <catch2/catch.hpp>

#include <string.h>

#include <string>
#include <vector>

#include "lib/kabi/kabi_table.h"

using keel::Error;
using keel::KabiExport;
using keel::KabiNode;
using keel::KabiTable;
using keel::Result;

namespace keel {
// The generated core table (abi/keel.toml, with null addresses).
extern const KabiTable g_kabi_core_table;
} // namespace keel

namespace {

// A table of `count` exports named sym<i> at KABI_TEST_1.0, indexed with
// build_index; owns its memory.
struct Built {
    std::vector<std::string> names;
    std::vector<KabiExport> exports;
    std::vector<uint32_t> slots;
    KabiNode node { "KABI_TEST_1.0", nullptr, "test" };

    explicit Built(size_t count)
    {
        names.reserve(count);
        for (size_t i = 0; i < count; ++i)
            names.push_back("sym" + std::to_string(i));
        for (size_t i = 0; i < count; ++i) {
            const char* name = names[i].c_str();
            exports.push_back({ name, "KABI_TEST_1.0", 1000 + i, keel::kabi_key(name, "KABI_TEST_1.0"),
                reinterpret_cast<const void*>(0x1000 + i) });
        }
        slots.resize(KabiTable::slot_count_for(count));
    }

    Result<void> index() { return KabiTable::build_index(exports.data(), exports.size(), slots.data(), slots.size()); }
    KabiTable table() const { return KabiTable(exports.data(), exports.size(), slots.data(), slots.size(), &node, 1); }
};

} // namespace

TEST_CASE("kabi_key separates name and node")
{
    CHECK(keel::kabi_key("keel_log", "KABI_CORE_1.0") != keel::kabi_key("keel_log", "KABI_CORE_1.1"));
    CHECK(keel::kabi_key("keel_log", "KABI_CORE_1.0") == keel::kabi_key("keel_log", "KABI_CORE_1.0"));
    // The '@' separator keeps "a"+"b@c" apart from "a@b"+"c" only in
    // spelling; both are the same string, and names never contain '@'.
    CHECK(keel::kabi_key("x", "") != keel::kabi_key("", "x"));
}

TEST_CASE("slot count is a power of two at least twice the entries")
{
    CHECK(KabiTable::slot_count_for(0) == 8);
    CHECK(KabiTable::slot_count_for(4) == 8);
    CHECK(KabiTable::slot_count_for(5) == 16);
    CHECK(KabiTable::slot_count_for(10000) == 32768);
}

TEST_CASE("a built table finds every entry and nothing else")
{
    Built built(1000);
    REQUIRE(built.index().is_ok());
    KabiTable table = built.table();
    REQUIRE(table.validate().is_ok());
    for (size_t i = 0; i < built.exports.size(); ++i) {
        const KabiExport* found = table.find(built.names[i].c_str(), "KABI_TEST_1.0");
        REQUIRE(found == &built.exports[i]);
        CHECK(found->hash == 1000 + i);
    }
    CHECK(table.find("sym1", "KABI_TEST_1.1") == nullptr);
    CHECK(table.find("sym1000", "KABI_TEST_1.0") == nullptr);
    CHECK(table.find("", "") == nullptr);
    CHECK(table.find(nullptr, "KABI_TEST_1.0") == nullptr);
    CHECK(table.find("sym1", nullptr) == nullptr);
    CHECK(table.find_node("KABI_TEST_1.0") == &built.node);
    CHECK(table.find_node("KABI_TEST_9.9") == nullptr);
    CHECK(table.find_node(nullptr) == nullptr);
}

TEST_CASE("an empty table finds nothing")
{
    KabiTable empty;
    CHECK(empty.find("keel_log", "KABI_CORE_1.0") == nullptr);
    CHECK(empty.export_count() == 0);

    Built built(0);
    REQUIRE(built.index().is_ok());
    CHECK(built.table().validate().is_ok());
    CHECK(built.table().find("sym0", "KABI_TEST_1.0") == nullptr);
}

TEST_CASE("build_index refuses bad input")
{
    SECTION("duplicate name@node")
    {
        Built built(3);
        built.exports[2] = built.exports[0];
        CHECK(built.index().error() == Error::EEXIST);
    }
    SECTION("wrong key")
    {
        Built built(3);
        built.exports[1].key ^= 1;
        CHECK(built.index().error() == Error::EINVAL);
    }
    SECTION("null name")
    {
        Built built(3);
        built.exports[1].name = nullptr;
        CHECK(built.index().error() == Error::EINVAL);
    }
    SECTION("wrong slot count")
    {
        Built built(3);
        CHECK(KabiTable::build_index(built.exports.data(), 3, built.slots.data(), 4).error() == Error::EINVAL);
        CHECK(KabiTable::build_index(built.exports.data(), 3, built.slots.data(), 7).error() == Error::EINVAL);
        CHECK(KabiTable::build_index(built.exports.data(), 3, nullptr, 8).error() == Error::EINVAL);
    }
}

TEST_CASE("validate catches a corrupted table")
{
    Built built(20);
    REQUIRE(built.index().is_ok());
    SECTION("slot pointing past the entries")
    {
        for (auto& slot : built.slots) {
            if (slot != KabiTable::kEmptySlot) {
                slot = 20;
                break;
            }
        }
        CHECK(built.table().validate().error() == Error::EINVAL);
    }
    SECTION("entry missing from the slots")
    {
        for (auto& slot : built.slots) {
            if (slot != KabiTable::kEmptySlot) {
                slot = KabiTable::kEmptySlot;
                break;
            }
        }
        CHECK(built.table().validate().is_error());
    }
    SECTION("export naming an unknown node")
    {
        built.exports[3].node = "KABI_TEST_2.0";
        built.exports[3].key = keel::kabi_key(built.exports[3].name, "KABI_TEST_2.0");
        REQUIRE(built.index().is_ok());
        CHECK(built.table().validate().error() == Error::ENOENT);
    }
}

TEST_CASE("lookups in a 10,000-symbol table stay short")
{
    Built built(10000);
    REQUIRE(built.index().is_ok());
    KabiTable table = built.table();
    // With a load factor of at most 1/2, linear probing averages about 1.5
    // probes for a hit; check the worst sequence stays small, i.e. the key
    // spreads well over the low bits.
    size_t mask = built.slots.size() - 1;
    size_t worst = 0;
    for (const KabiExport& entry : built.exports) {
        size_t position = entry.key & mask;
        size_t probes = 1;
        while (&built.exports[built.slots[position]] != &entry) {
            position = (position + 1) & mask;
            ++probes;
        }
        worst = probes > worst ? probes : worst;
    }
    CHECK(worst < 40);
    for (size_t i = 0; i < built.exports.size(); i += 97)
        CHECK(table.find(built.names[i].c_str(), "KABI_TEST_1.0") == &built.exports[i]);
}

TEST_CASE("the generated core table is valid and matches the description")
{
    const KabiTable& table = keel::g_kabi_core_table;
    REQUIRE(table.validate().is_ok());
    REQUIRE(table.node_count() >= 1);
    CHECK(strcmp(table.node_at(0).name, "KABI_CORE_1.0") == 0);
    CHECK(table.node_at(0).parent == nullptr);

    const char* expected[] = { "keel_log", "keel_logf", "keel_panic", "keel_alloc", "keel_zalloc", "keel_free",
        "keel_thread_create", "keel_thread_join", "keel_thread_yield", "keel_sleep_ns", "keel_thread_current_id",
        "keel_mutex_create", "keel_mutex_destroy", "keel_mutex_lock", "keel_mutex_trylock", "keel_mutex_unlock",
        "keel_spin_lock", "keel_spin_unlock", "keel_completion_create", "keel_completion_destroy",
        "keel_completion_wait", "keel_completion_complete", "keel_monotonic_ns", "keel_add_taint", "keel_symbol_get",
        "keel_symbol_put", "memcpy", "memmove", "memset", "memcmp", "bcmp" };
    for (const char* name : expected) {
        INFO(name);
        const KabiExport* entry = table.find(name, "KABI_CORE_1.0");
        REQUIRE(entry != nullptr);
        CHECK(entry->hash != 0);
        CHECK(table.find(name, "KABI_CORE_0.9") == nullptr);
    }
    // Later nodes only add (KABI_CORE_1.1 re-exports keel_add_taint, other
    // interfaces add their own): every 1.0 export is still there, and more.
    CHECK(table.export_count() >= sizeof(expected) / sizeof(expected[0]));
    REQUIRE(table.find("keel_add_taint", "KABI_CORE_1.1") != nullptr);
    CHECK(table.find("keel_add_taint", "KABI_CORE_1.1")->hash != table.find("keel_add_taint", "KABI_CORE_1.0")->hash);
    // KABI_CORE_1.2 adds the timed completion wait; it is not in 1.1.
    REQUIRE(table.find("keel_completion_wait_timeout", "KABI_CORE_1.2") != nullptr);
    CHECK(table.find("keel_completion_wait_timeout", "KABI_CORE_1.1") == nullptr);
    // Hashes differ between declarations.
    CHECK(table.find("keel_alloc", "KABI_CORE_1.0")->hash != table.find("keel_zalloc", "KABI_CORE_1.0")->hash);
}
