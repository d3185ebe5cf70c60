// Port tables: which local (address, port) is bound to whom, for UDP's
// sockets and TCP's listeners and active opens.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/intrusive_list.h"
#include "lib/base/result.h"
#include "lib/net/bytes.h"

namespace keel::net {

// Something bound to a local (address, port); address 0 is every address.
struct PortBinding {
    IntrusiveListNode node;
    Ipv4Address local_address = 0;
    uint16_t local_port = 0;
    void* owner = nullptr;
};

// The ports of one protocol (UDP here; TCP's listeners use the same).
// Bindings are the callers' objects: binding never allocates.
class PortTable {
public:
    static constexpr uint16_t kEphemeralFirst = 49152; // IANA's dynamic range
    static constexpr uint16_t kEphemeralLast = 65535;
    static constexpr size_t kBuckets = 64;

    PortTable() = default;
    PortTable(const PortTable&) = delete;
    PortTable& operator=(const PortTable&) = delete;

    // Binds `binding` at its address and port; port 0 picks a free
    // ephemeral port. EADDRINUSE when the port is taken for an address
    // that overlaps (equal, or either is 0); EADDRNOTAVAIL when no
    // ephemeral port is free.
    Result<void> bind(PortBinding& binding);
    void unbind(PortBinding& binding);
    // The binding for a received datagram: the exact address before 0.
    PortBinding* lookup(Ipv4Address address, uint16_t port) const;
    size_t size() const { return m_size; }

private:
    bool conflicts(Ipv4Address address, uint16_t port) const;
    IntrusiveList<PortBinding, &PortBinding::node>& bucket(uint16_t port) { return m_buckets[port % kBuckets]; }
    const IntrusiveList<PortBinding, &PortBinding::node>& bucket(uint16_t port) const
    {
        return m_buckets[port % kBuckets];
    }

    IntrusiveList<PortBinding, &PortBinding::node> m_buckets[kBuckets];
    size_t m_size = 0;
    uint16_t m_next_ephemeral = kEphemeralFirst;
};

} // namespace keel::net
