#include "lib/net/tcp/syn_cookie.h"

#include "lib/base/string.h"
#include "lib/crypto/sha256.h"
#include "lib/net/bytes.h"

namespace keel::net::tcp {

namespace {

// MSS values a cookie can carry: the common ones on Ethernet paths
// (1460 plain, 1452 PPPoE, 1440 and 1360 tunnels), RFC 9293's default
// 536, 64 for a peer that offered less (the least this TCP sends) and a
// jumbo frame's. A peer gets the largest at or below what it offered.
constexpr uint16_t kMss[8] = { 64, 536, 1200, 1360, 1440, 1452, 1460, 8960 };
constexpr uint32_t kHashBits = 27;
constexpr uint32_t kHashMask = (1u << kHashBits) - 1;

uint32_t keyed_hash(const uint8_t (&secret)[kSynCookieSecretSize], const Tuple& tuple, uint32_t peer_isn,
    uint32_t counter, uint32_t mss_index)
{
    uint8_t input[kSynCookieSecretSize + 24];
    memcpy(input, secret, kSynCookieSecretSize);
    uint8_t* fields = input + kSynCookieSecretSize;
    store32(fields, tuple.local_address);
    store32(fields + 4, tuple.remote_address);
    store16(fields + 8, tuple.local_port);
    store16(fields + 10, tuple.remote_port);
    store32(fields + 12, peer_isn);
    store32(fields + 16, counter);
    store32(fields + 20, mss_index | 0x636b0000u); // "ck": apart from the ISNs' hash
    Sha256Digest digest = Sha256::hash(input, sizeof(input));
    return load32(digest.bytes) & kHashMask;
}

uint32_t counter_at(Millis now) { return uint32_t(now / kSynCookiePeriod); }

} // namespace

uint32_t make_syn_cookie(
    const uint8_t (&secret)[kSynCookieSecretSize], const Tuple& tuple, uint32_t peer_isn, uint16_t peer_mss, Millis now)
{
    uint32_t mss = peer_mss ? peer_mss : 536;
    uint32_t index = 0;
    while (index + 1 < 8 && kMss[index + 1] <= mss)
        index++;
    uint32_t counter = counter_at(now);
    return (counter & 3) << 30 | index << kHashBits | keyed_hash(secret, tuple, peer_isn, counter, index);
}

uint16_t check_syn_cookie(
    const uint8_t (&secret)[kSynCookieSecretSize], const Tuple& tuple, uint32_t peer_isn, uint32_t cookie, Millis now)
{
    uint32_t current = counter_at(now);
    uint32_t counter = current - ((current - (cookie >> 30)) & 3);
    if (current - counter > 1)
        return 0; // two periods old or more
    uint32_t index = (cookie >> kHashBits) & 7;
    if (keyed_hash(secret, tuple, peer_isn, counter, index) != (cookie & kHashMask))
        return 0;
    return kMss[index];
}

} // namespace keel::net::tcp
