#include "lib/crypto/ed25519_scalar.h"

#include "lib/base/string.h"
#include "lib/crypto/bytes.h"

namespace keel::ed25519_scalar {

namespace {

using u128 = unsigned __int128;

// L - 2^252.
constexpr uint64_t order_c[2] = { 0x5812631a5cf5d3ed, 0x14def9dea2f79cd6 };

void limbs_sub(uint64_t* r, const uint64_t* a, const uint64_t* b)
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; ++i) {
        u128 diff = u128(a[i]) - b[i] - borrow;
        r[i] = uint64_t(diff);
        borrow = uint64_t(diff >> 64) & 1;
    }
}

void limbs_add(uint64_t* r, const uint64_t* a, const uint64_t* b)
{
    uint64_t carry = 0;
    for (int i = 0; i < 4; ++i) {
        u128 sum = u128(a[i]) + b[i] + carry;
        r[i] = uint64_t(sum);
        carry = uint64_t(sum >> 64);
    }
}

// x mod L for x of `count` limbs (at most 8). Writing x = hi * 2^252 + lo,
// 2^252 = -c (mod L), so x = lo - hi * c; hi * c is 125 bits shorter than
// x, so the recursion ends after a few steps (512, 385, 258, 131 bits).
void reduce_mod_l(const uint64_t* x, size_t count, uint64_t* out)
{
    uint64_t lo[4] = { 0, 0, 0, 0 };
    for (size_t i = 0; i < 4 && i < count; ++i)
        lo[i] = x[i];
    lo[3] &= (uint64_t(1) << 60) - 1;

    uint64_t hi[8] = {};
    size_t hi_count = 0;
    bool hi_zero = true;
    for (size_t i = 3; i < count; ++i) {
        uint64_t next = i + 1 < count ? x[i + 1] : 0;
        hi[hi_count] = (x[i] >> 60) | (next << 4);
        hi_zero = hi_zero && hi[hi_count] == 0;
        ++hi_count;
    }
    if (hi_zero) {
        for (int i = 0; i < 4; ++i)
            out[i] = lo[i];
        return;
    }

    // t = hi * c < 2^(64 count - 127): it fits in count - 1 limbs.
    uint64_t t[8] = {};
    for (size_t i = 0; i < hi_count; ++i) {
        uint64_t carry = 0;
        for (size_t j = 0; j < 2; ++j) {
            u128 product = u128(hi[i]) * order_c[j] + t[i + j] + carry;
            t[i + j] = uint64_t(product);
            carry = uint64_t(product >> 64);
        }
        t[i + 2] = carry;
    }
    uint64_t t_reduced[4];
    reduce_mod_l(t, count - 1, t_reduced);

    // lo - t mod L, with lo < 2^252 < L and t < L: lo + (L - t), less L.
    uint64_t negated[4];
    limbs_sub(negated, order_l.v, t_reduced);
    limbs_add(out, lo, negated);
    if (!scalar_less(Scalar { { out[0], out[1], out[2], out[3] } }, order_l))
        limbs_sub(out, out, order_l.v);
}

// a << shift, for results below 2^256.
Scalar shift_left(const Scalar& a, int shift)
{
    Scalar r = { { 0, 0, 0, 0 } };
    int limbs = shift / 64, bits = shift % 64;
    for (int i = 3; i >= limbs; --i) {
        uint64_t word = a.v[i - limbs] << bits;
        if (bits && i - limbs > 0)
            word |= a.v[i - limbs - 1] >> (64 - bits);
        r.v[i] = word;
    }
    return r;
}

// The 64 bits of a from bit `shift` up (zeros past bit 255).
uint64_t bits_at(const Scalar& a, int shift)
{
    if (shift >= 256)
        return 0;
    int limb = shift / 64, bit = shift % 64;
    uint64_t word = a.v[limb] >> bit;
    if (bit && limb < 3)
        word |= a.v[limb + 1] << (64 - bit);
    return word;
}

