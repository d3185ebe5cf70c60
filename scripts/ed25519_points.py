"""Ed25519's field and curve (RFC 8032 section 5.1) in Python integers, for
the generators that write precomputed points into the kernel's sources:
gen-ed25519-base-table.py (multiples of the base point) and
gen-builtin-keys.py (built-in keys prepared as ed25519_prepare_key would).
Points are affine (x, y); `add` inverts once per addition, `multiply`
works in extended coordinates and inverts once.
"""

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1)
# core/lib/crypto/ed25519_scalar.h: split_bits.
SPLIT_BITS = 64
# Ed25519PublicKey::table_count: a key's tables, of [2^(64 j)]A.
KEY_TABLES = 3


def inverse(x):
    return pow(x, P - 2, P)


def add(a, b):
    """Affine twisted Edwards addition, a = -1 (RFC 8032 section 5.1.4)."""
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    x3 = (x1 * y2 + x2 * y1) * inverse(1 + t) % P
    y3 = (y1 * y2 + x1 * x2) * inverse(1 - t) % P
    return x3, y3


def _add_extended(a, b):
    """Extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z: RFC
    8032 section 5.1.4's addition, complete on this curve (doubling, the
    identity and small-order points included), and without an inversion."""
    (x1, y1, z1, t1), (x2, y2, z2, t2) = a, b
    a_ = (y1 - x1) * (y2 - x2) % P
    b_ = (y1 + x1) * (y2 + x2) % P
    c_ = 2 * D * t1 * t2 % P
    d_ = 2 * z1 * z2 % P
    e, f, g, h = b_ - a_, d_ - c_, d_ + c_, b_ + a_
    return e * f % P, g * h % P, f * g % P, e * h % P


def multiply(k, point):
    """k point by doubling and adding in extended coordinates, one
    inversion at the end (affine additions took a build step 23 s)."""
    x, y = point
    result, addend = (0, 1, 1, 0), (x, y, 1, x * y % P)
    while k:
        if k & 1:
            result = _add_extended(result, addend)
        addend = _add_extended(addend, addend)
        k >>= 1
    z = inverse(result[2])
    return result[0] * z % P, result[1] * z % P


def recover_x(y, sign):
    """Section 5.1.3 step 2-4: x for y and x's sign, or None."""
    xx = (y * y - 1) * inverse(D * y * y + 1) % P
    x = pow(xx, (P + 3) // 8, P)
    if (x * x - xx) % P:
        x = x * SQRT_M1 % P
    if (x * x - xx) % P:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return x


def base_point():
    y = 4 * inverse(5) % P
    return recover_x(y, 0), y


def limbs(value):
    """A field element as the kernel's Fe initialiser: five 51-bit limbs."""
    return "{ { " + ", ".join("0x%013x" % ((value >> (51 * i)) & (2**51 - 1)) for i in range(5)) + " } }"


def odd_multiples(point, count):
    """(2i + 1) point for i < count."""
    twice = add(point, point)
    current = point
    multiples = []
    for _ in range(count):
        multiples.append(current)
        current = add(current, twice)
    return multiples


def niels(point):
    """The kernel's affine addend (curve25519.h: Niels): (y + x, y - x, 2 d x y)."""
    x, y = point
    return (y + x) % P, (y - x) % P, 2 * D * x * y % P
