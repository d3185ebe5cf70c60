#include "debug/taint.h"

#include "lib/base/format.h"

namespace keel {

namespace {

unsigned long g_taint_mask = 0;

struct TaintLetter {
    Taint taint;
    char letter;
};
constexpr TaintLetter kLetters[] = {
    { Taint::ForcedModule, 'F' },
    { Taint::Warning, 'W' },
    { Taint::OutOfTree, 'O' },
    { Taint::UnsignedModule, 'E' },
    { Taint::Test, 'T' },
};

} // namespace

void add_taint(Taint taint) { __atomic_or_fetch(&g_taint_mask, 1ul << unsigned(taint), __ATOMIC_RELAXED); }

bool is_tainted(Taint taint) { return __atomic_load_n(&g_taint_mask, __ATOMIC_RELAXED) & (1ul << unsigned(taint)); }

bool is_tainted() { return __atomic_load_n(&g_taint_mask, __ATOMIC_RELAXED) != 0; }

const char* taint_description(char* buffer, size_t size)
{
    if (!is_tainted()) {
        format(buffer, size, "Not tainted");
        return buffer;
    }
    char letters[sizeof(kLetters) / sizeof(kLetters[0]) + 1];
    size_t count = 0;
    for (const TaintLetter& entry : kLetters) {
        if (is_tainted(entry.taint))
            letters[count++] = entry.letter;
    }
    letters[count] = '\0';
    format(buffer, size, "Tainted: %s", letters);
    return buffer;
}

} // namespace keel
