/*
 * keel/inet.h: KABI_INET_1.0 to 1.4, what inet.kmod exports to the
 * protocol modules (icmp, udp, tcp: keel/icmp.h, keel/udp.h), to other
 * modules and to the core's console tools (which reach it with
 * keel_symbol_get, so that inet cannot unload while a tool is using it).
 * inet is IPv4 itself: interfaces and addresses, routes, ARP, header
 * checks and reassembly, the IP protocol table and the ICMP error hook;
 * the protocols are modules that register in its table. Addresses are
 * IPv4 addresses in host byte order (127.0.0.1 is 0x7f000001), ports in
 * host byte order. Every call may sleep.
 */
#pragma once

#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The IPv4 address of the device with interface index `ifindex`: 0 with
 * the address and its prefix length, -ENOENT when it has none. */
typedef int32_t keel_inet_address_fn(uint32_t ifindex, uint32_t* address, uint32_t* prefix_length);
int32_t keel_inet_address(uint32_t ifindex, uint32_t* address, uint32_t* prefix_length);

/* The IP protocol table, the simple form (KABI_INET_1.3's
 * keel_inet_protocol_add is the full one). The handler gets each datagram
 * of its protocol addressed to this host (not broadcasts): source,
 * destination, payload. It runs in inet's receive or timer thread, without
 * inet's locks; it must not unregister itself. */
typedef void (*keel_inet_protocol_handler)(
    void* arg, uint32_t source, uint32_t destination, const uint8_t* payload, size_t length);
/* 0; -EEXIST when the number is taken (1, 6 and 17 are while icmp, tcp
 * and udp are loaded); -EINVAL; -ENOMEM. */
typedef int32_t keel_inet_protocol_register_fn(uint8_t protocol, keel_inet_protocol_handler handler, void* arg);
int32_t keel_inet_protocol_register(uint8_t protocol, keel_inet_protocol_handler handler, void* arg);
/* After it returns the handler is not running and is never called again.
 * 0, -ENOENT. */
typedef int32_t keel_inet_protocol_unregister_fn(uint8_t protocol);
int32_t keel_inet_protocol_unregister(uint8_t protocol);
/* Sends `length` bytes as one datagram of `protocol`. 0, -EMSGSIZE,
 * -ENETUNREACH, -ENOMEM. */
typedef int32_t keel_inet_send_fn(uint8_t protocol, uint32_t destination, const uint8_t* payload, size_t length);
int32_t keel_inet_send(uint8_t protocol, uint32_t destination, const uint8_t* payload, size_t length);

/* KABI_INET_1.1: addresses, the default route and the neighbour cache,
 * for `ip addr add|del`, `ip route add|del` and `ip neigh`. */

/* Gives the device with interface index `ifindex` the address
 * `address`/`prefix_length` (one address a device; not lo). 0; -ENODEV (no
 * such device); -EEXIST (it has one); -EINVAL (a bad address or prefix,
 * lo); -ENOSPC (8 interfaces already); -ENOMEM. The interface goes by
 * itself, within a second, when its device unregisters. */
typedef int32_t keel_inet_address_add_fn(uint32_t ifindex, uint32_t address, uint32_t prefix_length);
int32_t keel_inet_address_add(uint32_t ifindex, uint32_t address, uint32_t prefix_length);
/* Takes the address away. 0; -EADDRNOTAVAIL (not this device's). */
typedef int32_t keel_inet_address_del_fn(uint32_t ifindex, uint32_t address, uint32_t prefix_length);
int32_t keel_inet_address_del(uint32_t ifindex, uint32_t address, uint32_t prefix_length);
/* The default route's gateway when it goes through device `ifindex`: 0;
 * -ENOENT. */
typedef int32_t keel_inet_gateway_fn(uint32_t ifindex, uint32_t* gateway);
int32_t keel_inet_gateway(uint32_t ifindex, uint32_t* gateway);
/* The default route through `gateway`, a neighbour on device `ifindex`
 * (0: the device whose network holds it). 0; -EEXIST (there is one);
 * -ENODEV; -ENETUNREACH (the gateway is on no device's network). */
