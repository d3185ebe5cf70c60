#include "lib/kabi/kabi_table.h"

#include "lib/base/string.h"
#include "lib/base/utility.h"

namespace keel {

namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

uint64_t fnv1a(uint64_t value, const char* text)
{
    for (; *text; ++text) {
        value ^= static_cast<unsigned char>(*text);
        value *= kFnvPrime;
    }
    return value;
}

bool same(const KabiExport& entry, const char* name, const char* node)
{
    return strcmp(entry.name, name) == 0 && strcmp(entry.node, node) == 0;
}

} // namespace

uint64_t kabi_key(const char* name, const char* node)
{
    uint64_t value = fnv1a(kFnvOffset, name);
    value = fnv1a(value, "@");
    value = fnv1a(value, node);
    value ^= value >> 33;
    value *= 0xff51afd7ed558ccdull;
    value ^= value >> 33;
    value *= 0xc4ceb9fe1a85ec53ull;
    value ^= value >> 33;
    return value;
}

Result<void> KabiTable::build_index(const KabiExport* exports, size_t count, uint32_t* slots, size_t slot_count)
{
    if (count >= (size_t(1) << 31))
        return Err(Error::E2BIG);
    if (slot_count != slot_count_for(count) || (count > 0 && !exports) || !slots)
        return Err(Error::EINVAL);
    for (size_t i = 0; i < slot_count; ++i)
        slots[i] = kEmptySlot;
    size_t mask = slot_count - 1;
    for (size_t index = 0; index < count; ++index) {
        const KabiExport& entry = exports[index];
        if (!entry.name || !entry.node || entry.key != kabi_key(entry.name, entry.node))
            return Err(Error::EINVAL);
        // The load factor is at most 1/2, so a free slot always exists.
        size_t position = entry.key & mask;
        while (slots[position] != kEmptySlot) {
            const KabiExport& other = exports[slots[position]];
            if (other.key == entry.key && same(other, entry.name, entry.node))
                return Err(Error::EEXIST);
            position = (position + 1) & mask;
        }
        slots[position] = static_cast<uint32_t>(index);
    }
    return {};
}

Result<void> KabiTable::validate() const
{
    if (!is_power_of_two(m_slot_count) || m_slot_count <= m_export_count || (m_export_count > 0 && !m_exports)
        || !m_slots || (m_node_count > 0 && !m_nodes))
        return Err(Error::EINVAL);
    size_t used = 0;
    for (size_t position = 0; position < m_slot_count; ++position) {
        if (m_slots[position] == kEmptySlot)
            continue;
        if (m_slots[position] >= m_export_count)
            return Err(Error::EINVAL);
        ++used;
    }
    if (used != m_export_count)
        return Err(Error::EINVAL);
    for (size_t index = 0; index < m_export_count; ++index) {
        const KabiExport& entry = m_exports[index];
        if (!entry.name || !entry.node || entry.key != kabi_key(entry.name, entry.node))
            return Err(Error::EINVAL);
        // find() must reach this very entry: no duplicate shadows it and
        // no empty slot interrupts its probe sequence.
        if (find(entry.name, entry.node) != &entry)
            return Err(Error::EEXIST);
        if (!find_node(entry.node))
            return Err(Error::ENOENT);
    }
    for (size_t index = 0; index < m_node_count; ++index) {
        const KabiNode& node = m_nodes[index];
        if (!node.name || !node.interface || (node.parent && !find_node(node.parent)))
            return Err(Error::EINVAL);
    }
    return {};
}

const KabiExport* KabiTable::find(const char* name, const char* node) const
{
    if (!name || !node || m_slot_count == 0)
        return nullptr;
    uint64_t key = kabi_key(name, node);
    size_t mask = m_slot_count - 1;
    size_t position = key & mask;
    for (size_t probes = 0; probes < m_slot_count; ++probes) {
        uint32_t index = m_slots[position];
        if (index == kEmptySlot)
            return nullptr;
        if (index < m_export_count) {
            const KabiExport& entry = m_exports[index];
            if (entry.key == key && same(entry, name, node))
                return &entry;
        }
        position = (position + 1) & mask;
    }
    return nullptr;
}

const KabiNode* KabiTable::find_node(const char* name) const
{
    if (!name)
        return nullptr;
    // A handful of nodes per interface: a scan is the fastest lookup.
    for (size_t index = 0; index < m_node_count; ++index) {
        if (strcmp(m_nodes[index].name, name) == 0)
            return &m_nodes[index];
    }
    return nullptr;
}

} // namespace keel
