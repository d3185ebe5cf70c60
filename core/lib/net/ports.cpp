#include "lib/net/ports.h"

namespace keel::net {

bool PortTable::conflicts(Ipv4Address address, uint16_t port) const
{
    for (const PortBinding& other : bucket(port)) {
        if (other.local_port == port && (other.local_address == address || other.local_address == 0 || address == 0))
            return true;
    }
    return false;
}

Result<void> PortTable::bind(PortBinding& binding)
{
    VERIFY(!binding.node.is_linked());
    if (binding.local_port == 0) {
        constexpr uint32_t range = kEphemeralLast - kEphemeralFirst + 1;
        for (uint32_t tries = 0; tries < range; tries++) {
            uint16_t port = m_next_ephemeral;
            m_next_ephemeral = port == kEphemeralLast ? kEphemeralFirst : uint16_t(port + 1);
            if (!conflicts(binding.local_address, port)) {
                binding.local_port = port;
                break;
            }
        }
        if (binding.local_port == 0)
            return Err(Error::EADDRNOTAVAIL);
    } else if (conflicts(binding.local_address, binding.local_port)) {
        return Err(Error::EADDRINUSE);
    }
    bucket(binding.local_port).push_back(binding);
    m_size++;
    return {};
}

void PortTable::unbind(PortBinding& binding)
{
    if (!binding.node.is_linked())
        return;
    binding.node.unlink();
    m_size--;
}

PortBinding* PortTable::lookup(Ipv4Address address, uint16_t port) const
{
    PortBinding* wildcard = nullptr;
    for (PortBinding& binding : bucket(port)) {
        if (binding.local_port != port)
            continue;
        if (binding.local_address == address)
            return &binding;
        if (binding.local_address == 0)
            wildcard = &binding;
    }
    return wildcard;
}

} // namespace keel::net
