// Placement new. Hosted builds take it from <new>; the freestanding kernel
// declares it itself (there is no C++ standard library in the kernel).
#pragma once

#include <stddef.h>

#if __STDC_HOSTED__
#include <new>
#else
inline void* operator new(size_t, void* where) noexcept { return where; }
inline void* operator new[](size_t, void* where) noexcept { return where; }
#endif
