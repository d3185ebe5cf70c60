// KABI_INET_1.0's IP protocol table: modules add protocols beyond ICMP,
// UDP and TCP, and send datagrams of them. The table is lo's interface's:
// datagrams of a module's protocol are sent on any interface (by route)
// but received only through lo for now.
#include <keel/inet.h>
#include <keel/module.h>

#include "internal.h"

using inet::errno_of;
using inet::g_state;
using inet::Locked;

namespace {

// One registered protocol: the library's handler calling the module's.
class ModuleProtocol : public keel::net::ProtocolHandler {
public:
    void input(const keel::net::Ipv4Header& header, const uint8_t* payload, size_t length) override
    {
        handler(arg, header.source, header.destination, payload, length);
    }
    keel_inet_protocol_handler handler = nullptr;
    void* arg = nullptr;
};

ModuleProtocol* g_protocols[256];

} // namespace

extern "C" KEEL_EXPORT int32_t keel_inet_protocol_register(
    uint8_t protocol, keel_inet_protocol_handler handler, void* arg)
{
    if (!handler)
        return -KEEL_EINVAL;
    auto* entry = keel::net::net_create<ModuleProtocol>();
    if (!entry)
        return -KEEL_ENOMEM;
    entry->handler = handler;
    entry->arg = arg;
    Locked locked;
    if (auto registered = g_state.interface->register_protocol(protocol, *entry); registered.is_error()) {
        keel::net::net_destroy(entry);
        return errno_of(registered.error());
    }
    g_protocols[protocol] = entry;
    return 0;
}

extern "C" KEEL_EXPORT int32_t keel_inet_protocol_unregister(uint8_t protocol)
{
    // Handlers run under the lock: holding it, none is running.
    Locked locked;
    ModuleProtocol* entry = g_protocols[protocol];
    if (!entry)
        return -KEEL_ENOENT;
    g_state.interface->unregister_protocol(protocol);
    g_protocols[protocol] = nullptr;
    keel::net::net_destroy(entry);
    return 0;
}

extern "C" KEEL_EXPORT int32_t keel_inet_send(
    uint8_t protocol, uint32_t destination, const uint8_t* payload, size_t length)
{
    if (!payload && length)
        return -KEEL_EINVAL;
    Locked locked;
    inet::Interface* interface = inet::route(destination);
    if (!interface)
        return -KEEL_ENETUNREACH;
    auto sent = interface->host->send_datagram(protocol, destination, payload, length, inet::now_ms());
    return sent.is_error() ? errno_of(sent.error()) : 0;
}
