// Names the kernel takes from modules: module names, filesystem types,
// drivers. One alphabet, [a-z0-9_], so a name is also a safe file name and
// the same word in every message and table.
#pragma once

#include <stddef.h>

namespace keel {

inline bool is_name_character(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

// `length` characters of [a-z0-9_], at least one and at most `max`.
inline bool is_name(const char* name, size_t length, size_t max)
{
    if (length == 0 || length > max)
        return false;
    for (size_t i = 0; i < length; i++) {
        if (!is_name_character(name[i]))
            return false;
    }
    return true;
}

} // namespace keel
