// KABI_RANDOM_1.0: the core's entropy pool (core/random).
#include "random/random.h"
#include "kabi_impl.h"

using namespace keel;

extern "C" void keel_get_random_bytes(void* buffer, uint64_t size)
{
    if (buffer && size)
        random_get(buffer, size_t(size));
}

extern "C" int32_t keel_random_ready() { return random_ready() ? 1 : 0; }

extern "C" void keel_add_hwgenerator_randomness(
    const void* data, uint64_t size, uint32_t entropy_bits, const char* source)
{
    if (data && size)
        random_add(data, size_t(size), entropy_bits, source && source[0] ? source : "hardware");
}
