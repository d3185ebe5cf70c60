/*
 * keel/inet.h: KABI_INET_1.0, what inet.kmod exports to other modules and
 * to the core's console tools (which reach it with keel_symbol_get, so
 * that inet cannot unload while a tool is using it). Addresses are IPv4
 * addresses in host byte order (127.0.0.1 is 0x7f000001), ports in host
 * byte order. Every call may sleep.
 */
#pragma once

#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A UDP endpoint bound to a local port (keel_inet_udp_open). */
typedef struct keel_inet_udp keel_inet_udp;

/* An ICMP echo request of `size` bytes of data to `destination`, then a
 * wait of at most `timeout_ms` for its reply. 0 with the reply's source,
 * data length and TTL; -ETIMEDOUT; -ENETUNREACH; -EINVAL (size over
 * 65507); -ENOMEM. */
typedef int32_t keel_inet_ping_fn(uint32_t destination, uint16_t identifier, uint16_t sequence, uint32_t size,
    uint32_t timeout_ms, uint32_t* from, uint32_t* length, uint32_t* ttl);
int32_t keel_inet_ping(uint32_t destination, uint16_t identifier, uint16_t sequence, uint32_t size, uint32_t timeout_ms,
    uint32_t* from, uint32_t* length, uint32_t* ttl);

/* The IPv4 address of the device with interface index `ifindex`: 0 with
 * the address and its prefix length, -ENOENT when it has none. */
typedef int32_t keel_inet_address_fn(uint32_t ifindex, uint32_t* address, uint32_t* prefix_length);
int32_t keel_inet_address(uint32_t ifindex, uint32_t* address, uint32_t* prefix_length);

/* The IP protocol table, beyond ICMP, UDP and TCP (which inet handles
 * itself). The handler gets each datagram of its protocol addressed to
 * this host (not broadcasts): source, destination, payload. It runs with
 * inet's lock held, in the core's receive thread: it must not call
 * keel_inet_* functions. */
typedef void (*keel_inet_protocol_handler)(
    void* arg, uint32_t source, uint32_t destination, const uint8_t* payload, size_t length);
/* 0; -EEXIST when the number is taken (1, 6 and 17 always are). */
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

/* Binds a UDP endpoint to `port` (0: an ephemeral port). 0, -EADDRINUSE,
 * -ENOMEM. */
typedef int32_t keel_inet_udp_open_fn(uint16_t port, keel_inet_udp** out);
int32_t keel_inet_udp_open(uint16_t port, keel_inet_udp** out);
typedef uint16_t keel_inet_udp_port_fn(const keel_inet_udp* udp);
uint16_t keel_inet_udp_port(const keel_inet_udp* udp);
/* Sends one datagram. 0, -EMSGSIZE, -ENETUNREACH, -ENOMEM. */
typedef int32_t keel_inet_udp_send_fn(
    keel_inet_udp* udp, uint32_t destination, uint16_t port, const uint8_t* bytes, size_t length);
int32_t keel_inet_udp_send(
    keel_inet_udp* udp, uint32_t destination, uint16_t port, const uint8_t* bytes, size_t length);
/* The next datagram, waiting at most `timeout_ms`: its length (copied up
 * to `capacity`), -ETIMEDOUT. `from` and `from_port` may be NULL. */
typedef int64_t keel_inet_udp_receive_fn(
    keel_inet_udp* udp, uint8_t* buffer, size_t capacity, uint32_t* from, uint16_t* from_port, uint32_t timeout_ms);
int64_t keel_inet_udp_receive(
    keel_inet_udp* udp, uint8_t* buffer, size_t capacity, uint32_t* from, uint16_t* from_port, uint32_t timeout_ms);
typedef void keel_inet_udp_close_fn(keel_inet_udp* udp);
void keel_inet_udp_close(keel_inet_udp* udp);

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

#ifdef __cplusplus
}
#endif