typedef int32_t keel_inet_route_add_default_fn(uint32_t gateway, uint32_t ifindex);
int32_t keel_inet_route_add_default(uint32_t gateway, uint32_t ifindex);
/* 0; -ESRCH (there is none). */
typedef int32_t keel_inet_route_del_default_fn(void);
int32_t keel_inet_route_del_default(void);

#define KEEL_INET_NEIGHBOUR_INCOMPLETE 1 /* asked, no answer yet */
#define KEEL_INET_NEIGHBOUR_REACHABLE 2  /* answered */
/* The neighbour at `position` (0, 1, ...) of device `ifindex`'s cache:
 * 0 with its address, MAC (6 bytes) and KEEL_INET_NEIGHBOUR_* state;
 * -ENOENT past the last one or for a device without an address. */
typedef int32_t keel_inet_neighbour_fn(
    uint32_t ifindex, uint32_t position, uint32_t* address, uint8_t* mac, uint32_t* state);
int32_t keel_inet_neighbour(uint32_t ifindex, uint32_t position, uint32_t* address, uint8_t* mac, uint32_t* state);

/* KABI_INET_1.2: DHCP, for ip=dhcp and `dhclient`. */

/* What a DHCP server leased (addresses in host byte order). */
/* NOLINTNEXTLINE(readability-identifier-naming): the C ABI's names are keel_snake_case */
typedef struct keel_inet_lease {
    uint32_t address;
    uint32_t prefix_length;
    uint32_t router; /* the default route's gateway; 0: none set */
    uint32_t server; /* the server identifier */
    uint32_t dns[3];
    uint32_t dns_count;
    uint32_t lease_seconds; /* 0xffffffff: infinite */
} keel_inet_lease;

/* Runs a DHCP client (RFC 2131: DISCOVER, OFFER, REQUEST, ACK) on the
 * device with interface index `ifindex`, which must have no address,
 * bringing it up first, for at most `timeout_ms`. On the ACK the device
 * gets the address and, unless there is one already, the default route
 * via the router; `lease` (may be NULL) says what was leased. The lease
 * is not renewed. 0; -ETIMEDOUT; -ENODEV (no such device, or it went);
 * -EEXIST (it has an address); -EBUSY (a client runs on it); -EINVAL (lo);
 * -ENOMEM. */
typedef int32_t keel_inet_dhcp_fn(uint32_t ifindex, uint32_t timeout_ms, keel_inet_lease* lease);
int32_t keel_inet_dhcp(uint32_t ifindex, uint32_t timeout_ms, keel_inet_lease* lease);

/* KABI_INET_1.3: the seam between inet and the protocol modules. */

/* A datagram addressed to this host, as inet hands it to its protocol.
 * The bytes are valid for the length of the call. */
/* NOLINTNEXTLINE(readability-identifier-naming): the C ABI's names are keel_snake_case */
typedef struct keel_inet_datagram {
    uint32_t size;    /* sizeof(keel_inet_datagram) of the inet that filled it */
    uint32_t ifindex; /* the device it arrived on */
    uint32_t source;
    uint32_t destination;
    const uint8_t* bytes; /* the whole datagram: IP header, then payload */
    uint32_t header_length;
    uint32_t total_length;
    uint8_t protocol;
    uint8_t ttl;
    uint8_t broadcast; /* 1: to a broadcast address, or in a link broadcast */
    uint8_t reserved;
} keel_inet_datagram;

/* KABI_INET_1.4: an ICMP error this host received (destination
 * unreachable, time exceeded), as icmp.kmod read it: the message's type,
 * code and next-hop MTU (fragmentation needed, RFC 1191; 0 when not
 * given), who sent it, and the datagram of ours it quotes (its protocol,
 * addresses and total length, and the first bytes after its IP header:
 * at least 8). The bytes are valid for the length of the call. */
