// Ed25519 verification, written from RFC 8032 (sections 5.1.1-5.1.7) and
// the extended twisted Edwards formulas of Hisil, Wong, Carter and Dawson
// ("Twisted Edwards Curves Revisited", 2008) that the RFC quotes.
//
// Field elements mod p = 2^255 - 19 are five 51-bit limbs; products use
// unsigned __int128, which x86_64 multiplies natively (only 128-bit
// *division* would need compiler-rt, and nothing here divides).
#include "lib/crypto/ed25519.h"

#include "lib/crypto/bytes.h"
#include "lib/crypto/sha512.h"
#include "lib/string.h"

namespace keel {

namespace {

using u128 = unsigned __int128;

constexpr uint64_t mask51 = (uint64_t(1) << 51) - 1;

// Limbs stay below 2^52 between operations (every operation ends with a
// carry pass), which keeps the 128-bit product sums below 2^113.
struct Fe {
    uint64_t v[5];
};

// -121665/121666 mod p, 2d, and sqrt(-1) = 2^((p-1)/4) mod p.
constexpr Fe fe_d = { { 0x34dca135978a3, 0x1a8283b156ebd, 0x5e7a26001c029, 0x739c663a03cbb, 0x52036cee2b6ff } };
constexpr Fe fe_2d = { { 0x69b9426b2f159, 0x35050762add7a, 0x3cf44c0038052, 0x6738cc7407977, 0x2406d9dc56dff } };
constexpr Fe fe_sqrt_m1 = { { 0x61b274a0ea0b0, 0x0d5a5fc8f189d, 0x7ef5e9cbd0c60, 0x78595a6804c9e, 0x2b8324804fc1d } };
// The base point B: y = 4/5, x even (section 5.1).
constexpr Fe base_x = { { 0x62d608f25d51a, 0x412a4b4f6592a, 0x75b7171a4b31d, 0x1ff60527118fe, 0x216936d3cd6e5 } };
constexpr Fe base_y = { { 0x6666666666658, 0x4cccccccccccc, 0x1999999999999, 0x3333333333333, 0x6666666666666 } };

constexpr Fe fe_zero = { { 0, 0, 0, 0, 0 } };
constexpr Fe fe_one = { { 1, 0, 0, 0, 0 } };

inline void fe_carry(Fe& h)
{
    uint64_t c;
    c = h.v[0] >> 51;
    h.v[0] &= mask51;
    h.v[1] += c;
    c = h.v[1] >> 51;
    h.v[1] &= mask51;
    h.v[2] += c;
    c = h.v[2] >> 51;
    h.v[2] &= mask51;
    h.v[3] += c;
    c = h.v[3] >> 51;
    h.v[3] &= mask51;
    h.v[4] += c;
    c = h.v[4] >> 51;
    h.v[4] &= mask51;
    h.v[0] += 19 * c; // 2^255 = 19 (mod p)
}

inline Fe fe_add(const Fe& a, const Fe& b)
{
    Fe r;
    for (int i = 0; i < 5; ++i)
        r.v[i] = a.v[i] + b.v[i];
    fe_carry(r);
    return r;
}

// a - b computed as a + 4p - b, so no limb goes negative while b's limbs
// are below 2^53 - 76.
inline Fe fe_sub(const Fe& a, const Fe& b)
{
    Fe r;
    r.v[0] = a.v[0] + ((uint64_t(1) << 53) - 76) - b.v[0];
    for (int i = 1; i < 5; ++i)
        r.v[i] = a.v[i] + ((uint64_t(1) << 53) - 4) - b.v[i];
    fe_carry(r);
    return r;
}

inline Fe fe_neg(const Fe& a) { return fe_sub(fe_zero, a); }

// Folds five 128-bit column sums back into 51-bit limbs.
inline Fe fe_carry_wide(u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
    r1 += r0 >> 51;
    r2 += r1 >> 51;
    r3 += r2 >> 51;
    r4 += r3 >> 51;
    u128 top = r4 >> 51;
    Fe h;
    h.v[0] = uint64_t(r0) & mask51;
    h.v[1] = uint64_t(r1) & mask51;
    h.v[2] = uint64_t(r2) & mask51;
    h.v[3] = uint64_t(r3) & mask51;
    h.v[4] = uint64_t(r4) & mask51;
    // top < 2^62, so 19 * top needs the 128-bit width before folding.
    u128 low = u128(h.v[0]) + top * 19;
    h.v[0] = uint64_t(low) & mask51;
    h.v[1] += uint64_t(low >> 51);
    return h;
}

Fe fe_mul(const Fe& a, const Fe& b)
{
    // Limb i * limb j lands at 2^(51(i+j)); past limb 4 it wraps around
    // multiplied by 19, hence the pre-multiplied b * 19.
    uint64_t b1_19 = b.v[1] * 19, b2_19 = b.v[2] * 19, b3_19 = b.v[3] * 19, b4_19 = b.v[4] * 19;
    u128 r0 = u128(a.v[0]) * b.v[0] + u128(a.v[1]) * b4_19 + u128(a.v[2]) * b3_19 + u128(a.v[3]) * b2_19
        + u128(a.v[4]) * b1_19;
    u128 r1 = u128(a.v[0]) * b.v[1] + u128(a.v[1]) * b.v[0] + u128(a.v[2]) * b4_19 + u128(a.v[3]) * b3_19
        + u128(a.v[4]) * b2_19;
    u128 r2 = u128(a.v[0]) * b.v[2] + u128(a.v[1]) * b.v[1] + u128(a.v[2]) * b.v[0] + u128(a.v[3]) * b4_19
        + u128(a.v[4]) * b3_19;
    u128 r3 = u128(a.v[0]) * b.v[3] + u128(a.v[1]) * b.v[2] + u128(a.v[2]) * b.v[1] + u128(a.v[3]) * b.v[0]
        + u128(a.v[4]) * b4_19;
    u128 r4 = u128(a.v[0]) * b.v[4] + u128(a.v[1]) * b.v[3] + u128(a.v[2]) * b.v[2] + u128(a.v[3]) * b.v[1]
        + u128(a.v[4]) * b.v[0];
    return fe_carry_wide(r0, r1, r2, r3, r4);
}

Fe fe_sq(const Fe& a)
{
    uint64_t a0_2 = a.v[0] * 2, a1_2 = a.v[1] * 2;
    uint64_t a3_19 = a.v[3] * 19, a4_19 = a.v[4] * 19;
    u128 r0 = u128(a.v[0]) * a.v[0] + u128(a1_2) * a4_19 + u128(a.v[2] * 2) * a3_19;
    u128 r1 = u128(a0_2) * a.v[1] + u128(a.v[2] * 2) * a4_19 + u128(a.v[3]) * a3_19;
    u128 r2 = u128(a0_2) * a.v[2] + u128(a.v[1]) * a.v[1] + u128(a.v[3] * 2) * a4_19;
    u128 r3 = u128(a0_2) * a.v[3] + u128(a1_2) * a.v[2] + u128(a.v[4]) * a4_19;
    u128 r4 = u128(a0_2) * a.v[4] + u128(a1_2) * a.v[3] + u128(a.v[2]) * a.v[2];
    return fe_carry_wide(r0, r1, r2, r3, r4);
}

Fe fe_sq_times(Fe a, int times)
{
    for (int i = 0; i < times; ++i)
        a = fe_sq(a);
    return a;
}

// z^(2^250 - 1) and z^11, the common part of inversion and square root.
void fe_pow_2_250_minus_1(const Fe& z, Fe& z_2_250_1, Fe& z11)
{
    Fe z2 = fe_sq(z);
    Fe z9 = fe_mul(fe_sq_times(z2, 2), z);
    z11 = fe_mul(z9, z2);
    Fe z_5 = fe_mul(fe_sq(z11), z9); // 2^5 - 1
    Fe z_10 = fe_mul(fe_sq_times(z_5, 5), z_5);
    Fe z_20 = fe_mul(fe_sq_times(z_10, 10), z_10);
    Fe z_40 = fe_mul(fe_sq_times(z_20, 20), z_20);
    Fe z_50 = fe_mul(fe_sq_times(z_40, 10), z_10);
    Fe z_100 = fe_mul(fe_sq_times(z_50, 50), z_50);
    Fe z_200 = fe_mul(fe_sq_times(z_100, 100), z_100);
    z_2_250_1 = fe_mul(fe_sq_times(z_200, 50), z_50);
}

// z^(p-2) = z^-1 (Fermat).
Fe fe_invert(const Fe& z)
{
    Fe z_250, z11;
    fe_pow_2_250_minus_1(z, z_250, z11);
    return fe_mul(fe_sq_times(z_250, 5), z11); // 2^255 - 32 + 11
}

// z^((p-5)/8) = z^(2^252 - 3), for the square root in point decoding.
Fe fe_pow_p58(const Fe& z)
{
    Fe z_250, z11;
    fe_pow_2_250_minus_1(z, z_250, z11);
    return fe_mul(fe_sq_times(z_250, 2), z);
}

// Reads 255 bits; bit 255 (the sign of x in point encodings) is ignored.
Fe fe_from_bytes(const uint8_t* s)
{
    uint64_t w0 = load_le64(s), w1 = load_le64(s + 8), w2 = load_le64(s + 16), w3 = load_le64(s + 24);
    Fe h;
    h.v[0] = w0 & mask51;
    h.v[1] = ((w0 >> 51) | (w1 << 13)) & mask51;
    h.v[2] = ((w1 >> 38) | (w2 << 26)) & mask51;
    h.v[3] = ((w2 >> 25) | (w3 << 39)) & mask51;
    h.v[4] = (w3 >> 12) & mask51;
    return h;
}

// The unique representative in [0, p), little-endian.
void fe_to_bytes(uint8_t* s, Fe h)
{
    fe_carry(h);
    fe_carry(h);
    // Now h < 2^255 + 19, so h - p is negative or below p: subtract p
    // exactly when h + 19 reaches 2^255.
    uint64_t q = (h.v[0] + 19) >> 51;
    q = (h.v[1] + q) >> 51;
    q = (h.v[2] + q) >> 51;
    q = (h.v[3] + q) >> 51;
    q = (h.v[4] + q) >> 51;
    h.v[0] += 19 * q;
    for (int i = 0; i < 4; ++i) {
        h.v[i + 1] += h.v[i] >> 51;
        h.v[i] &= mask51;
    }
    h.v[4] &= mask51; // drops the 2^255 that q accounted for
    store_le64(s, h.v[0] | (h.v[1] << 51));
    store_le64(s + 8, (h.v[1] >> 13) | (h.v[2] << 38));
    store_le64(s + 16, (h.v[2] >> 26) | (h.v[3] << 25));
    store_le64(s + 24, (h.v[3] >> 39) | (h.v[4] << 12));
}

bool fe_is_zero(const Fe& a)
{
    uint8_t s[32];
    fe_to_bytes(s, a);
    uint8_t any = 0;
    for (uint8_t byte : s)
        any |= byte;
    return any == 0;
}

bool fe_equal(const Fe& a, const Fe& b) { return fe_is_zero(fe_sub(a, b)); }

// "Negative" in RFC 8032's sense: the canonical value is odd.
bool fe_is_negative(const Fe& a)
{
    uint8_t s[32];
    fe_to_bytes(s, a);
    return s[0] & 1;
}

// y < p for an encoded point (bit 255 masked off). p = 2^255 - 19 is
// 0xed, 0xff x 30, 0x7f in little-endian bytes, so only encodings whose
// top 250 bits are all ones can reach it.
bool encoding_is_canonical(const uint8_t* s)
{
    if ((s[31] & 0x7f) != 0x7f)
        return true;
    for (int i = 30; i >= 1; --i) {
        if (s[i] != 0xff)
            return true;
    }
    return s[0] < 0xed;
}

// Canonical y coordinates of the eight points of order dividing 8: the
// identity (y = 1), the point of order 2 (y = -1), the two of order 4
// (y = 0) and the four of order 8 (y = +-c, c a root of d y^4 + 2 y^2 = 1).
// Either sign of x gives a small-order point or no point at all.
constexpr uint8_t small_order_y[5][32] = {
    { 0 },
    { 1 },
    { 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
    { 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac,
        0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 },
    { 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53,
        0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a },
};

// For a canonical encoding: does it name a point of small order? Cheaper
// than decoding, which R otherwise never needs.
bool encoding_has_small_order(const uint8_t* s)
{
    for (const auto& y : small_order_y) {
        if (memcmp(s, y, 31) == 0 && (s[31] & 0x7f) == y[31])
            return true;
    }
    return false;
}

// Extended coordinates: x = X/Z, y = Y/Z, x*y = T/Z.
struct Point {
    Fe X, Y, Z, T;
};

// An addend prepared for repeated additions.
struct Cached {
    Fe y_plus_x, y_minus_x, z2, t2d;
};

Point point_identity() { return { fe_zero, fe_one, fe_one, fe_zero }; }

Cached to_cached(const Point& p)
{
    return { fe_add(p.Y, p.X), fe_sub(p.Y, p.X), fe_add(p.Z, p.Z), fe_mul(p.T, fe_2d) };
}

// Section 5.1.4 addition (a = -1), with q's factors precomputed.
Point point_add(const Point& p, const Cached& q)
{
    Fe a = fe_mul(fe_sub(p.Y, p.X), q.y_minus_x);
    Fe b = fe_mul(fe_add(p.Y, p.X), q.y_plus_x);
    Fe c = fe_mul(p.T, q.t2d);
    Fe d = fe_mul(p.Z, q.z2);
    Fe e = fe_sub(b, a), f = fe_sub(d, c), g = fe_add(d, c), h = fe_add(b, a);
    return { fe_mul(e, f), fe_mul(g, h), fe_mul(f, g), fe_mul(e, h) };
}

// p - q: -q = (-x, y) swaps y+x with y-x and negates t.
Point point_sub(const Point& p, const Cached& q)
{
    Fe a = fe_mul(fe_sub(p.Y, p.X), q.y_plus_x);
    Fe b = fe_mul(fe_add(p.Y, p.X), q.y_minus_x);
    Fe c = fe_mul(p.T, q.t2d);
    Fe d = fe_mul(p.Z, q.z2);
    Fe e = fe_sub(b, a), f = fe_add(d, c), g = fe_sub(d, c), h = fe_add(b, a);
    return { fe_mul(e, f), fe_mul(g, h), fe_mul(f, g), fe_mul(e, h) };
}

// Section 5.1.4 doubling.
Point point_double(const Point& p)
{
    Fe a = fe_sq(p.X);
    Fe b = fe_sq(p.Y);
    Fe zz = fe_sq(p.Z);
    Fe c = fe_add(zz, zz);
    Fe h = fe_add(a, b);
    Fe e = fe_sub(h, fe_sq(fe_add(p.X, p.Y)));
    Fe g = fe_sub(a, b);
    Fe f = fe_add(c, g);
    return { fe_mul(e, f), fe_mul(g, h), fe_mul(f, g), fe_mul(e, h) };
}

// Section 5.1.3, for a canonical encoding.
bool point_decode(Point& out, const uint8_t* s)
{
    Fe y = fe_from_bytes(s);
    bool x_sign = s[31] >> 7;
    Fe yy = fe_sq(y);
    Fe u = fe_sub(yy, fe_one);
    Fe v = fe_add(fe_mul(fe_d, yy), fe_one);
    Fe v3 = fe_mul(fe_sq(v), v);
    Fe v7 = fe_mul(fe_sq(v3), v);
    // Candidate root x = u v^3 (u v^7)^((p-5)/8) of x^2 = u / v.
    Fe x = fe_mul(fe_mul(u, v3), fe_pow_p58(fe_mul(u, v7)));
    Fe vxx = fe_mul(v, fe_sq(x));
    if (!fe_equal(vxx, u)) {
        if (!fe_equal(vxx, fe_neg(u)))
            return false; // u / v is not a square: no point has this y
        x = fe_mul(x, fe_sqrt_m1);
    }
    if (fe_is_zero(x) && x_sign)
        return false;
    if (fe_is_negative(x) != x_sign)
        x = fe_neg(x);
    out = { x, y, fe_one, fe_mul(x, y) };
    return true;
}

void point_encode(uint8_t* s, const Point& p)
{
    Fe z_inverse = fe_invert(p.Z);
    Fe x = fe_mul(p.X, z_inverse);
    Fe y = fe_mul(p.Y, z_inverse);
    fe_to_bytes(s, y);
    s[31] |= uint8_t(fe_is_negative(x)) << 7;
}

bool point_has_small_order(const Point& p)
{
    Point q = point_double(point_double(point_double(p)));
    // [8]P is the identity or, impossibly in a group of order 8L, the
    // point (0, -1) of order 2: both have x = 0.
    return fe_is_zero(q.X);
}

// Scalars mod L = 2^252 + c, as four 64-bit little-endian limbs.
constexpr uint64_t order_l[4] = { 0x5812631a5cf5d3ed, 0x14def9dea2f79cd6, 0, 0x1000000000000000 };
constexpr uint64_t order_c[2] = { 0x5812631a5cf5d3ed, 0x14def9dea2f79cd6 };

// a >= b for 4-limb numbers.
bool limbs_greater_equal(const uint64_t* a, const uint64_t* b)
{
    for (int i = 3; i >= 0; --i) {
        if (a[i] != b[i])
            return a[i] > b[i];
    }
    return true;
}

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
    limbs_sub(negated, order_l, t_reduced);
    limbs_add(out, lo, negated);
    if (limbs_greater_equal(out, order_l))
        limbs_sub(out, out, order_l);
}

void scalar_load(uint64_t* limbs, const uint8_t* s)
{
    for (int i = 0; i < 4; ++i)
        limbs[i] = load_le64(s + 8 * i);
}

// Width-5 non-adjacent form: digits in {0, +-1, +-3, ..., +-15}, any two
// nonzero digits at least five places apart, so a scalar costs about 51
// additions of precomputed odd multiples instead of 126.
void scalar_to_wnaf(const uint64_t* scalar, int8_t* digits)
{
    uint64_t k[5] = { scalar[0], scalar[1], scalar[2], scalar[3], 0 };
    for (int i = 0; i < 256; ++i) {
        int digit = 0;
        if (k[0] & 1) {
            digit = int(k[0] & 31);
            if (digit >= 16)
                digit -= 32;
            // k -= digit; k's low five bits are digit's, so this only
            // clears them (digit > 0) or carries upwards (digit < 0).
            uint64_t delta = uint64_t(digit < 0 ? -digit : digit);
            if (digit > 0) {
                k[0] -= delta;
            } else {
                u128 sum = u128(k[0]) + delta;
                k[0] = uint64_t(sum);
                for (int j = 1; j < 5 && (sum >> 64); ++j) {
                    sum = u128(k[j]) + 1;
                    k[j] = uint64_t(sum);
                }
            }
        }
        digits[i] = int8_t(digit);
        for (int j = 0; j < 4; ++j)
            k[j] = (k[j] >> 1) | (k[j + 1] << 63);
        k[4] >>= 1;
    }
}

void odd_multiples(const Point& p, Cached* table)
{
    // table[i] = (2i + 1) p
    Cached twice = to_cached(point_double(p));
    Point current = p;
    table[0] = to_cached(p);
    for (int i = 1; i < 8; ++i) {
        current = point_add(current, twice);
        table[i] = to_cached(current);
    }
}

void add_digit(Point& p, const Cached* table, int digit)
{
    if (digit > 0)
        p = point_add(p, table[digit / 2]);
    else if (digit < 0)
        p = point_sub(p, table[-digit / 2]);
}

// [s]B - [k]A, both scalars walked together (Straus-Shamir) so the
// doublings are shared.
Point double_scalar_mult(const uint64_t* s, const uint64_t* k, const Point& a)
{
    int8_t s_digits[256], k_digits[256];
    scalar_to_wnaf(s, s_digits);
    scalar_to_wnaf(k, k_digits);

    Cached b_table[8], a_table[8];
    Point base = { base_x, base_y, fe_one, fe_mul(base_x, base_y) };
    odd_multiples(base, b_table);
    odd_multiples(a, a_table);

    int top = 255;
    while (top >= 0 && s_digits[top] == 0 && k_digits[top] == 0)
        --top;
    Point r = point_identity();
    for (int i = top; i >= 0; --i) {
        r = point_double(r);
        add_digit(r, b_table, s_digits[i]);
        add_digit(r, a_table, -k_digits[i]);
    }
    return r;
}

} // namespace

const char* ed25519_status_text(Ed25519Status status)
{
    switch (status) {
    case Ed25519Status::Valid: return "valid";
    case Ed25519Status::NonCanonicalS: return "S is not below the group order (non-canonical, malleable)";
    case Ed25519Status::NonCanonicalR: return "R is a non-canonical point encoding";
    case Ed25519Status::SmallOrderR: return "R is a point of small order";
    case Ed25519Status::NonCanonicalKey: return "public key is a non-canonical point encoding";
    case Ed25519Status::KeyNotOnCurve: return "public key is not a point on the curve";
    case Ed25519Status::SmallOrderKey: return "public key is a point of small order";
    case Ed25519Status::EquationMismatch: return "signature does not match the key and message";
    }
    return "unknown status";
}

Ed25519Status ed25519_check_public_key(const uint8_t* public_key)
{
    if (!encoding_is_canonical(public_key))
        return Ed25519Status::NonCanonicalKey;
    Point a;
    if (!point_decode(a, public_key))
        return Ed25519Status::KeyNotOnCurve;
    if (point_has_small_order(a))
        return Ed25519Status::SmallOrderKey;
    return Ed25519Status::Valid;
}

Ed25519Status ed25519_verify_detailed(
    const uint8_t* signature, const uint8_t* public_key, const void* message, size_t message_size)
{
    const uint8_t* r_bytes = signature;
    const uint8_t* s_bytes = signature + 32;

    uint64_t s[4];
    scalar_load(s, s_bytes);
    if (limbs_greater_equal(s, order_l))
        return Ed25519Status::NonCanonicalS;
    if (!encoding_is_canonical(r_bytes))
        return Ed25519Status::NonCanonicalR;
    if (encoding_has_small_order(r_bytes))
        return Ed25519Status::SmallOrderR;

    if (!encoding_is_canonical(public_key))
        return Ed25519Status::NonCanonicalKey;
    Point a;
    if (!point_decode(a, public_key))
        return Ed25519Status::KeyNotOnCurve;
    if (point_has_small_order(a))
        return Ed25519Status::SmallOrderKey;

    // k = SHA-512(R || A || M) mod L
    Sha512 sha;
    sha.update(r_bytes, 32);
    sha.update(public_key, 32);
    sha.update(message, message_size);
    Sha512Digest h = sha.finish();
    uint64_t wide[8];
    for (int i = 0; i < 8; ++i)
        wide[i] = load_le64(h.bytes + 8 * i);
    uint64_t k[4];
    reduce_mod_l(wide, 8, k);

    uint8_t r_check[32];
    point_encode(r_check, double_scalar_mult(s, k, a));
    return memcmp(r_check, r_bytes, 32) == 0 ? Ed25519Status::Valid : Ed25519Status::EquationMismatch;
}

} // namespace keel
