// `dhclient [-t SECONDS] [DEV]`: a lease from a DHCP server for DEV (by
// default the first Ethernet device), through inet.kmod's keel_inet_dhcp;
// the address and the default route are set as `ip addr add` and `ip
// route add default` would. The lease is not renewed.
#include <keel/inet.h>

#include "console/console.h"
#include "console/inet_symbol.h"
#include "lib/base/errno.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"
#include "net/dhcp_lease.h"

namespace keel {

namespace {

constexpr uint64_t kDefaultTimeoutS = 20;
constexpr uint64_t kMaxTimeoutS = 600;

int usage()
{
    console_print("Usage: dhclient [-t SECONDS] [DEV]\n");
    return 2;
}

int dhclient_command(int argc, char** argv)
{
    uint64_t timeout_s = kDefaultTimeoutS;
    const char* wanted = "";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            Result<uint64_t> value = parse_uint(argv[i + 1], strlen(argv[i + 1]));
            if (value.is_error() || value.value() == 0 || value.value() > kMaxTimeoutS) {
                console_print("dhclient: -t takes 1 to %llu seconds\n", (unsigned long long)kMaxTimeoutS);
                return 2;
            }
            timeout_s = value.value();
            i++;
        } else if (argv[i][0] == '-' || *wanted) {
            return usage();
        } else {
            wanted = argv[i];
        }
    }
    char name[16] = {};
    uint32_t index = net::find_ethernet_device(wanted, name, sizeof(name));
    if (!index) {
        if (*wanted)
            console_print("Cannot find device \"%s\"\n", wanted);
        else
            console_print("dhclient: no network device\n");
        return 1;
    }
    keel_inet_lease lease {};
    net::InetSymbol<keel_inet_dhcp_fn> dhcp("keel_inet_dhcp", "KABI_INET_1.2");
    if (!dhcp) {
        console_print("dhclient: the IPv4 protocols are not loaded (insmod inet)\n");
        return 1;
    }
    int32_t status = dhcp(index, uint32_t(timeout_s * 1000), &lease);
    if (status == -int32_t(Error::ETIMEDOUT)) {
        console_print("dhclient: %s: no lease within %llu s\n", name, (unsigned long long)timeout_s);
        return 1;
    }
    if (status == -int32_t(Error::EEXIST)) {
        console_print("dhclient: %s has an address already (ip addr del it first)\n", name);
        return 1;
    }
    if (status) {
        console_print("dhclient: %s: %s\n", name, error_description(Error(-status)));
        return 1;
    }
    char text[96];
    net::format_lease(lease, text, sizeof(text));
    console_print("dhclient: %s: lease %s\n", name, text);
    return 0;
}

} // namespace

KEEL_CONSOLE_COMMAND(dhclient, "dhclient", "[-t SECONDS] [DEV]",
    "get an IPv4 address and default route from a DHCP server (inet.kmod)", dhclient_command);

} // namespace keel