/* NOLINTNEXTLINE(readability-identifier-naming): the C ABI's names are keel_snake_case */
typedef struct keel_inet_icmp_report {
    uint32_t size; /* sizeof(keel_inet_icmp_report) of the module that filled it */
    uint8_t type;
    uint8_t code;
    uint16_t next_hop_mtu;
    uint32_t reporter;
    uint8_t protocol; /* of the quoted datagram */
    uint8_t reserved[3];
    uint32_t source; /* of the quoted datagram: this host */
    uint32_t destination;
    uint32_t quoted_total_length;
    const uint8_t* transport; /* the bytes after the quoted IP header */
    uint32_t transport_length;
} keel_inet_icmp_report;

#define KEEL_INET_PROTOCOL_OPS_VERSION 1
/* A protocol: checked as every ops table ({size, version}, every field
 * set, a name of 1 to 15 characters). `input` runs in inet's receive or
 * timer thread, one datagram at a time, without inet's locks: it may
 * call keel_inet_output, keel_inet_route, keel_inet_is_local and
 * keel_inet_icmp_error, not keel_inet_protocol_remove. */
/* NOLINTNEXTLINE(readability-identifier-naming): the C ABI's names are keel_snake_case */
typedef struct keel_inet_protocol_ops {
    uint32_t size;
    uint32_t version;
    uint8_t protocol;
    const char* name;
    void (*input)(void* arg, const keel_inet_datagram* datagram);
} keel_inet_protocol_ops;
/* Puts `ops` in the IP protocol table. 0; -EEXIST (the number is taken);
 * -EINVAL (a malformed table, logged with the reason); -ENOMEM. */
typedef int32_t keel_inet_protocol_add_fn(const keel_inet_protocol_ops* ops, void* arg);
int32_t keel_inet_protocol_add(const keel_inet_protocol_ops* ops, void* arg);
/* Takes it out and waits until its input is not running. 0; -ENOENT. */
typedef int32_t keel_inet_protocol_remove_fn(const keel_inet_protocol_ops* ops);
int32_t keel_inet_protocol_remove(const keel_inet_protocol_ops* ops);

/* Sends `length` bytes as one datagram of `protocol` from `source` (0:
 * the address keel_inet_route gives) to `destination`, fragmenting when
 * it exceeds the MTU. 0; -EMSGSIZE; -ENETUNREACH; -ENOMEM. */
typedef int32_t keel_inet_output_fn(
    uint8_t protocol, uint32_t source, uint32_t destination, const uint8_t* payload, size_t length);
int32_t keel_inet_output(
    uint8_t protocol, uint32_t source, uint32_t destination, const uint8_t* payload, size_t length);

/* KABI_INET_1.4: as keel_inet_output, and -EAGAIN when the device's
 * transmit queue was full and refused the datagram (or one of its
 * fragments): what was refused is not sent, and the protocol's
 * `writable` is called once there is room, so that a sender can wait
 * instead of losing it. keel_inet_output sends the same way and says 0
 * then. */
typedef int32_t keel_inet_transmit_fn(
    uint8_t protocol, uint32_t source, uint32_t destination, const uint8_t* payload, size_t length);
int32_t keel_inet_transmit(
    uint8_t protocol, uint32_t source, uint32_t destination, const uint8_t* payload, size_t length);

/* KABI_INET_1.5: as keel_inet_transmit for the bytes of `payload`, which
 * it takes over, even when it fails: inet pushes its headers into the
 * packet's headroom (leave KEEL_NET_HEADROOM) and hands it to the device
 * without copying it. -EINVAL for a NULL payload or one with under 64
 * bytes of headroom; -EMSGSIZE over 65,515 bytes. */
typedef int32_t keel_inet_transmit_pkt_fn(uint8_t protocol, uint32_t source, uint32_t destination, keel_pkt* payload);
int32_t keel_inet_transmit_pkt(uint8_t protocol, uint32_t source, uint32_t destination, keel_pkt* payload);

/* KABI_INET_1.4: `writable(arg)` (the `arg` the protocol was added with)
 * is called when a device's transmit queue that refused one of the
 * protocol's datagrams (keel_inet_transmit said -EAGAIN) has room again,
 * or can no longer send: try again. It runs in the netdev core's receive
 * thread, without inet's locks, until the protocol is removed. NULL stops
 * the calls. 0; -ENOENT (`ops` is not in the table); -EINVAL. */
