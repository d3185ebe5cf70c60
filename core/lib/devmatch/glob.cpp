#include "lib/devmatch/glob.h"

namespace keel::devmatch {

namespace {

// Whether the one-character element of the pattern at `p` matches `c`;
// sets `next` to the element after it. `p` is not '*' and not at the end.
bool element_matches(const char* p, char c, const char*& next)
{
    if (*p == '?') {
        next = p + 1;
        return true;
    }
    if (*p == '\\') {
        // A "\" ending the pattern matches nothing, as in glibc.
        next = p[1] ? p + 2 : p + 1;
        return p[1] != '\0' && p[1] == c;
    }
    if (*p == '[') {
        const char* q = p + 1;
        bool negate = *q == '!' || *q == '^';
        if (negate)
            ++q;
        auto u = static_cast<unsigned char>(c);
        bool matched = false;
        for (bool first = true;; first = false) {
            char low = *q;
            if (low == '\0')
                break; // no closing bracket: the "[" is an ordinary character
            if (low == ']' && !first) {
                next = q + 1;
                return matched != negate;
            }
            ++q;
            if (low == '\\') {
                // glibc: a "\" with nothing after it inside a set matches nothing.
                if (*q == '\0') {
                    next = q;
                    return false;
                }
                low = *q++;
            }
            char high = low;
            if (*q == '-' && q[1] != ']') {
                const char* end = q + 1;
                if (*end == '\\')
                    ++end;
                // glibc: a range without its end matches nothing.
                if (*end == '\0') {
                    next = end;
                    return false;
                }
                high = *end;
                q = end + 1;
            }
            if (static_cast<unsigned char>(low) <= u && u <= static_cast<unsigned char>(high))
                matched = true;
        }
    }
    next = p + 1;
    return *p == c;
}

} // namespace

bool glob_match(const char* pattern, const char* text)
{
    const char* p = pattern;
    const char* t = text;
    // Where to resume after the last "*": the pattern after it, and the
    // text position it has swallowed up to.
    const char* star_pattern = nullptr;
    const char* star_text = nullptr;
    while (*t != '\0') {
        if (*p == '*') {
            while (*p == '*')
                ++p;
            star_pattern = p;
            star_text = t;
            continue;
        }
        const char* next;
        if (*p != '\0' && element_matches(p, *t, next)) {
            p = next;
            ++t;
            continue;
        }
        if (!star_pattern)
            return false;
        // Let the last "*" swallow one more character and retry.
        p = star_pattern;
        t = ++star_text;
    }
    while (*p == '*')
        ++p;
    return *p == '\0';
}

} // namespace keel::devmatch
