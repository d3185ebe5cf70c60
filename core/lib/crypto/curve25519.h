// The field and the curve under Ed25519 (RFC 8032 section 5.1), for
// ed25519.cpp and its tests: field elements mod p = 2^255 - 19, points of
// the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 in the coordinate
// systems of Hisil, Wong, Carter and Dawson ("Twisted Edwards Curves
// Revisited", 2008), and the group operations verification needs. Nothing
// here is constant time: every input is public.
//
// Field elements are five 51-bit limbs; products use unsigned __int128,
// which x86_64 multiplies natively (only 128-bit *division* would need
// compiler-rt, and nothing here divides). Multiplication and squaring come
// from crypto_arch/field51.h (on x86_64 in assembly, which that header explains).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::curve25519 {

using u128 = unsigned __int128;

constexpr uint64_t mask51 = (uint64_t(1) << 51) - 1;

// Limbs stay below 2^52 between operations: every operation but the lazy
// ones ends with a carry pass. Multiplication accepts limbs up to 2^59 (its
// 128-bit column sums stay below 2^125), so sums and differences that only
// feed a multiplication may skip the carry (fe_add_lazy, fe_sub_lazy).
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

// For a result that only a multiplication reads: limbs below 2^53 for
// carried inputs.
inline Fe fe_add_lazy(const Fe& a, const Fe& b)
{
    Fe r;
    for (int i = 0; i < 5; ++i)
        r.v[i] = a.v[i] + b.v[i];
    return r;
}

// As fe_sub without the carry: limbs below a's plus 2^53, for b's below
// 2^53 - 76 (a carried value, or the lazy sum of two).
inline Fe fe_sub_lazy(const Fe& a, const Fe& b)
{
    Fe r;
    r.v[0] = a.v[0] + ((uint64_t(1) << 53) - 76) - b.v[0];
    for (int i = 1; i < 5; ++i)
        r.v[i] = a.v[i] + ((uint64_t(1) << 53) - 4) - b.v[i];
    return r;
}

// Out of line (and kept so): inlined into every point operation, the
// multiplications would add tens of KiB to the kernel image for a few
// percent of speed. Doubling and exponentiation inline the squaring.
[[gnu::noinline]] Fe fe_mul(const Fe& a, const Fe& b);
[[gnu::noinline]] Fe fe_sq(const Fe& a);
// The same through field51_portable.h, which is what fe_mul and fe_sq are
// where crypto_arch/field51.h has nothing faster; the tests compare the two.
Fe fe_mul_portable(const Fe& a, const Fe& b);
Fe fe_sq_portable(const Fe& a);
Fe fe_invert(const Fe& z);
// Reads 255 bits; bit 255 (the sign of x in point encodings) is ignored.
Fe fe_from_bytes(const uint8_t* s);
// The unique representative in [0, p), little-endian.
void fe_to_bytes(uint8_t* s, Fe h);
bool fe_is_zero(const Fe& a);
bool fe_equal(const Fe& a, const Fe& b);

// Extended coordinates: x = X/Z, y = Y/Z, x*y = T/Z. Carried limbs.
struct Point {
    Fe X, Y, Z, T;
};

// Projective coordinates, x = X/Z, y = Y/Z: all a doubling reads.
struct ProjectivePoint {
    Fe X, Y, Z;
};

// What additions and doublings produce before their last multiplications,
// x = X/Z, y = Y/T. Turning it into projective coordinates costs three
// multiplications, into extended ones four: a doubling followed by another
// doubling skips T's. Lazy limbs (below 2^55): only multiplications read
// them.
struct CompletedPoint {
    Fe X, Y, Z, T;
};

// An addend prepared for repeated additions.
struct Cached {
    Fe y_plus_x, y_minus_x, z2, t2d;
};

// An affine addend (Z = 1), one multiplication cheaper to add than Cached:
// how the precomputed multiples of the base point are stored.
struct Niels {
    Fe y_plus_x, y_minus_x, xy2d;
};

Point point_identity();
Point base_point();
ProjectivePoint to_projective(const CompletedPoint& p);
Point to_extended(const CompletedPoint& p);
Cached to_cached(const Point& p);
// Normalises (one inversion); for table generation and tests.
Niels to_niels(const Point& p);

CompletedPoint point_double(const ProjectivePoint& p);
inline CompletedPoint point_double(const Point& p) { return point_double(ProjectivePoint { p.X, p.Y, p.Z }); }
CompletedPoint point_add(const Point& p, const Cached& q);
CompletedPoint point_sub(const Point& p, const Cached& q);
CompletedPoint point_add(const Point& p, const Niels& q);
CompletedPoint point_sub(const Point& p, const Niels& q);

// Section 5.1.3, for an encoding whose y is canonical (below p); false when
// no point has that encoding.
bool point_decode(Point& out, const uint8_t* s);
void point_encode(uint8_t* s, const ProjectivePoint& p);
// Projectively: X = 0 and Y = Z.
bool point_is_identity(const ProjectivePoint& p);
// In the 8-torsion subgroup: [8]P is the identity.
bool point_has_small_order(const Point& p);

// table[i] = (2i + 1) p for i < count.
void odd_multiples(const Point& p, Cached* table, size_t count);
// The same in affine form, normalised with a single inversion; count is at
// most max_affine_multiples.
constexpr size_t max_affine_multiples = 16;
void odd_multiples(const Point& p, Niels* table, size_t count);

// The precomputed odd multiples of B, [2^64]B, [2^128]B and [2^192]B
// (ed25519_base_table.cpp, generated by gen-ed25519-base-table.py):
// base_table[j][i] = (2i + 1) [2^(64 j)]B, so that a scalar below 2^256
// is four 64-bit parts, one against each table.
constexpr int base_table_window = 7;
constexpr size_t base_table_size = size_t(1) << (base_table_window - 2);
constexpr int base_table_split = 64;
constexpr size_t base_table_count = 4;
extern const Niels base_table[base_table_count][base_table_size];

} // namespace keel::curve25519
