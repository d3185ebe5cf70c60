#include "lib/devtable/alias_glob.h"

namespace keel::devtable {

namespace {

// Matches the set starting after '[' against `c`; returns the character
// after the closing ']', or nullptr when the set is not closed (then '['
// is an ordinary character, as fnmatch treats it).
const char* match_set(const char* p, char c, bool& matched)
{
    bool negate = *p == '!' || *p == '^';
    if (negate)
        p++;
    bool found = false;
    bool first = true;
    while (*p && (first || *p != ']')) {
        char low = *p;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            char high = p[2];
            if (c >= low && c <= high)
                found = true;
            p += 3;
        } else {
            if (c == low)
                found = true;
            p++;
        }
        first = false;
    }
    if (*p != ']')
        return nullptr;
    matched = found != negate;
    return p + 1;
}

} // namespace

// Iterative, with one backtrack point (the last '*'): linear in practice and
// never recursive, so a hostile pattern cannot exhaust the stack.
bool alias_glob_match(const char* pattern, const char* text)
{
    const char* p = pattern;
    const char* t = text;
    const char* star = nullptr;
    const char* star_text = nullptr;
    while (*t) {
        if (*p == '*') {
            star = ++p;
            star_text = t;
            continue;
        }
        if (*p == '?') {
            p++;
            t++;
            continue;
        }
        if (*p == '[') {
            bool matched = false;
            if (const char* after = match_set(p + 1, *t, matched)) {
                if (matched) {
                    p = after;
                    t++;
                    continue;
                }
            } else if (*t == '[') {
                p++;
                t++;
                continue;
            }
        } else if (*p && *p == *t) {
            p++;
            t++;
            continue;
        }
        if (!star)
            return false;
        p = star;
        t = ++star_text;
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

} // namespace keel::devtable
