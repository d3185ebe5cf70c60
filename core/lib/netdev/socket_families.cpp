#include "lib/netdev/socket_families.h"

namespace keel::netdev {

Result<SocketFamilies::Entry*> SocketFamilies::add(uint32_t family, uint32_t type, const void* ops, void* owner)
{
    if (!ops || family == 0 || type == 0)
        return Err(Error::EINVAL);
    if (find(family, type) || find_ops(ops))
        return Err(Error::EEXIST);
    for (Entry& entry : m_entries) {
        if (!entry.ops) {
            entry = Entry { family, type, ops, owner, 0 };
            return &entry;
        }
    }
    return Err(Error::ENOSPC);
}

Result<void> SocketFamilies::remove(const void* ops)
{
    Entry* entry = find_ops(ops);
    if (!entry)
        return Err(Error::ENOENT);
    if (entry->sockets)
        return Err(Error::EBUSY);
    *entry = Entry {};
    return {};
}

SocketFamilies::Entry* SocketFamilies::find(uint32_t family, uint32_t type)
{
    for (Entry& entry : m_entries) {
        if (entry.ops && entry.family == family && entry.type == type)
            return &entry;
    }
    return nullptr;
}

SocketFamilies::Entry* SocketFamilies::find_ops(const void* ops)
{
    for (Entry& entry : m_entries) {
        if (ops && entry.ops == ops)
            return &entry;
    }
    return nullptr;
}

size_t SocketFamilies::count() const
{
    size_t count = 0;
    for (const Entry& entry : m_entries)
        count += entry.ops != nullptr;
    return count;
}

} // namespace keel::netdev
