// Sequence-number arithmetic (RFC 9293 3.4): 32-bit numbers compared
// modulo 2^32, valid while the numbers compared are less than 2^31 apart.
#pragma once

#include <stdint.h>

namespace keel::net::tcp {

constexpr bool seq_lt(uint32_t a, uint32_t b) { return int32_t(a - b) < 0; }
constexpr bool seq_le(uint32_t a, uint32_t b) { return int32_t(a - b) <= 0; }
constexpr bool seq_gt(uint32_t a, uint32_t b) { return int32_t(a - b) > 0; }
constexpr bool seq_ge(uint32_t a, uint32_t b) { return int32_t(a - b) >= 0; }
// a <= x < b, modulo 2^32.
constexpr bool seq_in(uint32_t x, uint32_t a, uint32_t b) { return seq_le(a, x) && seq_lt(x, b); }

} // namespace keel::net::tcp
