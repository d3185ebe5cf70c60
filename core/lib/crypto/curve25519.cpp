// The field and group operations of curve25519.h, from RFC 8032 sections
// 5.1.1-5.1.4 and the extended twisted Edwards formulas of Hisil, Wong,
// Carter and Dawson that the RFC quotes.
#include "lib/crypto/curve25519.h"

#include "lib/crypto/bytes.h"

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

// Folds five 128-bit column sums back into 51-bit limbs.
Fe fe_carry_wide(u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
    r1 += r0 >> 51;
    r2 += r1 >> 51;
    r3 += r2 >> 51;
    r4 += r3 >> 51;
    Fe h;
    h.v[0] = uint64_t(r0) & mask51;
    h.v[1] = uint64_t(r1) & mask51;
    h.v[2] = uint64_t(r2) & mask51;
    h.v[3] = uint64_t(r3) & mask51;
    h.v[4] = uint64_t(r4) & mask51;
    fold_top(h, r4 >> 51);
    return h;
}

// Limb i * limb j lands at 2^(51(i+j)); past limb 4 it wraps around
// multiplied by 19.
[[gnu::always_inline]] inline Fe square_portable(const Fe& a)
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

#if defined(__x86_64__)

// On x86_64, multiplication and squaring are written out in assembly,
// because the kernel runs under QEMU's TCG, where they are about half of a
// signature check. Compiled, the five 128-bit column sums stay live
// together and the registers spill: some 45 stack accesses per
// multiplication, each an emulated memory access with a software TLB
// lookup. Here the columns are summed one at a time into hi:lo, each limb
// leaving as soon as its column is complete, and the operands stay in
// registers (but for two of a multiplication's a limbs, read from memory by
// each product: no register is left for them). A verification got about a
// fifth faster in the guest and about 11% slower natively. The sums are those of
// fe_mul_portable and fe_sq_portable, which the tests compare these with.

// hi:lo += x * y, with x in a register and y in a register or memory.
#define FE_MULADD(x, y)                                                                                                \
    "mov %[" #x "], %%rax\n\t"                                                                                         \
    "mulq %[" #y "]\n\t"                                                                                               \
    "add %%rax, %[lo]\n\t"                                                                                             \
    "adc %%rdx, %[hi]\n\t"
// hi:lo += 19 x * y, 19 x computed as x + 2 (9 x).
#define FE_MULADD_19(x, y)                                                                                             \
    "lea (%[" #x "],%[" #x "],8), %%rax\n\t"                                                                           \
    "lea (%[" #x "],%%rax,2), %%rax\n\t"                                                                               \
    "mulq %[" #y "]\n\t"                                                                                               \
    "add %%rax, %[lo]\n\t"                                                                                             \
    "adc %%rdx, %[hi]\n\t"
// hi:lo += 2 x * y.
#define FE_MULADD_2(x, y)                                                                                              \
    "lea (%[" #x "],%[" #x "]), %%rax\n\t"                                                                             \
    "mulq %[" #y "]\n\t"                                                                                               \
    "add %%rax, %[lo]\n\t"                                                                                             \
    "adc %%rdx, %[hi]\n\t"
// Limb k is the column sum's low 51 bits; the rest carries into the next
// column (below 2^74, while a column sums to less than 2^125).
#define FE_END_COLUMN(k)                                                                                               \
    "mov %[lo], %%rax\n\t"                                                                                             \
    "shl $13, %%rax\n\t"                                                                                               \
    "shr $13, %%rax\n\t"                                                                                               \
    "mov %%rax, %[h" #k "]\n\t"                                                                                        \
    "shrd $51, %[hi], %[lo]\n\t"                                                                                       \
    "shr $51, %[hi]\n\t"

// Inlined into doubling and into the runs of squarings in exponentiation:
// under QEMU the calls would cost about 6% of a verification.
[[gnu::always_inline]] inline Fe square(const Fe& a)
{
    uint64_t a0 = a.v[0], a1 = a.v[1], a2 = a.v[2], a3 = a.v[3], a4 = a.v[4];
    uint64_t a3_19 = a3 * 19, a4_19 = a4 * 19;
    uint64_t lo = 0, hi = 0, rax, rdx;
    Fe h;
    // clang-format off
    asm(FE_MULADD(a0, a0)   FE_MULADD_2(a1, a4_19) FE_MULADD_2(a2, a3_19) FE_END_COLUMN(0)
        FE_MULADD_2(a0, a1) FE_MULADD_2(a2, a4_19) FE_MULADD(a3, a3_19)   FE_END_COLUMN(1)
        FE_MULADD_2(a0, a2) FE_MULADD(a1, a1)      FE_MULADD_2(a3, a4_19) FE_END_COLUMN(2)
        FE_MULADD_2(a0, a3) FE_MULADD_2(a1, a2)    FE_MULADD(a4, a4_19)   FE_END_COLUMN(3)
        FE_MULADD_2(a0, a4) FE_MULADD_2(a1, a3)    FE_MULADD(a2, a2)      FE_END_COLUMN(4)
        : [lo] "+r"(lo), [hi] "+r"(hi), "=&a"(rax), "=&d"(rdx),
          [h0] "=m"(h.v[0]), [h1] "=m"(h.v[1]), [h2] "=m"(h.v[2]), [h3] "=m"(h.v[3]), [h4] "=m"(h.v[4])
        : [a0] "r"(a0), [a1] "r"(a1), [a2] "r"(a2), [a3] "r"(a3), [a4] "r"(a4),
          [a3_19] "r"(a3_19), [a4_19] "r"(a4_19)
        : "cc");
    // clang-format on
    fold_top(h, (u128(hi) << 64) | lo);
    return h;
}

