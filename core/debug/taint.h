// Kernel taint flags, with Linux's letters: once set they stay set, and
// every panic and module listing shows them.
#pragma once

#include <stddef.h>

namespace keel {

enum class Taint : unsigned {
    ForcedModule = 1,    // 'F': a module was force-loaded
    Warning = 9,         // 'W': a kernel warning happened
    OutOfTree = 12,      // 'O': an out-of-tree module was loaded
    UnsignedModule = 13, // 'E': an unsigned (or unverifiable) module was loaded
    Test = 17,           // 'T': a test hook was used
};

void add_taint(Taint taint);
bool is_tainted(Taint taint);
bool is_tainted();
// "Not tainted" or "Tainted: OE" (letters for the flags that are set).
const char* taint_description(char* buffer, size_t size);

} // namespace keel
