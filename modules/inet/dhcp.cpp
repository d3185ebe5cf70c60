// KABI_INET_1.2 (keel/inet.h): keel_inet_dhcp, a DHCP client run on a
// device without an address (the protocol library's dhcp::Client). Its
// messages leave as whole broadcast frames from 0.0.0.0:68 and the
// replies are picked out of the device's IPv4 frames (dhcp_input, from
// inet's receive handler) until the lease is bound; then the device gets
// the address and, when no other device has one, the default route via
// the router, as `ip addr add` and `ip route add default` would. The run
// then stays to keep the lease (RFC 2131 4.4.5): inet's timer thread
// ticks it, the server's replies to the leased address are taken before
// the interface sees them (dhcp_input again), RENEWING and REBINDING
// REQUESTs leave through the interface from the leased address, and a
// lease that expires or is refused takes the address away and the client
// starts over. A keeper whose address was removed (`ip addr del`, the
// device gone) ends.
#include <keel/inet.h>
#include <keel/module.h>

#include "internal.h"
#include "lib/base/string.h"
#include "lib/net/address.h"
#include "lib/net/dhcp_client.h"
#include "lib/net/dhcp_frame.h"
#include "lib/net/udp.h"

using inet::g_state;
using inet::Locked;
namespace dhcp = keel::net::dhcp;

namespace {

constexpr uint64_t kStepNs = 10 * 1000 * 1000;

// One run: the device's frames go to it while it lasts.
class Run : public dhcp::Client::Output {
public:
    Run(uint32_t index, const keel::net::MacAddress& mac, uint32_t seed)
        : client(*this, mac, seed)
        , m_mac(mac)
    {
        m_link.index = index;
    }

    void send_message(const uint8_t* message, size_t length) override
    {
        keel::net::PacketPtr frame = dhcp::build_client_frame(m_mac, message, length, m_identification++);
        if (frame)
            m_link.transmit(move(frame));
    }

    // Once bound: a UDP datagram from the leased address, through the
    // interface that has it; the lock held.
    void send_from_address(const uint8_t* message, size_t length, keel::net::Ipv4Address source,
        keel::net::Ipv4Address destination) override
    {
        inet::Interface* interface = inet::find_interface(index());
        if (!interface)
            return;
        keel::net::PacketPtr packet(
            keel::net::Packet::create(keel::net::Ipv4Interface::kHeadroom, keel::net::kUdpHeaderSize + length));
        if (!packet)
            return;
        uint8_t* out = packet->put(keel::net::kUdpHeaderSize + length);
        memcpy(out + keel::net::kUdpHeaderSize, message, length);
        keel::net::write_udp(out, dhcp::kClientPort, dhcp::kServerPort, length, source, destination);
        (void)interface->host->output(move(packet), keel::net::kIpProtocolUdp, source, destination, inet::now_ms());
    }

    // The lease changed after it was bound; the lock held.
    void lease_event(dhcp::LeaseEvent event, const dhcp::Lease& lease) override;

    uint32_t index() const { return m_link.index; }

