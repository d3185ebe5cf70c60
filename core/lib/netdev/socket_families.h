// The socket families and types protocol modules register
// (KABI_SOCKET_1.0): which table serves each (family, type) pair, and how
// many sockets of it are open, so that a registration cannot go while one
// is. No locks: the kernel's socket layer (core/net/socket.cpp) holds its
// own around every call.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"

namespace keel::netdev {

class SocketFamilies {
public:
    static constexpr size_t kCapacity = 16;

    struct Entry {
        uint32_t family = 0;
        uint32_t type = 0;
        const void* ops = nullptr; // null: the slot is free
        void* owner = nullptr;     // the registering module (null: the core)
        size_t sockets = 0;        // open sockets of it
    };

    // EEXIST when the pair is taken, ENOSPC when the table is full,
    // EINVAL for a null table or family or type 0.
    Result<Entry*> add(uint32_t family, uint32_t type, const void* ops, void* owner);
    // ENOENT when `ops` is not registered, EBUSY while sockets of it are open.
    Result<void> remove(const void* ops);
    // Removes every entry `owner` registered that has no socket open, and
    // calls removed(entry) for each first; returns how many.
    template<typename Removed> size_t remove_owner(void* owner, Removed removed)
    {
        size_t count = 0;
        for (Entry& entry : m_entries) {
            if (entry.ops && entry.owner == owner && entry.sockets == 0) {
                removed(static_cast<const Entry&>(entry));
                entry = Entry {};
                count++;
            }
        }
        return count;
    }
    Entry* find(uint32_t family, uint32_t type);
    Entry* find_ops(const void* ops);
    size_t count() const;

private:
    Entry m_entries[kCapacity];
};

} // namespace keel::netdev
