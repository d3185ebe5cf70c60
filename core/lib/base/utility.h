// The few <utility>/<type_traits> pieces the kernel needs. The kernel is
// built freestanding without a C++ standard library, so they live here;
// host builds use the same definitions, keeping both worlds identical.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

template<typename T> struct RemoveReference {
    using Type = T;
};
template<typename T> struct RemoveReference<T&> {
    using Type = T;
};
template<typename T> struct RemoveReference<T&&> {
    using Type = T;
};
template<typename T> using RemoveReferenceT = typename RemoveReference<T>::Type;

template<typename T> constexpr RemoveReferenceT<T>&& move(T&& value) noexcept
{
    return static_cast<RemoveReferenceT<T>&&>(value);
}

template<typename T> constexpr T&& forward(RemoveReferenceT<T>& value) noexcept { return static_cast<T&&>(value); }

template<typename T> constexpr T&& forward(RemoveReferenceT<T>&& value) noexcept { return static_cast<T&&>(value); }

template<typename T> constexpr void swap(T& a, T& b) noexcept
{
    T tmp = move(a);
    a = move(b);
    b = move(tmp);
}

// Replaces `target` with `value` and returns what it held.
template<typename T, typename U = T> constexpr T exchange(T& target, U&& value)
{
    // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign): a false positive after TRY (.clang-tidy)
    T old = move(target);
    target = forward<U>(value);
    return old;
}

template<typename T> constexpr T min(T a, T b) { return a < b ? a : b; }
template<typename T> constexpr T max(T a, T b) { return a < b ? b : a; }

template<typename T> constexpr T align_up(T value, T alignment) { return (value + alignment - 1) & ~(alignment - 1); }
template<typename T> constexpr T align_down(T value, T alignment) { return value & ~(alignment - 1); }
template<typename T> constexpr bool is_power_of_two(T value) { return value != 0 && (value & (value - 1)) == 0; }

// The value of hexadecimal digit `c` (either case), or -1.
constexpr int hex_digit_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

template<typename T, typename U> constexpr bool is_same_v = false;
template<typename T> constexpr bool is_same_v<T, T> = true;

// Overflow-checked arithmetic for sizes that come from untrusted input.
template<typename T> constexpr bool add_overflows(T a, T b, T* out) { return __builtin_add_overflow(a, b, out); }
template<typename T> constexpr bool mul_overflows(T a, T b, T* out) { return __builtin_mul_overflow(a, b, out); }

template<typename T, size_t N> constexpr size_t array_size(T (&)[N]) { return N; }

} // namespace keel