    dhcp::Client client;
    bool keeping = false; // the lease is bound and this run keeps it (the timer thread ticks it)
    bool applied = false; // the device has the lease's address

private:
    inet::DeviceLink m_link;
    keel::net::MacAddress m_mac;
    uint16_t m_identification = 1;
};

// The runs in progress, one a device, under the lock.
Run* g_runs[inet::kMaxInterfaces] = {};

Run** slot_of(uint32_t index)
{
    for (Run*& run : g_runs) {
        if (run && run->index() == index)
            return &run;
    }
    return nullptr;
}

bool has_default_route()
{
    for (const inet::Interface& interface : g_state.interfaces) {
        if (interface.index && interface.host->config().gateway)
            return true;
    }
    return false;
}

// The lease made real; the lock held. 0 or add_interface's error.
int32_t apply_lease(uint32_t index, const dhcp::Lease& lease, keel_inet_lease* out)
{
    int32_t status = inet::add_interface(index, lease.address, lease.prefix_length);
    if (status)
        return status;
    inet::Interface* interface = inet::find_interface(index);
    bool routed = lease.router && !has_default_route();
    if (routed)
        interface->host->set_gateway(lease.router);
    char address[16], server[16], router[16];
    keel::net::format_ipv4_address(lease.address, address);
    keel::net::format_ipv4_address(lease.server, server);
    keel::net::format_ipv4_address(lease.router, router);
    keel_logf(KEEL_LOG_INFO, "inet: %s: DHCP lease %s/%u from %s, router %s, %u s", interface->name, address,
        lease.prefix_length, server, lease.router ? router : "none", lease.lease_seconds);
    if (lease.router && !routed)
        keel_logf(
            KEEL_LOG_NOTICE, "inet: %s: a default route exists already; router %s not used", interface->name, router);
    if (out) {
        out->address = lease.address;
        out->prefix_length = lease.prefix_length;
        out->router = routed ? lease.router : 0;
        out->server = lease.server;
        out->dns_count = uint32_t(lease.dns_count);
        for (size_t i = 0; i < lease.dns_count; i++)
            out->dns[i] = lease.dns[i];
        out->lease_seconds = lease.lease_seconds;
    }
    return 0;
}

// Checks the device and brings it up; its MAC in `mac`.
int32_t prepare_device(uint32_t index, keel::net::MacAddress& mac)
{
    keel_netdev* device = keel_netdev_get_by_index(index, inet::kHolder);
    if (!device)
        return -KEEL_ENODEV;
    keel_netdev_info info {};
    info.size = sizeof(info);
    info.version = KEEL_NETDEV_INFO_VERSION;
    int32_t status = keel_netdev_info_get(device, &info);
    if (status == 0 && (info.flags & KEEL_NETDEV_LOOPBACK))
        status = -KEEL_EINVAL;
    if (status == 0 && !(info.flags & KEEL_NETDEV_UP))
        status = keel_netdev_set_up(device, 1);
    memcpy(mac.bytes, info.mac, sizeof(mac.bytes));
    keel_netdev_put(device, inet::kHolder);
    return status;
}

const char* name_of(uint32_t index, char (&name)[16])
{
    name[0] = 0;
    if (keel_netdev* device = keel_netdev_get_by_index(index, inet::kHolder)) {
        keel_netdev_info info {};
        info.size = sizeof(info);
        info.version = KEEL_NETDEV_INFO_VERSION;
        if (keel_netdev_info_get(device, &info) == 0)
            memcpy(name, info.name, sizeof(name));
        name[sizeof(name) - 1] = 0;
        keel_netdev_put(device, inet::kHolder);
    }
    return name;
}

void Run::lease_event(dhcp::LeaseEvent event, const dhcp::Lease& lease)
{
    char name[16], address[16], server[16];
    name_of(index(), name);
    keel::net::format_ipv4_address(lease.address, address);
    keel::net::format_ipv4_address(lease.server, server);
    inet::Interface* interface = inet::find_interface(index());
    switch (event) {
    case dhcp::LeaseEvent::Renewing:
        keel_logf(KEEL_LOG_INFO, "inet: %s: DHCP lease %s: renewing with %s (T1, %u s)", name, address, server,
            lease.renewal_seconds);
        return;
    case dhcp::LeaseEvent::Rebinding:
        keel_logf(KEEL_LOG_NOTICE, "inet: %s: DHCP lease %s: no answer from %s, rebinding with any server (T2, %u s)",
            name, address, server, lease.rebinding_seconds);
        return;
    case dhcp::LeaseEvent::Renewed:
        if (interface && interface->host->config().address != lease.address) {
            // Another address: the old one goes, the new one comes as a new lease.
            inet::remove_interface(*interface);
            (void)apply_lease(index(), lease, nullptr);
            return;
        }
        keel_logf(KEEL_LOG_INFO, "inet: %s: DHCP lease %s/%u renewed by %s, %u s", name, address, lease.prefix_length,
            server, lease.lease_seconds);
        return;
    case dhcp::LeaseEvent::Expired:
    case dhcp::LeaseEvent::Refused:
        keel_logf(KEEL_LOG_WARNING, "inet: %s: DHCP lease %s %s: %s/%u removed, asking again", name, address,
            event == dhcp::LeaseEvent::Expired ? "expired" : "refused by the server", address, lease.prefix_length);
        if (interface && interface->host->config().address == lease.address)
            inet::remove_interface(*interface);
        applied = false;
        return;
    }
}

void destroy_run(Run** slot)
{
    keel::net::net_destroy(*slot);
    *slot = nullptr;
}

// Whether a keeping run still has its reason to be: its device is there,
// and, while it holds a lease, the device has the leased address.
bool keeper_wanted(Run& run)
{
    keel_netdev* device = keel_netdev_get_by_index(run.index(), inet::kHolder);
    if (!device)
        return false;
    keel_netdev_put(device, inet::kHolder);
    if (!run.applied)
        return true; // lost its lease and asking again
    inet::Interface* interface = inet::find_interface(run.index());
    return interface && interface->host->config().address == run.client.lease().address;
}

} // namespace

