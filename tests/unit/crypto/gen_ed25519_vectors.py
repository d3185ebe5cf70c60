#!/usr/bin/env python3
"""Writes ed25519_vectors.h for test_ed25519_half_size.cpp: Ed25519
signatures that honest signers never produce, made with Python integers
(scripts/ed25519_points.py: RFC 8032's arithmetic, section 5.1,
independent of the kernel's C++) and judged by its
cofactorless equation [S]B - [k]A == R:

  * keys with a torsion component (A + a point of order 2, 4 or 8), with
    signatures valid and invalid under that equation, some whose R has a
    torsion component too;
  * signatures whose R carries a point of small order, with S made so that
    the cofactored equation [8][S]B == [8]R + [8][k]A holds but the
    cofactorless one does not;
  * challenges k for which the extended Euclidean algorithm's first
    candidate c (ed25519_scalar.cpp: challenge_pair) is even, and valid
    signatures and R + (point of order 2) forgeries whose k is one of them.

    gen_ed25519_vectors.py OUTPUT
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts"))

# The field and curve arithmetic the build's generators share: Python
# integers, independent of the kernel's C++.
from ed25519_points import D, IDENTITY, L, P, SQRT_M1, add, inverse, multiply, recover_x  # noqa: E402


def negate(a):
    return ((-a[0]) % P, a[1])


def encode(point):
    x, y = point
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def decode(data):
    value = int.from_bytes(data, "little")
    y = value & (2**255 - 1)
    x = recover_x(y, value >> 255)
    assert x is not None
    return (x, y)


B = (recover_x(4 * inverse(5) % P, 0), 4 * inverse(5) % P)


def order_divides(n, point):
    return multiply(n, point) == IDENTITY


def small_order_points():
    """The eight points of order dividing 8, by order."""
    # y of a point of order 8 solves d y^4 + 2 y^2 - 1 = 0 (x^2 = y^2 for
    # them); try both roots of the quadratic in y^2.
    points = [IDENTITY, (0, P - 1)]
    x = recover_x(0, 0)  # order 4: y = 0
    points += [(x, 0), ((-x) % P, 0)]
    discriminant_root = pow((4 + 4 * D) % P, (P + 3) // 8, P)
    if (discriminant_root**2 - (4 + 4 * D)) % P:
        discriminant_root = discriminant_root * SQRT_M1 % P
    for root in (discriminant_root, P - discriminant_root):
        yy = (-2 + root) * inverse(2 * D) % P
        y = pow(yy, (P + 3) // 8, P)
        if (y * y - yy) % P:
            y = y * SQRT_M1 % P
        if (y * y - yy) % P:
            continue
        for y_candidate in (y, P - y):
            x = recover_x(y_candidate, 0)
            if x is not None:
                points += [(x, y_candidate), ((-x) % P, y_candidate)]
    points = list(dict.fromkeys(points))
    assert len(points) == 8 and all(order_divides(8, t) for t in points)
    by_order = {1: [], 2: [], 4: [], 8: []}
    for t in points:
        order = next(n for n in (1, 2, 4, 8) if order_divides(n, t))
        by_order[order].append(t)
    return by_order


def sha512(*parts):
    return hashlib.sha512(b"".join(parts)).digest()


class Key:
    """RFC 8032 section 5.1.5 key generation from a 32-byte seed."""

    def __init__(self, seed):
        h = sha512(seed)
        scalar = int.from_bytes(h[:32], "little")
        scalar &= (1 << 254) - 8
        scalar |= 1 << 254
        self.scalar = scalar
        self.prefix = h[32:]
        self.point = multiply(scalar, B)


def challenge(r_bytes, a_bytes, message):
    return int.from_bytes(sha512(r_bytes, a_bytes, message), "little") % L


def cofactorless_valid(signature, a_bytes, message):
    r_bytes, s = signature[:32], int.from_bytes(signature[32:], "little")
    k = challenge(r_bytes, a_bytes, message)
    check = add(multiply(s, B), negate(multiply(k, decode(a_bytes))))
    return encode(check) == r_bytes


def first_candidate_is_even(k):
    """ed25519_scalar.cpp's challenge_pair before it looks for an odd c:
    the cofactor t_i of the first Euclidean remainder below 2^192."""
    r_prev, r = L, k
    t_prev, t = 0, 1
    while r.bit_length() > 192:
        q = r_prev // r
        r_prev, r = r, r_prev - q * r
        t_prev, t = t, t_prev - q * t
    return t % 2 == 0


def hex_of(data):
    return data.hex()


def nonce(key, tag, counter):
    return int.from_bytes(sha512(key.prefix, tag, counter.to_bytes(4, "little")), "little") % L


def sign_with_r_point(key, a_bytes, message, r, torsion):
    """S for R = [r]B + torsion under A (whatever A's torsion): S = r + k a."""
    r_point = add(multiply(r, B), torsion)
    r_bytes = encode(r_point)
    k = challenge(r_bytes, a_bytes, message)
    s = (r + k * key.scalar) % L
    return r_bytes + s.to_bytes(32, "little"), k


def main():
    output = sys.argv[1]
    torsion = small_order_points()
    rows = []  # (comment, key, message, signature, valid)

    # Keys with a torsion component.
    for index, order in enumerate((2, 4, 8)):
        key = Key(bytes([0x40 + index]) * 32)
        t = torsion[order][0]
        a_bytes = encode(add(key.point, t))
        wanted = {True: 3, False: 3}
        counter = 0
        while wanted[True] or wanted[False]:
            message = b"torsion key, order %d, message %d" % (order, counter)
            r = nonce(key, b"torsion", counter)
            # Half the time R carries torsion as well; the equation holds
            # when R's torsion cancels [k] of A's.
            r_torsion = torsion[order][counter % len(torsion[order])] if counter % 2 else IDENTITY
            signature, k = sign_with_r_point(key, a_bytes, message, r, r_torsion)
            valid = cofactorless_valid(signature, a_bytes, message)
            if wanted[valid]:
                wanted[valid] -= 1
                what = "key + point of order %d, R %s torsion" % (order, "with" if r_torsion != IDENTITY else "without")
                rows.append((what, a_bytes, message, signature, valid))
            counter += 1

    # R + a point of small order: cofactored-valid, cofactorless-invalid.
    key = Key(b"\x51" * 32)
    a_bytes = encode(key.point)
    for order in (2, 4, 8):
        for counter, t in enumerate(torsion[order]):
            message = b"R with a point of order %d, %d" % (order, counter)
            signature, k = sign_with_r_point(key, a_bytes, message, nonce(key, b"r+t", counter + 10 * order), t)
            s = int.from_bytes(signature[32:], "little")
            r_point = decode(signature[:32])
            assert multiply(8, multiply(s, B)) == add(multiply(8, r_point), multiply(8 * k, key.point))
            assert not cofactorless_valid(signature, a_bytes, message)
            rows.append(("R + point of order %d" % order, a_bytes, message, signature, False))

    # Challenges whose first Euclidean candidate c is even: honest
    # signatures, and R + (0, -1) forgeries an even c would accept.
    even_challenges = []
    order_2 = torsion[2][0]
    for kind, r_torsion, count in (("valid", IDENTITY, 6), ("R + (0, -1)", order_2, 6)):
        found, counter = 0, 0
        while found < count:
            message = b"even first candidate, %s, %d" % (kind.encode(), counter)
            signature, k = sign_with_r_point(key, a_bytes, message, nonce(key, b"even", counter), r_torsion)
            counter += 1
            if not first_candidate_is_even(k):
                continue
            found += 1
            even_challenges.append(k)
            valid = cofactorless_valid(signature, a_bytes, message)
            assert valid == (r_torsion == IDENTITY)
            rows.append(("first candidate c even, " + kind, a_bytes, message, signature, valid))

    lines = ["// Generated by gen_ed25519_vectors.py; see there.", "#pragma once", "", "#include <stdint.h>", "",
             "struct GeneratedVector {", "    const char* what;", "    const char* public_key; // hex",
             "    const char* message;    // hex", "    const char* signature;  // hex",
             "    bool valid;             // cofactorless: [S]B - [k]A == R", "};", "",
             "const GeneratedVector generated_vectors[] = {"]
    for what, a_bytes, message, signature, valid in rows:
        lines.append('    { "%s", "%s", "%s",\n        "%s", %s },'
                     % (what, hex_of(a_bytes), hex_of(message), hex_of(signature), "true" if valid else "false"))
    lines += ["};", "", "// k < L, little-endian hex, whose first Euclidean candidate c is even.",
              "const char* const even_first_candidate_challenges[] = {"]
    for k in even_challenges:
        lines.append('    "%s",' % hex_of(k.to_bytes(32, "little")))
    lines += ["};", ""]
    with open(output, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
