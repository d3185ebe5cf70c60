#include "lib/net/ip_param.h"

#include "lib/base/string.h"
#include "lib/net/address.h"

namespace keel::net {

namespace {

constexpr size_t kFields = 7; // client .. autoconf; more are ignored
constexpr size_t kFieldMax = 63;

enum class Autoconf { None, Off, Dhcp, Bad };

Autoconf autoconf_of(const char* text)
{
    if (!*text)
        return Autoconf::None;
    if (!strcmp(text, "off") || !strcmp(text, "none"))
        return Autoconf::Off;
    if (!strcmp(text, "dhcp") || !strcmp(text, "on") || !strcmp(text, "any"))
        return Autoconf::Dhcp;
    return Autoconf::Bad;
}

bool device_name_ok(const char* name)
{
    size_t length = strlen(name);
    if (length == 0 || length > 15)
        return false;
    for (const char* c = name; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
            return false;
    }
    return true;
}

Err invalid(Diagnostic* diagnostic, const char* fmt, const char* what)
{
    diagnose(diagnostic, fmt, what);
    return Err(Error::EINVAL);
}

constexpr const char* kUsage = "give dhcp, on, any, off, none or CLIENT:SERVER:GATEWAY:NETMASK:HOST:DEVICE:AUTOCONF";

} // namespace

Result<IpParam> parse_ip_param(const char* text, Diagnostic* diagnostic)
{
    IpParam param;
    if (!strchr(text, ':')) {
        switch (autoconf_of(text)) {
        case Autoconf::Off: return param;
        case Autoconf::Dhcp: param.mode = IpParam::Mode::Dhcp; return param;
        default: break;
        }
        if (!strcmp(text, "bootp") || !strcmp(text, "rarp") || !strcmp(text, "both"))
            return invalid(diagnostic, "%s is not implemented (dhcp is)", text);
        diagnose(diagnostic, "%s", kUsage);
        return Err(Error::EINVAL);
    }
    char fields[kFields][kFieldMax + 1] = {};
    size_t field = 0;
    size_t length = 0;
    for (const char* c = text; *c && field < kFields; c++) {
        if (*c == ':') {
            field++;
            length = 0;
            continue;
        }
        if (length == kFieldMax)
            return invalid(diagnostic, "%s", "a field is longer than 63 bytes");
        fields[field][length++] = *c;
    }
    const char* client = fields[0];
    const char* gateway = fields[2];
    const char* netmask = fields[3];
    const char* device = fields[5];
    Autoconf autoconf = autoconf_of(fields[6]);
    if (autoconf == Autoconf::Bad) {
        if (!strcmp(fields[6], "bootp") || !strcmp(fields[6], "rarp") || !strcmp(fields[6], "both"))
            return invalid(diagnostic, "autoconf %s is not implemented (dhcp is)", fields[6]);
        return invalid(diagnostic, "autoconf %s: give dhcp, on, any, off or none", fields[6]);
    }
    if (*device) {
        if (!device_name_ok(device))
            return invalid(diagnostic, "device %s: 1 to 15 of [a-z0-9_.-]", device);
        memcpy(param.device, device, strlen(device) + 1);
    }
    if (!*client) {
        if (autoconf == Autoconf::Off) {
            diagnose(diagnostic, "off without a client address configures nothing; %s", kUsage);
            return Err(Error::EINVAL);
        }
        param.mode = IpParam::Mode::Dhcp;
        if (*gateway) {
            // Taken over the router the server gives (or does not give).
            auto router = parse_ipv4_address(gateway);
            if (router.is_error() || router.value() == 0 || ipv4_is_loopback(router.value())
                || (router.value() >> 28) >= 14)
                return invalid(diagnostic, "gateway %s is not a host's address", gateway);
            param.gateway = router.value();
        }
        return param;
    }
    if (autoconf == Autoconf::Dhcp)
        return invalid(diagnostic, "a client address %s with DHCP: leave one of them out", client);
    auto address = parse_ipv4_address(client);
    if (address.is_error() || address.value() == 0 || ipv4_is_loopback(address.value())
        || (address.value() >> 28) >= 14)
        return invalid(diagnostic, "client address %s is not a host's address", client);
    param.mode = IpParam::Mode::Static;
    param.address = address.value();
    if (*netmask) {
        auto mask = parse_ipv4_address(netmask);
        uint8_t prefix = 0;
        while (mask.is_ok() && prefix < 32 && (mask.value() & (0x80000000u >> prefix)))
            prefix++;
        if (mask.is_error() || prefix == 0 || mask.value() != ~uint32_t(0) << (32 - prefix) || prefix > 30)
            return invalid(diagnostic, "netmask %s is not a mask of 1 to 30 bits", netmask);
        param.prefix_length = prefix;
    }
    if (*gateway) {
        auto router = parse_ipv4_address(gateway);
        uint32_t mask = ~uint32_t(0) << (32 - param.prefix_length);
        if (router.is_error() || (router.value() & mask) != (param.address & mask) || router.value() == param.address)
            return invalid(diagnostic, "gateway %s is not another host on the client's network", gateway);
        param.gateway = router.value();
    }
    return param;
}

} // namespace keel::net