void inet::dhcp_input(uint32_t index, const uint8_t* frame, size_t length)
{
    Run** slot = slot_of(index);
    if (!slot)
        return;
    auto message = dhcp::server_message_of(frame, length, nullptr);
    if (message.is_ok())
        (*slot)->client.receive(message.value().bytes, message.value().length, now_ms());
}

bool inet::dhcp_take(uint32_t index, const uint8_t* frame, size_t length)
{
    Run** slot = slot_of(index);
    if (!slot || !(*slot)->keeping)
        return false;
    auto message = dhcp::server_message_of(frame, length, nullptr);
    if (message.is_error())
        return false;
    (*slot)->client.receive(message.value().bytes, message.value().length, now_ms());
    return true;
}

void inet::dhcp_tick()
{
    for (Run*& run : g_runs) {
        if (!run || !run->keeping)
            continue;
        if (!keeper_wanted(*run)) {
            destroy_run(&run);
            continue;
        }
        run->client.tick(now_ms());
        // Bound again after losing the lease: the address comes back.
        if (!run->applied && run->client.state() == dhcp::Client::State::Bound) {
            if (apply_lease(run->index(), run->client.lease(), nullptr) == 0)
                run->applied = true;
            else
                destroy_run(&run); // the device got an address meanwhile (ip addr add)
        }
    }
}

void inet::dhcp_stop_all()
{
    for (Run*& run : g_runs) {
        if (run)
            destroy_run(&run);
    }
}

extern "C" KEEL_EXPORT int32_t keel_inet_dhcp(uint32_t ifindex, uint32_t timeout_ms, keel_inet_lease* lease)
{
    keel::net::MacAddress mac;
    uint32_t seed = 0;
    keel_get_random_bytes(&seed, sizeof(seed));
    Run* run = nullptr;
    {
        Locked locked;
        if (inet::find_interface(ifindex))
            return -KEEL_EEXIST; // it has an address
        if (Run** kept = slot_of(ifindex)) {
            if (!(*kept)->keeping)
                return -KEEL_EBUSY;
            destroy_run(kept); // it kept a lease that is gone, or asks again: this run takes over
        }
        Run** free_slot = nullptr;
        for (Run*& candidate : g_runs) {
            if (!candidate && !free_slot)
                free_slot = &candidate;
        }
        if (!free_slot)
            return -KEEL_EBUSY;
        int32_t status = prepare_device(ifindex, mac);
        if (status)
            return status;
        run = keel::net::net_create<Run>(ifindex, mac, seed);
        if (!run)
            return -KEEL_ENOMEM;
        *free_slot = run;
        run->client.start(inet::now_ms());
    }
    uint64_t deadline = keel_monotonic_ns() + uint64_t(timeout_ms) * 1000000;
    int32_t status = -KEEL_ETIMEDOUT;
    for (;;) {
        {
            Locked locked;
            run->client.tick(inet::now_ms());
            if (run->client.state() == dhcp::Client::State::Bound) {
                status = apply_lease(ifindex, run->client.lease(), lease);
                if (status == 0) {
                    run->keeping = true; // the timer thread keeps the lease from now on
                    run->applied = true;
                }
                break;
            }
            keel_netdev* device = keel_netdev_get_by_index(ifindex, inet::kHolder);
            if (!device) {
                status = -KEEL_ENODEV; // it went away meanwhile
                break;
            }
            keel_netdev_put(device, inet::kHolder);
        }
        if (keel_monotonic_ns() >= deadline)
            break;
        keel_sleep_ns(kStepNs);
    }
    if (status == 0)
        return 0;
    {
        Locked locked;
        *slot_of(ifindex) = nullptr;
    }
    keel::net::net_destroy(run);
    return status;
}