#else

[[gnu::always_inline]] inline Fe square(const Fe& a) { return square_portable(a); }

#endif

} // namespace

Fe fe_mul_portable(const Fe& a, const Fe& b)
{
    // The pre-multiplied b * 19 serves the products that wrap around.
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

Fe fe_sq_portable(const Fe& a) { return square_portable(a); }

#if defined(__x86_64__)

Fe fe_mul(const Fe& a, const Fe& b)
{
    uint64_t a0 = a.v[0], a1 = a.v[1], a2 = a.v[2];
    uint64_t b0 = b.v[0], b1 = b.v[1], b2 = b.v[2], b3 = b.v[3], b4 = b.v[4];
    uint64_t lo = 0, hi = 0, rax, rdx;
    Fe h;
    // clang-format off
    asm(FE_MULADD(b0, a0)    FE_MULADD_19(b4, a1) FE_MULADD_19(b3, a2) FE_MULADD_19(b2, a3) FE_MULADD_19(b1, a4)
        FE_END_COLUMN(0)
        FE_MULADD(b1, a0)    FE_MULADD(b0, a1)    FE_MULADD_19(b4, a2) FE_MULADD_19(b3, a3) FE_MULADD_19(b2, a4)
        FE_END_COLUMN(1)
        FE_MULADD(b2, a0)    FE_MULADD(b1, a1)    FE_MULADD(b0, a2)    FE_MULADD_19(b4, a3) FE_MULADD_19(b3, a4)
        FE_END_COLUMN(2)
        FE_MULADD(b3, a0)    FE_MULADD(b2, a1)    FE_MULADD(b1, a2)    FE_MULADD(b0, a3)    FE_MULADD_19(b4, a4)
        FE_END_COLUMN(3)
        FE_MULADD(b4, a0)    FE_MULADD(b3, a1)    FE_MULADD(b2, a2)    FE_MULADD(b1, a3)    FE_MULADD(b0, a4)
        FE_END_COLUMN(4)
        : [lo] "+r"(lo), [hi] "+r"(hi), "=&a"(rax), "=&d"(rdx),
          [h0] "=m"(h.v[0]), [h1] "=m"(h.v[1]), [h2] "=m"(h.v[2]), [h3] "=m"(h.v[3]), [h4] "=m"(h.v[4])
        : [a0] "r"(a0), [a1] "r"(a1), [a2] "r"(a2), [a3] "m"(a.v[3]), [a4] "m"(a.v[4]),
          [b0] "r"(b0), [b1] "r"(b1), [b2] "r"(b2), [b3] "r"(b3), [b4] "r"(b4)
        : "cc");
    // clang-format on
    fold_top(h, (u128(hi) << 64) | lo);
    return h;
}

#undef FE_MULADD
#undef FE_MULADD_19
#undef FE_MULADD_2
#undef FE_END_COLUMN

#else

Fe fe_mul(const Fe& a, const Fe& b) { return fe_mul_portable(a, b); }

#endif

Fe fe_sq(const Fe& a) { return square(a); }

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

// Section 5.1.4 addition (a = -1), with q's factors precomputed; the same
// E, F, G, H as doubling.
CompletedPoint point_add(const Point& p, const Cached& q)
{
    Fe a = fe_mul(fe_sub_lazy(p.Y, p.X), q.y_minus_x);
    Fe b = fe_mul(fe_add_lazy(p.Y, p.X), q.y_plus_x);
    Fe c = fe_mul(p.T, q.t2d);
    Fe d = fe_mul(p.Z, q.z2);
    return { fe_sub_lazy(b, a), fe_add_lazy(b, a), fe_add_lazy(d, c), fe_sub_lazy(d, c) };
}

// p - q: -q = (-x, y) swaps y+x with y-x and negates t.
CompletedPoint point_sub(const Point& p, const Cached& q)
{
    Fe a = fe_mul(fe_sub_lazy(p.Y, p.X), q.y_plus_x);
    Fe b = fe_mul(fe_add_lazy(p.Y, p.X), q.y_minus_x);
    Fe c = fe_mul(p.T, q.t2d);
    Fe d = fe_mul(p.Z, q.z2);
    return { fe_sub_lazy(b, a), fe_add_lazy(b, a), fe_sub_lazy(d, c), fe_add_lazy(d, c) };
}

// As with Cached, where Z = 1 saves the multiplication by 2Z.
CompletedPoint point_add(const Point& p, const Niels& q)
{
    Fe a = fe_mul(fe_sub_lazy(p.Y, p.X), q.y_minus_x);
    Fe b = fe_mul(fe_add_lazy(p.Y, p.X), q.y_plus_x);
    Fe c = fe_mul(p.T, q.xy2d);
    Fe d = fe_add_lazy(p.Z, p.Z);
    return { fe_sub_lazy(b, a), fe_add_lazy(b, a), fe_add_lazy(d, c), fe_sub_lazy(d, c) };
}

CompletedPoint point_sub(const Point& p, const Niels& q)
{
    Fe a = fe_mul(fe_sub_lazy(p.Y, p.X), q.y_plus_x);
    Fe b = fe_mul(fe_add_lazy(p.Y, p.X), q.y_minus_x);
    Fe c = fe_mul(p.T, q.xy2d);
    Fe d = fe_add_lazy(p.Z, p.Z);
    return { fe_sub_lazy(b, a), fe_add_lazy(b, a), fe_sub_lazy(d, c), fe_add_lazy(d, c) };
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
