/*
 * keel/icmp.h: KABI_ICMP_1.0, what icmp.kmod exports. icmp needs inet
 * (DT_NEEDED); while it is loaded inet answers echo requests and sends
 * the ICMP errors the other protocols ask for (keel_inet_icmp_error).
 * Addresses in host byte order. Every call may sleep.
 */
#pragma once

#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An ICMP echo request of `size` bytes of data to `destination`, then a
 * wait of at most `timeout_ms` for its reply. 0 with the reply's source,
 * data length and TTL; -ETIMEDOUT; -ENETUNREACH; -EINVAL (size over
 * 65507); -ENOMEM. */
typedef int32_t keel_icmp_ping_fn(uint32_t destination, uint16_t identifier, uint16_t sequence, uint32_t size,
    uint32_t timeout_ms, uint32_t* from, uint32_t* length, uint32_t* ttl);
int32_t keel_icmp_ping(uint32_t destination, uint16_t identifier, uint16_t sequence, uint32_t size, uint32_t timeout_ms,
    uint32_t* from, uint32_t* length, uint32_t* ttl);

#ifdef __cplusplus
}
#endif
