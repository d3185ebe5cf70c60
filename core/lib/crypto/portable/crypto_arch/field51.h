// crypto_arch/field51.h for architectures (and hosts) without their own: the
// portable field multiplication. Meson puts this directory on the include
// path behind core/lib/crypto/<cpu>/, so an architecture's own comes first.
#pragma once

#include "lib/crypto/field51_portable.h"

namespace keel::crypto_arch {

[[gnu::always_inline]] inline unsigned __int128 field51_mul(uint64_t* h, const uint64_t* a, const uint64_t* b)
{
    return field51_portable::mul(h, a, b);
}

[[gnu::always_inline]] inline unsigned __int128 field51_square(uint64_t* h, const uint64_t* a)
{
    return field51_portable::square(h, a);
}

} // namespace keel::crypto_arch
