// Alias patterns against modalias strings, as modprobe matches them
// (fnmatch without flags): '*' any run, '?' one character, '[...]' a set
// with ranges and '!' or '^' negation; everything else literally.
#pragma once

namespace keel::devtable {

bool alias_glob_match(const char* pattern, const char* text);

} // namespace keel::devtable
