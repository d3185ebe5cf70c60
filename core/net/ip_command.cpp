// ip [-s] [-d] OBJECT ...: dispatches to the object's handler.
#include "net/ip_command.h"

#include "console/console.h"
#include "lib/base/string.h"
#include "log/log.h"

namespace keel::net {

bool DeviceFilter::parse(int argc, char** argv)
{
    int at = 0;
    if (at < argc && (strcmp(argv[at], "show") == 0 || strcmp(argv[at], "list") == 0))
        at++;
    if (at < argc && strcmp(argv[at], "dev") == 0)
        at++;
    if (at < argc)
        only = argv[at++];
    return at == argc;
}

bool DeviceFilter::select(const NetdevSnapshot& device)
{
    if (only && strcmp(only, device.name) != 0)
        return false;
    found = true;
    return true;
}

int DeviceFilter::finish() const
{
    if (!only || found)
        return 0;
    console_print("Device \"%s\" does not exist.\n", only);
    return 1;
}

namespace {

int ip_usage()
{
    console_print("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n"
                  "where  OBJECT := { link | address | route | neigh }\n"
                  "       OPTIONS := { -s[tatistics] | -d[etails] }\n");
    return 2;
}

int ip_command(int argc, char** argv)
{
    IpOptions options;
    int at = 1;
    for (; at < argc && argv[at][0] == '-'; at++) {
        if (strcmp(argv[at], "-s") == 0 || strcmp(argv[at], "-statistics") == 0) {
            options.error_details = options.statistics; // given twice
            options.statistics = true;
        } else if (strcmp(argv[at], "-d") == 0 || strcmp(argv[at], "-details") == 0)
            options.details = true;
        else
            return ip_usage();
    }
    if (at >= argc)
        return ip_usage();
    const char* object = argv[at++];
    if (strcmp(object, "link") == 0 || strcmp(object, "l") == 0)
        return ip_link(options, argc - at, argv + at);
    if (strcmp(object, "addr") == 0 || strcmp(object, "address") == 0 || strcmp(object, "a") == 0)
        return ip_addr(options, argc - at, argv + at);
    if (strcmp(object, "route") == 0 || strcmp(object, "r") == 0)
        return ip_route(options, argc - at, argv + at);
    if (strcmp(object, "neigh") == 0 || strcmp(object, "neighbour") == 0 || strcmp(object, "n") == 0)
        return ip_neigh(options, argc - at, argv + at);
    console_print("Object \"%s\" is unknown, try \"ip help\".\n", object);
    return 1;
}

} // namespace

} // namespace keel::net

KEEL_CONSOLE_COMMAND(ip, "ip", "[-s] [-d] OBJECT [COMMAND ...]",
    "network devices, addresses, routes and neighbours (ip link, ip addr, ip route, ip neigh)", keel::net::ip_command);