typedef void (*keel_inet_writable)(void* arg);
typedef int32_t keel_inet_protocol_writable_fn(const keel_inet_protocol_ops* ops, keel_inet_writable writable);
int32_t keel_inet_protocol_writable(const keel_inet_protocol_ops* ops, keel_inet_writable writable);

/* Where a datagram to a destination leaves. */
/* NOLINTNEXTLINE(readability-identifier-naming): the C ABI's names are keel_snake_case */
typedef struct keel_inet_route_info {
    uint32_t size; /* set by the caller: sizeof(keel_inet_route_info) */
    uint32_t ifindex;
    uint32_t source; /* the address it leaves from */
    uint32_t mtu;
} keel_inet_route_info;
/* 0 with the route; -ENETUNREACH; -EINVAL (a bad size). A datagram to
 * one of the host's own addresses goes through lo and comes from that
 * address, as Linux's local table has it. */
typedef int32_t keel_inet_route_fn(uint32_t destination, keel_inet_route_info* route);
int32_t keel_inet_route(uint32_t destination, keel_inet_route_info* route);
/* 1 when `address` is this host's (127/8, an interface's address, or 0),
 * else 0. */
typedef int32_t keel_inet_is_local_fn(uint32_t address);
int32_t keel_inet_is_local(uint32_t address);

#define KEEL_INET_ICMP_OPS_VERSION 1
/* The ICMP error hook, which icmp.kmod fills: `error` sends an ICMP error
 * of `type` and `code` about `about` (a datagram this host received), as
 * RFC 1122 3.2.2 and its rate limit allow. Same context as `input`. */
/* NOLINTNEXTLINE(readability-identifier-naming): the C ABI's names are keel_snake_case */
typedef struct keel_inet_icmp_ops {
    uint32_t size;
    uint32_t version;
    void (*error)(void* arg, uint8_t type, uint8_t code, const keel_inet_datagram* about);
} keel_inet_icmp_ops;
/* 0; -EEXIST (one is set); -EINVAL (a malformed table). */
typedef int32_t keel_inet_icmp_register_fn(const keel_inet_icmp_ops* ops, void* arg);
int32_t keel_inet_icmp_register(const keel_inet_icmp_ops* ops, void* arg);
/* Takes it away and waits until `error` is not running. 0; -ENOENT. */
typedef int32_t keel_inet_icmp_unregister_fn(const keel_inet_icmp_ops* ops);
int32_t keel_inet_icmp_unregister(const keel_inet_icmp_ops* ops);
/* Asks for an ICMP error about `about` (udp's port unreachable). 0 when
 * the hook took it; -ENOTSUP when icmp is not loaded (no error is
 * sent, as Linux without ICMP would not). */
typedef int32_t keel_inet_icmp_error_fn(uint8_t type, uint8_t code, const keel_inet_datagram* about);
int32_t keel_inet_icmp_error(uint8_t type, uint8_t code, const keel_inet_datagram* about);

/* KABI_INET_1.4: `report(arg, report)` (the `arg` the protocol was added
 * with) gets each ICMP error about a datagram of this protocol that the
 * host sent, in icmp's context (without inet's locks or icmp's), with the
 * rules of `input`, until the protocol is removed. NULL stops the calls.
 * 0; -ENOENT (`ops` is not in the table); -EINVAL. */
typedef void (*keel_inet_icmp_reporter)(void* arg, const keel_inet_icmp_report* report);
typedef int32_t keel_inet_protocol_icmp_reports_fn(const keel_inet_protocol_ops* ops, keel_inet_icmp_reporter report);
int32_t keel_inet_protocol_icmp_reports(const keel_inet_protocol_ops* ops, keel_inet_icmp_reporter report);

/* KABI_INET_1.4: hands `report` (an ICMP error icmp.kmod received) to
 * the reporter of the protocol the quoted datagram is of. 0 when one took
 * it; -ENOENT when that protocol is not registered or takes no reports;
 * -EINVAL (a bad size or no quote). */
typedef int32_t keel_inet_icmp_deliver_fn(const keel_inet_icmp_report* report);
int32_t keel_inet_icmp_deliver(const keel_inet_icmp_report* report);

#ifdef __cplusplus
}
#endif
