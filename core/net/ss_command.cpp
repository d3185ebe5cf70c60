// ss: the kernel's sockets in Linux's columns (Netid, State, Recv-Q,
// Send-Q, Local Address:Port, Peer Address:Port). Without -l or -a it
// shows connected sockets only, with -l the listening (and unconnected
// datagram) ones, with -a both; -t and -u pick TCP or UDP. Connections
// whose socket was closed and that are still closing (TIME-WAIT, ...) are
// listed too, as Linux lists them. The table is copied first and printed
// after: the families are asked under their locks, and printing thousands
// of lines to a serial console under them would stop the network.
#include "console/console.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/net/address.h"
#include "log/log.h"
#include "mm/heap.h"
#include "net/socket.h"

namespace keel::net {

namespace {

struct SsOptions {
    bool tcp = false, udp = false, listening = false, all = false;
};

bool is_listening(const keel_socket_info& info)
{
    return strcmp(info.state, "LISTEN") == 0 || strcmp(info.state, "UNCONN") == 0;
}

void format_endpoint(const keel_sockaddr& address, bool wildcard_port, char* out, size_t size)
{
    char host[16];
    format_ipv4_address(address.address, host);
    if (wildcard_port && address.port == 0)
        format(out, size, "%s:*", host);
    else
        format(out, size, "%s:%u", host, address.port);
}

void show_socket(void* context, const char* netid, const keel_socket_info& info)
{
    const auto& options = *static_cast<const SsOptions*>(context);
    bool is_tcp = strcmp(netid, "tcp") == 0;
    bool is_udp = strcmp(netid, "udp") == 0;
    if ((options.tcp || options.udp) && !((options.tcp && is_tcp) || (options.udp && is_udp)))
        return;
    bool listening = is_listening(info);
    if (!options.all && listening != options.listening)
        return;
    char local[24], peer[24];
    format_endpoint(info.local, false, local, sizeof(local));
    format_endpoint(info.remote, true, peer, sizeof(peer));
    console_print(
        "%-5s %-10s %-6u %-6u %-21s %s\n", netid, info.state, info.receive_queue, info.send_queue, local, peer);
}

struct Entry {
    char netid[8];
    keel_socket_info info;
};

struct Table {
    Entry* entries = nullptr;
    size_t count = 0, capacity = 0, seen = 0;
};

void collect(void* context, const char* netid, const keel_socket_info& info)
{
    auto& table = *static_cast<Table*>(context);
    table.seen++;
    if (table.count == table.capacity)
        return;
    Entry& entry = table.entries[table.count++];
    size_t length = strnlen(netid, sizeof(entry.netid) - 1);
    memcpy(entry.netid, netid, length);
    entry.netid[length] = 0;
    entry.info = info;
}

void collect_all(Table& table)
{
    socket_for_each(collect, &table);
    // As Linux lists them: a connection whose socket was closed stays in
    // the table until it is gone (FIN-WAIT-2, LAST-ACK, TIME-WAIT, ...).
    socket_for_each_connection(collect, &table);
}

int ss_usage()
{
    console_print("usage: ss [-t] [-u] [-l] [-a] [-n] (numbers only: there are no names to resolve)\n");
    return 2;
}

int ss_command(int argc, char** argv)
{
    SsOptions options;
    for (int i = 1; i < argc; i++) {
        const char* argument = argv[i];
        if (argument[0] != '-' || !argument[1])
            return ss_usage();
        for (const char* flag = argument + 1; *flag; flag++) {
            switch (*flag) {
            case 't': options.tcp = true; break;
            case 'u': options.udp = true; break;
            case 'l': options.listening = true; break;
            case 'a': options.all = true; break;
            case 'n': break;
            default: return ss_usage();
            }
        }
    }
    console_print("%-5s %-10s %-6s %-6s %-21s %s\n", "Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port",
        "Peer Address:Port");
    // Counted first, then copied into room for them and a few more.
    Table table;
    collect_all(table);
    table.capacity = table.seen + 64;
    table.seen = 0;
    table.entries = static_cast<Entry*>(kmalloc(table.capacity * sizeof(Entry)));
    if (!table.entries) {
        console_print("ss: %s\n", error_description(Error::ENOMEM));
        return 1;
    }
    collect_all(table);
    for (size_t i = 0; i < table.count; i++)
        show_socket(&options, table.entries[i].netid, table.entries[i].info);
    kfree(table.entries);
    return 0;
}

} // namespace

KEEL_CONSOLE_COMMAND(
    ss, "ss", "[-t] [-u] [-l] [-a] [-n]", "list sockets (connected; -l listening, -a all)", ss_command);

} // namespace keel::net
