// The ethertype table: which protocol handles frames of each EtherType.
// A handler is entered (enter/exit) around every call, so unregistering
// can wait until no frame is still inside it: begin_remove stops new
// entries at once, the caller waits for is_idle, then finish_remove frees
// the slot. The table is plain data; the kernel (core/net/netdev.cpp)
// holds its lock around every call and sleeps between begin_remove and
// finish_remove, host tests drive it directly.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"

namespace keel::netdev {

using EthertypeFn = void (*)(void* context, void* device, void* packet);

struct EthertypeEntry {
    uint16_t type = 0;
    bool used = false;
    bool leaving = false; // begin_remove was called: no new entries
    uint32_t running = 0; // calls inside the handler now
    EthertypeFn handler = nullptr;
    void* context = nullptr;
    uint64_t frames = 0; // handed to the handler
};

class EthertypeTable {
public:
    static constexpr size_t kCapacity = 16;

    // EINVAL for a type below 0x0600 (an 802.3 length, not an EtherType)
    // or no handler; EEXIST when the type is taken (even while it is
    // leaving); ENOSPC when the table is full.
    Result<void> add(uint16_t type, EthertypeFn handler, void* context);
    // The handler for `type`, marked running; nullptr when there is none
    // or it is leaving. Every non-null result is paired with exit().
    const EthertypeEntry* enter(uint16_t type);
    void exit(const EthertypeEntry* entry);
    // ENOENT when `type` has no handler, EBUSY when it is already leaving.
    Result<void> begin_remove(uint16_t type);
    bool is_idle(uint16_t type) const;
    void finish_remove(uint16_t type);

    const EthertypeEntry* find(uint16_t type) const;
    const EthertypeEntry& slot(size_t index) const { return m_entries[index]; }

private:
    EthertypeEntry* find_mutable(uint16_t type);
    EthertypeEntry m_entries[kCapacity];
};

} // namespace keel::netdev