// a -= q b, for q b <= a.
void sub_multiple(Scalar& a, const Scalar& b, uint64_t q)
{
    uint64_t carry = 0, borrow = 0;
    for (int i = 0; i < 4; ++i) {
        u128 product = u128(b.v[i]) * q + carry;
        carry = uint64_t(product >> 64);
        u128 diff = u128(a.v[i]) - uint64_t(product) - borrow;
        a.v[i] = uint64_t(diff);
        borrow = uint64_t(diff >> 64) & 1;
    }
}

// a += q b, for sums below 2^256.
void add_multiple(Scalar& a, const Scalar& b, uint64_t q)
{
    uint64_t carry = 0;
    for (int i = 0; i < 4; ++i) {
        u128 sum = u128(b.v[i]) * q + a.v[i] + carry;
        a.v[i] = uint64_t(sum);
        carry = uint64_t(sum >> 64);
    }
}

// One step of the extended Euclidean algorithm on remainders (r_prev, r)
// and cofactor magnitudes (u_prev, u), for r_prev > r > 0: with
// q = r_prev / r, the pairs become (r, r_prev - q r) and (u, u_prev + q u).
void euclid_step(Scalar& r_prev, Scalar& r, Scalar& u_prev, Scalar& u)
{
    int prev_length = scalar_bit_length(r_prev);
    int length_difference = prev_length - scalar_bit_length(r);
    if (length_difference < 32) {
        // Lengths one apart or equal mean q < 4, found by subtracting
        // alone. Otherwise dividing the top 64 bits of r_prev by one more
        // than the same bits of r (at least 33 of them) underestimates q by
        // at most a few units, which the subtraction makes up for.
        if (length_difference > 1) {
            int shift = prev_length > 64 ? prev_length - 64 : 0;
            uint64_t divisor = bits_at(r, shift);
            uint64_t estimate = divisor == ~uint64_t(0) ? 0 : bits_at(r_prev, shift) / (divisor + 1);
            sub_multiple(r_prev, r, estimate);
            add_multiple(u_prev, u, estimate);
        }
        while (!scalar_less(r_prev, r)) {
            limbs_sub(r_prev.v, r_prev.v, r.v);
            limbs_add(u_prev.v, u_prev.v, u.v);
        }
    } else {
        // A quotient of 2^31 or more (about one step in 2^31): one bit at
        // a time.
        for (int shift = length_difference; shift >= 0; --shift) {
            Scalar shifted = shift_left(r, shift);
            if (!scalar_less(r_prev, shifted)) {
                limbs_sub(r_prev.v, r_prev.v, shifted.v);
                limbs_add(u_prev.v, u_prev.v, shift_left(u, shift).v);
            }
        }
    }
    Scalar swap = r_prev;
    r_prev = r;
    r = swap;
    swap = u_prev;
    u_prev = u;
    u = swap;
}

// The first Euclidean remainder below 2^pair_d_bits ends the reduction.
constexpr int pair_d_bits = key_parts * split_bits;

} // namespace

Scalar scalar_from_bytes(const uint8_t* s)
{
    Scalar r;
    for (int i = 0; i < 4; ++i)
        r.v[i] = load_le64(s + 8 * i);
    return r;
}

bool scalar_less(const Scalar& a, const Scalar& b)
{
    for (int i = 3; i >= 0; --i) {
        if (a.v[i] != b.v[i])
            return a.v[i] < b.v[i];
    }
    return false;
}

int scalar_bit_length(const Scalar& a)
{
    for (int i = 3; i >= 0; --i) {
        if (a.v[i])
            return 64 * i + 64 - __builtin_clzll(a.v[i]);
    }
    return 0;
}

Scalar reduce_wide(const uint8_t* bytes)
{
    uint64_t wide[8];
    for (int i = 0; i < 8; ++i)
        wide[i] = load_le64(bytes + 8 * i);
    Scalar r;
    reduce_mod_l(wide, 8, r.v);
    return r;
}

Scalar mul_mod_l(const Scalar& a, const Scalar& b)
{
    uint64_t product[8] = {};
    for (int i = 0; i < 4; ++i) {
        uint64_t carry = 0;
        for (int j = 0; j < 4; ++j) {
            u128 sum = u128(a.v[i]) * b.v[j] + product[i + j] + carry;
            product[i + j] = uint64_t(sum);
            carry = uint64_t(sum >> 64);
        }
        product[i + 4] = carry;
    }
    Scalar r;
    reduce_mod_l(product, 8, r.v);
    return r;
}

