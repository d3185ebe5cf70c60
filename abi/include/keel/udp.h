/*
 * keel/udp.h: KABI_UDP_1.0, what udp.kmod exports besides its socket
 * family (KEEL_AF_INET, KEEL_SOCK_DGRAM, through keel_socket_*): UDP
 * endpoints for in-kernel users. udp needs inet (DT_NEEDED). An endpoint
 * is bound to its port on every address of the host, now and later.
 * Addresses and ports in host byte order. Every call may sleep.
 */
#pragma once

#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A UDP endpoint bound to a local port (keel_udp_open). */
typedef struct keel_udp keel_udp;

/* Binds a UDP endpoint to `port` (0: an ephemeral port). 0, -EADDRINUSE,
 * -EADDRNOTAVAIL (no ephemeral port is free), -EINVAL, -ENOMEM. */
typedef int32_t keel_udp_open_fn(uint16_t port, keel_udp** out);
int32_t keel_udp_open(uint16_t port, keel_udp** out);
typedef uint16_t keel_udp_port_fn(const keel_udp* udp);
uint16_t keel_udp_port(const keel_udp* udp);
/* Sends one datagram. 0, -EMSGSIZE, -ENETUNREACH, -EINVAL, -ENOMEM. */
typedef int32_t keel_udp_send_fn(
    keel_udp* udp, uint32_t destination, uint16_t port, const uint8_t* bytes, size_t length);
int32_t keel_udp_send(keel_udp* udp, uint32_t destination, uint16_t port, const uint8_t* bytes, size_t length);
/* The next datagram, waiting at most `timeout_ms`: its length (copied up
 * to `capacity`), -ETIMEDOUT. `from` and `from_port` may be NULL. */
typedef int64_t keel_udp_receive_fn(
    keel_udp* udp, uint8_t* buffer, size_t capacity, uint32_t* from, uint16_t* from_port, uint32_t timeout_ms);
int64_t keel_udp_receive(
    keel_udp* udp, uint8_t* buffer, size_t capacity, uint32_t* from, uint16_t* from_port, uint32_t timeout_ms);
typedef void keel_udp_close_fn(keel_udp* udp);
void keel_udp_close(keel_udp* udp);

#ifdef __cplusplus
}
#endif
