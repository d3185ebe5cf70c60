// The field and group operations of curve25519.h, from RFC 8032 sections
// 5.1.1-5.1.4 and the extended twisted Edwards formulas of Hisil, Wong,
// Carter and Dawson that the RFC quotes.
#include "lib/crypto/curve25519.h"

#include "crypto_arch/field51.h"
#include "lib/crypto/bytes.h"
#include "lib/crypto/field51_portable.h"

namespace keel::curve25519 {

namespace {

// Adds the carry out of limb 4 back in at limb 0, times 19 (2^255 = 19 mod
// p). top < 2^75, so 19 * top needs the 128-bit width.
void fold_top(Fe& h, u128 top)
{
    u128 low = u128(h.v[0]) + top * 19;
    h.v[0] = uint64_t(low) & mask51;
    h.v[1] += uint64_t(low >> 51);
}

// Multiplication and squaring come from crypto_arch/field51.h: assembly on
// x86_64 (the header says why), field51_portable.h elsewhere.
// Inlined into doubling and into the runs of squarings in exponentiation:
// under QEMU the calls would cost about 6% of a verification.
[[gnu::always_inline]] inline Fe square(const Fe& a)
{
    Fe h;
    fold_top(h, crypto_arch::field51_square(h.v, a.v));
    return h;
}

} // namespace

Fe fe_mul(const Fe& a, const Fe& b)
{
    Fe h;
    fold_top(h, crypto_arch::field51_mul(h.v, a.v, b.v));
    return h;
}

Fe fe_sq(const Fe& a) { return square(a); }

Fe fe_mul_portable(const Fe& a, const Fe& b)
{
    Fe h;
    fold_top(h, field51_portable::mul(h.v, a.v, b.v));
    return h;
}

Fe fe_sq_portable(const Fe& a)
{
    Fe h;
    fold_top(h, field51_portable::square(h.v, a.v));
    return h;
}

namespace {

// Out of line: the compiler would otherwise inline a copy into each of the
// ten calls, 4 KiB of kernel image for 2% of a verification.
[[gnu::noinline]] Fe fe_sq_times(Fe a, int times)
{
    for (int i = 0; i < times; ++i)
        a = square(a);
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

// z^((p-5)/8) = z^(2^252 - 3), for the square root in point decoding.
Fe fe_pow_p58(const Fe& z)
{
    Fe z_250, z11;
    fe_pow_2_250_minus_1(z, z_250, z11);
    return fe_mul(fe_sq_times(z_250, 2), z);
}

// "Negative" in RFC 8032's sense: the canonical value is odd.
bool fe_is_negative(const Fe& a)
{
    uint8_t s[32];
    fe_to_bytes(s, a);
    return s[0] & 1;
}

} // namespace

// z^(p-2) = z^-1 (Fermat).
Fe fe_invert(const Fe& z)
{
    Fe z_250, z11;
    fe_pow_2_250_minus_1(z, z_250, z11);
    return fe_mul(fe_sq_times(z_250, 5), z11); // 2^255 - 32 + 11
}

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

Point point_identity() { return { fe_zero, fe_one, fe_one, fe_zero }; }

Point base_point() { return { base_x, base_y, fe_one, fe_mul(base_x, base_y) }; }

ProjectivePoint to_projective(const CompletedPoint& p)
{
    return { fe_mul(p.X, p.T), fe_mul(p.Y, p.Z), fe_mul(p.Z, p.T) };
}

Point to_extended(const CompletedPoint& p)
{
    return { fe_mul(p.X, p.T), fe_mul(p.Y, p.Z), fe_mul(p.Z, p.T), fe_mul(p.X, p.Y) };
}

Cached to_cached(const Point& p)
{
    return { fe_add(p.Y, p.X), fe_sub(p.Y, p.X), fe_add(p.Z, p.Z), fe_mul(p.T, fe_2d) };
}

Niels to_niels(const Point& p)
{
    Fe z_inverse = fe_invert(p.Z);
    Fe x = fe_mul(p.X, z_inverse);
    Fe y = fe_mul(p.Y, z_inverse);
    return { fe_add(y, x), fe_sub(y, x), fe_mul(fe_mul(x, y), fe_2d) };
}

// Section 5.1.4 doubling, which never reads T. With E, F, G, H as the RFC
// names them, the result is (E F : G H : F G : E H), kept as x = E/G,
// y = H/F.
CompletedPoint point_double(const ProjectivePoint& p)
{
    Fe a = square(p.X);
    Fe b = square(p.Y);
    Fe zz = square(p.Z);
    Fe h = fe_add_lazy(a, b);                             // < 2^53
    Fe e = fe_sub_lazy(h, square(fe_add_lazy(p.X, p.Y))); // < 2^54
    Fe g = fe_sub_lazy(a, b);                             // < 2^54
    Fe f = fe_add_lazy(fe_add_lazy(zz, zz), g);           // < 2^55
    return { e, h, g, f };
}

namespace {

// Section 5.1.4 addition (a = -1) from q's precomputed factors, giving the
// same E, F, G, H as doubling: c = T1 2d T2 and d = 2 Z1 Z2 are the caller's.
// Subtracting q adds -q = (-x, y): y+x and y-x swap, and t (so c) negates.
[[gnu::always_inline]] inline CompletedPoint add_or_subtract(
    const Point& p, const Fe& y_plus_x, const Fe& y_minus_x, const Fe& c, const Fe& d, bool subtract)
{
    Fe a = fe_mul(fe_sub_lazy(p.Y, p.X), subtract ? y_plus_x : y_minus_x);
    Fe b = fe_mul(fe_add_lazy(p.Y, p.X), subtract ? y_minus_x : y_plus_x);
    Fe g = subtract ? fe_sub_lazy(d, c) : fe_add_lazy(d, c);
    Fe h = subtract ? fe_add_lazy(d, c) : fe_sub_lazy(d, c);
    return { fe_sub_lazy(b, a), fe_add_lazy(b, a), g, h };
}

} // namespace

CompletedPoint point_add(const Point& p, const Cached& q)
{
    return add_or_subtract(p, q.y_plus_x, q.y_minus_x, fe_mul(p.T, q.t2d), fe_mul(p.Z, q.z2), false);
}

CompletedPoint point_sub(const Point& p, const Cached& q)
{
    return add_or_subtract(p, q.y_plus_x, q.y_minus_x, fe_mul(p.T, q.t2d), fe_mul(p.Z, q.z2), true);
}

// As with Cached, where Z = 1 saves the multiplication by 2Z.
CompletedPoint point_add(const Point& p, const Niels& q)
{
    return add_or_subtract(p, q.y_plus_x, q.y_minus_x, fe_mul(p.T, q.xy2d), fe_add_lazy(p.Z, p.Z), false);
}

CompletedPoint point_sub(const Point& p, const Niels& q)
{
    return add_or_subtract(p, q.y_plus_x, q.y_minus_x, fe_mul(p.T, q.xy2d), fe_add_lazy(p.Z, p.Z), true);
}

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

void point_encode(uint8_t* s, const ProjectivePoint& p)
{
    Fe z_inverse = fe_invert(p.Z);
    Fe x = fe_mul(p.X, z_inverse);
    Fe y = fe_mul(p.Y, z_inverse);
    fe_to_bytes(s, y);
    s[31] |= uint8_t(fe_is_negative(x)) << 7;
}

bool point_is_identity(const ProjectivePoint& p) { return fe_is_zero(p.X) && fe_equal(p.Y, p.Z); }

bool point_has_small_order(const Point& p)
{
    ProjectivePoint q = to_projective(point_double(to_projective(point_double(to_projective(point_double(p))))));
    // [8]P is the identity or, impossibly in a group of order 8L, the
    // point (0, -1) of order 2: both have x = 0.
    return fe_is_zero(q.X);
}

void odd_multiples(const Point& p, Cached* table, size_t count)
{
    Cached twice = to_cached(to_extended(point_double(p)));
    Point current = p;
    table[0] = to_cached(p);
    for (size_t i = 1; i < count; ++i) {
        current = to_extended(point_add(current, twice));
        table[i] = to_cached(current);
    }
}

void odd_multiples(const Point& p, Niels* table, size_t count)
{
    Point multiples[max_affine_multiples];
    Cached twice = to_cached(to_extended(point_double(p)));
    multiples[0] = p;
    for (size_t i = 1; i < count; ++i)
        multiples[i] = to_extended(point_add(multiples[i - 1], twice));
    // Montgomery's trick: invert the product of all the Z, then peel each
    // 1/Z off it with the products of the others.
    Fe z_products[max_affine_multiples];
    z_products[0] = multiples[0].Z;
    for (size_t i = 1; i < count; ++i)
        z_products[i] = fe_mul(z_products[i - 1], multiples[i].Z);
    Fe inverse = fe_invert(z_products[count - 1]); // 1 / (Z_0 ... Z_i)
    for (size_t i = count; i-- > 0;) {
        Fe z_inverse = i > 0 ? fe_mul(inverse, z_products[i - 1]) : inverse;
        inverse = fe_mul(inverse, multiples[i].Z);
        Fe x = fe_mul(multiples[i].X, z_inverse);
        Fe y = fe_mul(multiples[i].Y, z_inverse);
        table[i] = { fe_add(y, x), fe_sub(y, x), fe_mul(fe_mul(x, y), fe_2d) };
    }
}

} // namespace keel::curve25519
