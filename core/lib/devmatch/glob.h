// Matching a modalias against an alias pattern the way module autoload
// does (kmod calls fnmatch(3) with no flags): "*" matches any run of
// characters, "/" included; "?" any one character; "[...]" one character of
// a set ("[0-9A-F]", "[!a]" or "[^a]" for its complement, "]" first to
// mean itself); "\" makes the next character literal, and one ending the
// pattern matches nothing (as in glibc). A "[" without its "]" is literal. Runs in O(pattern x text) time without
// recursion, so a hostile pattern costs at most that.
#pragma once

namespace keel::devmatch {

bool glob_match(const char* pattern, const char* text);

} // namespace keel::devmatch
