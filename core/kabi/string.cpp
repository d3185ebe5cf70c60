// bcmp for modules: LLVM rewrites `memcmp(...) == 0` into bcmp calls on
// targets whose C library has it, which includes the hosted x86_64 Linux
// target modules are compiled for. The kernel itself never needs it, so it
// is defined under its own name and exported as bcmp (abi/keel.toml).
#include "lib/base/string.h"
#include "kabi_impl.h"

extern "C" int32_t keel_kabi_bcmp(const void* a, const void* b, size_t n) { return memcmp(a, b, n) != 0; }
