// `ip link` with iproute2's syntax and output shape:
//   ip [-s] [-d] link [show [DEV]]
//   ip link set DEV up|down
// -s adds the RX/TX statistics, -s -s their error lines (where iproute2
// puts the carrier transitions, transns), -d the holders of references to
// each device (what an unregister would wait for). An up device without a
// carrier is NO-CARRIER and state DOWN, as Linux shows it.
#include "console/console.h"
#include "lib/base/string.h"
#include "log/log.h"
#include "net/ip_command.h"
#include "net/netdev.h"

namespace keel::net {

namespace {

struct ShowOptions {
    DeviceFilter filter;
    bool statistics = false;
    bool error_details = false;
    bool details = false;
};

void print_flags(uint32_t flags)
{
    console_print("<");
    bool first = true;
    auto flag = [&](bool set, const char* name) {
        if (!set)
            return;
        console_print("%s%s", first ? "" : ",", name);
        first = false;
    };
    bool carrier = flags & (netdev::kFlagLowerUp | netdev::kFlagLoopback);
    flag((flags & netdev::kFlagUp) && !carrier, "NO-CARRIER");
    flag(flags & netdev::kFlagLoopback, "LOOPBACK");
    flag(flags & netdev::kFlagBroadcast, "BROADCAST");
    flag(flags & netdev::kFlagUp, "UP");
    flag((flags & netdev::kFlagUp) && carrier, "LOWER_UP");
    console_print(">");
}

const char* state_of(uint32_t flags)
{
    if (!(flags & netdev::kFlagUp))
        return "DOWN";
    if (flags & netdev::kFlagLoopback)
        return "UNKNOWN";
    return flags & netdev::kFlagLowerUp ? "UP" : "DOWN";
}

void print_mac(const netdev::MacAddress& mac)
{
    const uint8_t* b = mac.bytes;
    console_print("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

void show_device(const NetdevSnapshot& device, void* context)
{
    auto* options = static_cast<ShowOptions*>(context);
    if (!options->filter.select(device))
        return;
    print_link(device, true);
    if (options->details)
        console_print("    holders %u%s%s\n", device.holders, device.holders ? " first " : "", device.first_holder);
    if (options->statistics) {
        const netdev::NetdevStats& s = device.stats;
        console_print("    RX:  bytes packets errors dropped missed   mcast\n");
        console_print("    %10llu %7llu %6llu %7llu %6u %7u\n", (unsigned long long)s.rx_bytes,
            (unsigned long long)s.rx_packets, (unsigned long long)s.rx_errors, (unsigned long long)s.rx_dropped, 0u,
            0u);
        if (options->error_details) {
            console_print("    RX errors:  length    crc   frame    fifo overrun\n");
            console_print("    %16u %6u %7u %7u %7u\n", 0u, 0u, 0u, 0u, 0u);
        }
        console_print("    TX:  bytes packets errors dropped carrier collsns\n");
        console_print("    %10llu %7llu %6llu %7llu %7u %7u\n", (unsigned long long)s.tx_bytes,
            (unsigned long long)s.tx_packets, (unsigned long long)s.tx_errors, (unsigned long long)s.tx_dropped, 0u,
            0u);
        if (options->error_details) {
            console_print("    TX errors: aborted   fifo  window heartbt transns\n");
            console_print("    %16u %6u %7u %7u %7llu\n", 0u, 0u, 0u, 0u, (unsigned long long)device.carrier_changes);
        }
    }
}

} // namespace

void print_link(const NetdevSnapshot& device, bool with_mode)
{
    console_print("%u: %s: ", device.index, device.name);
    print_flags(device.flags);
    console_print(" mtu %u qdisc noqueue state %s%s group default qlen %zu\n", device.mtu, state_of(device.flags),
        with_mode ? " mode DEFAULT" : "", netdev::kTxQueueLimit);
    bool loopback = device.flags & netdev::kFlagLoopback;
    console_print("    link/%s ", loopback ? "loopback" : "ether");
    print_mac(device.mac);
    console_print(" brd ");
    print_mac(loopback ? netdev::MacAddress {} : netdev::MacAddress::broadcast());
    console_print("\n");
}

namespace {

int link_usage()
{
    console_print("Usage: ip [-s] [-d] link [show [DEV]]\n       ip link set DEV { up | down }\n");
    return 2;
}

int link_set(int argc, char** argv)
{
    if (argc != 2 || (strcmp(argv[1], "up") != 0 && strcmp(argv[1], "down") != 0))
        return link_usage();
    netdev::Netdev* device = netdev_get(argv[0], "ip");
    if (!device) {
        console_print("Cannot find device \"%s\"\n", argv[0]);
        return 1;
    }
    auto done = netdev_set_up(*device, strcmp(argv[1], "up") == 0);
    netdev_put(*device, "ip");
    if (done.is_error()) {
        console_print("RTNETLINK answers: %s\n", error_description(done.error()));
        return 2;
    }
    return 0;
}

} // namespace

int ip_link(const IpOptions& ip, int argc, char** argv)
{
    if (argc >= 1 && strcmp(argv[0], "set") == 0)
        return link_set(argc - 1, argv + 1);
    ShowOptions options;
    options.statistics = ip.statistics;
    options.error_details = ip.error_details;
    options.details = ip.details;
    if (!options.filter.parse(argc, argv))
        return link_usage();
    netdev_for_each(show_device, &options);
    return options.filter.finish();
}

} // namespace keel::net