Scalar negate_mod_l(const Scalar& a)
{
    if (scalar_bit_length(a) == 0)
        return a;
    Scalar r;
    limbs_sub(r.v, order_l.v, a.v);
    return r;
}

Scalar scalar_bits(const Scalar& a, int shift, int count)
{
    Scalar r;
    for (int i = 0; i < 4; ++i) {
        int low = 64 * i;
        r.v[i] = low >= count ? 0 : bits_at(a, shift + low);
        if (count - low < 64 && low < count)
            r.v[i] &= (uint64_t(1) << (count - low)) - 1;
    }
    return r;
}

size_t scalar_to_wnaf(const Scalar& a, int width, int8_t* digits)
{
    memset(digits, 0, wnaf_digits);
    // Walking up from bit 0 with the carry of the digits below: a bit equal
    // to the carry needs no digit; otherwise the next `width` bits plus the
    // carry make an odd digit, negative (carrying one upwards) in the
    // window's upper half.
    const int window = 1 << width;
    int length = scalar_bit_length(a);
    int carry = 0;
    size_t used = 0;
    for (int bit = 0; bit < length || carry;) {
        int bit_value = bit < 256 ? int(a.v[bit / 64] >> (bit % 64)) & 1 : 0;
        if (bit_value == carry) {
            ++bit;
            continue;
        }
        int digit = int(bits_at(a, bit) & uint64_t(window - 1)) + carry;
        carry = digit >= window / 2;
        digit -= carry * window;
        digits[bit] = int8_t(digit);
        used = size_t(bit) + 1;
        bit += width;
    }
    return used;
}

int challenge_pair_length(const ChallengePair& pair)
{
    int c_length = scalar_bit_length(pair.c);
    int d_length = scalar_bit_length(pair.d) - (key_parts - 1) * split_bits;
    int length = c_length > d_length ? c_length : d_length;
    return length > split_bits ? length : split_bits;
}

ChallengePair challenge_pair(const Scalar& k)
{
    // The extended Euclidean algorithm on (L, k), stopped early (Pornin,
    // "Optimized lattice basis reduction in dimension 2, and fast Schnorr
    // and EdDSA signature verification", 2020, reduces the same lattice to
    // a balanced basis): every remainder is r_i = s_i L + t_i k = t_i k
    // (mod L), and |t_i| r_(i-1) <= L. Stopping at the first r_i below
    // 2^192 leaves r_(i-1) >= 2^192, so |t_i| <= L / 2^192 < 2^61. The t_i
    // alternate in sign from t_1 = 1, so only their magnitudes u_i are
    // kept. Fewer steps than a balanced pair needs.
    Scalar r_prev = order_l, r = k;
    Scalar u_prev = { { 0, 0, 0, 0 } }, u = { { 1, 0, 0, 0 } };
    bool negative = false;
    while (scalar_bit_length(r) > pair_d_bits) {
        euclid_step(r_prev, r, u_prev, u);
        negative = !negative;
    }
    if (u.v[0] & 1)
        return { u, negative, r };

    // c must be odd (ed25519.cpp says why). Consecutive t_i are coprime, so
    // t_(i-1) is odd, and so is t_(i+1) = t_(i-1) - q t_i; both have the
    // other sign. Take the one that costs fewer doublings.
    Scalar r_before = r_prev, r_next = r, u_before = u_prev, u_next = u;
    euclid_step(r_before, r_next, u_before, u_next); // (r_i, r_(i+1)), (u_i, u_(i+1))
    ChallengePair before = { u_prev, !negative, r_prev };
    ChallengePair next = { u_next, !negative, r_next };
    // r_(i+1) = 0 (when r_i = 1) comes with |t_(i+1)| = L: c = L would
    // accept any T of order L, so that pair is never taken.
    if (scalar_bit_length(r_next) == 0 || challenge_pair_length(before) <= challenge_pair_length(next))
        return before;
    return next;
}

} // namespace keel::ed25519_scalar
