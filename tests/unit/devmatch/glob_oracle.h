// Shared by unit-devmatch and fuzz-glob, which compare glob_match with
// glibc's fnmatch(3).
#pragma once

#include <stddef.h>

#include <string>

namespace devmatch_test {

// Whether every "[" of the pattern has its "]". glibc's handling of an
// unterminated set depends on how far its matcher got (and has changed
// between versions); alias patterns never hold one, so only patterns whose
// sets are closed are compared.
inline bool sets_closed(const std::string& p)
{
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\') {
            ++i;
            continue;
        }
        if (p[i] != '[')
            continue;
        size_t j = i + 1;
        if (j < p.size() && (p[j] == '!' || p[j] == '^'))
            ++j;
        if (j < p.size() && p[j] == ']')
            ++j; // a leading "]" is a member
        bool closed = false;
        for (; j < p.size(); ++j) {
            if (p[j] == '\\') {
                ++j;
                continue;
            }
            if (p[j] == ']') {
                closed = true;
                break;
            }
        }
        if (!closed)
            return false;
        i = j;
    }
    return true;
}

} // namespace devmatch_test
