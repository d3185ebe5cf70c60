// Export tables: what the core (and, later, each loaded module) offers to
// modules, keyed by symbol name *and* version node, as GNU symbol
// versioning resolves them.
//
// The core's table is generated from abi/keel.toml by scripts/abi/keel-abi.py
// (docs/abi.md); a module's table is built at load time with build_index()
// into memory the loader provides. Lookups hash "name@node" into an
// open-addressing slot array (linear probing, a power of two at least twice
// the entry count), so a lookup costs O(1) string compares whatever the
// table's size; the loader resolves every import this way.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"

namespace keel {

// One exported symbol at one version node.
struct KabiExport {
    const char* name;    // "keel_log"
    const char* node;    // "KABI_CORE_1.0"
    uint64_t hash;       // hash of the canonical declaration (docs/abi.md)
    uint64_t key;        // kabi_key(name, node), the table's lookup key
    const void* address; // the implementation
};

// A version node; `parent` is the node it inherits (nullptr for the first
// node of its interface).
struct KabiNode {
    const char* name;
    const char* parent;
    const char* interface;
};

// The lookup key of name@node: 64-bit FNV-1a of "name@node" finished with
// MurmurHash3's fmix64 (FNV's low bits, which index the slots, mix poorly).
// scripts/abi/keelabi/model.py computes the same.
uint64_t kabi_key(const char* name, const char* node);

class KabiTable {
public:
    static constexpr uint32_t kEmptySlot = 0xffffffff;

    constexpr KabiTable() = default; // empty: every lookup fails

    // Trusts its input (the generated core table); validate() checks it.
    constexpr KabiTable(const KabiExport* exports, size_t export_count, const uint32_t* slots, size_t slot_count,
        const KabiNode* nodes, size_t node_count)
        : m_exports(exports)
        , m_export_count(export_count)
        , m_slots(slots)
        , m_slot_count(slot_count)
        , m_nodes(nodes)
        , m_node_count(node_count)
    {
    }

    // The slot count build_index() wants for `export_count` entries.
    static constexpr size_t slot_count_for(size_t export_count)
    {
        size_t slots = 8;
        while (slots < 2 * export_count)
            slots *= 2;
        return slots;
    }

    // Fills `slots` (slot_count_for(count) entries, caller's memory) for
    // `exports`, whose keys must already be kabi_key(name, node). EINVAL for a
    // bad slot count, a null name or node, or a wrong key; EEXIST when a
    // name@node appears twice; E2BIG beyond 2^31 entries.
    static Result<void> build_index(const KabiExport* exports, size_t count, uint32_t* slots, size_t slot_count);

    // Checks every invariant lookups rely on: slot count a power of two
    // above the entry count, every entry reachable from its key's slot,
    // keys matching names, no duplicates, every node known. Used by tests
    // and the boot self-test on the generated table.
    Result<void> validate() const;

    // The export `name` at exactly `node`, or nullptr. Either may be null
    // (then nullptr).
    const KabiExport* find(const char* name, const char* node) const;
    const KabiNode* find_node(const char* name) const;

    size_t export_count() const { return m_export_count; }
    const KabiExport& export_at(size_t index) const { return m_exports[index]; }
    size_t node_count() const { return m_node_count; }
    const KabiNode& node_at(size_t index) const { return m_nodes[index]; }

private:
    const KabiExport* m_exports = nullptr;
    size_t m_export_count = 0;
    const uint32_t* m_slots = nullptr;
    size_t m_slot_count = 0;
    const KabiNode* m_nodes = nullptr;
    size_t m_node_count = 0;
};

} // namespace keel
