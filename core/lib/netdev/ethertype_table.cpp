#include "lib/netdev/ethertype_table.h"

#include "lib/base/assert.h"

namespace keel::netdev {

namespace {
constexpr uint16_t kFirstEthertype = 0x0600; // below: an 802.3 length field
}

EthertypeEntry* EthertypeTable::find_mutable(uint16_t type)
{
    for (EthertypeEntry& entry : m_entries)
        if (entry.used && entry.type == type)
            return &entry;
    return nullptr;
}

const EthertypeEntry* EthertypeTable::find(uint16_t type) const
{
    return const_cast<EthertypeTable*>(this)->find_mutable(type);
}

Result<void> EthertypeTable::add(uint16_t type, EthertypeFn handler, void* context)
{
    if (type < kFirstEthertype || !handler)
        return Err(Error::EINVAL);
    if (find(type))
        return Err(Error::EEXIST);
    for (EthertypeEntry& entry : m_entries) {
        if (entry.used)
            continue;
        entry = EthertypeEntry {};
        entry.type = type;
        entry.used = true;
        entry.handler = handler;
        entry.context = context;
        return {};
    }
    return Err(Error::ENOSPC);
}

const EthertypeEntry* EthertypeTable::enter(uint16_t type)
{
    EthertypeEntry* entry = find_mutable(type);
    if (!entry || entry->leaving)
        return nullptr;
    entry->running++;
    entry->frames++;
    return entry;
}

void EthertypeTable::exit(const EthertypeEntry* entry)
{
    auto* mutable_entry = const_cast<EthertypeEntry*>(entry);
    VERIFY(mutable_entry->used && mutable_entry->running > 0);
    mutable_entry->running--;
}

Result<void> EthertypeTable::begin_remove(uint16_t type)
{
    EthertypeEntry* entry = find_mutable(type);
    if (!entry)
        return Err(Error::ENOENT);
    if (entry->leaving)
        return Err(Error::EBUSY);
    entry->leaving = true;
    return {};
}

bool EthertypeTable::is_idle(uint16_t type) const
{
    const EthertypeEntry* entry = find(type);
    return !entry || entry->running == 0;
}

void EthertypeTable::finish_remove(uint16_t type)
{
    EthertypeEntry* entry = find_mutable(type);
    VERIFY(entry && entry->leaving && entry->running == 0);
    *entry = EthertypeEntry {};
}

} // namespace keel::netdev
