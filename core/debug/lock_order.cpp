// The lock-order checker behind sync/lock_order.h: each thread keeps the
// locks it holds (Thread::lock_order), innermost last, with the address
// that took each one; a new acquisition is checked against the held locks
// of its own context before it is pushed. The header records, inline, the
// acquisitions that need no check; these are the others.
#include "sync/lock_order.h"

#include "debug/backtrace.h"
#include "debug/panic.h"
#include "lib/base/format.h"

namespace keel::lock_order {

namespace {

bool g_disabled = false;

struct Site {
    char text[96];
};

Site describe(const void* address)
{
    Site site;
    if (!symbolize(reinterpret_cast<uint64_t>(address), site.text, sizeof(site.text)))
        format(site.text, sizeof(site.text), "%p", address);
    return site;
}

[[noreturn]] void report(const char* problem, const LockClass& taking, const void* site, const HeldLock& held)
{
    // Stop checking first: the panic path takes locks of its own.
    g_disabled = true;
    Site taking_site = describe(site);
    Site held_site = describe(held.site);
    panic("lock order: %s\n  taking %s (rank %u) at %s\n  while holding %s (rank %u), taken at %s", problem,
        taking.name, unsigned(taking.rank), taking_site.text, held.lock_class->name, unsigned(held.lock_class->rank),
        held_site.text);
}

} // namespace

[[gnu::noinline]] void acquire(const void* lock, const LockClass& lock_class, bool try_only, const void* site)
{
    if (!site)
        site = __builtin_return_address(0);
    if (g_disabled || in_panic())
        return;
    LockOrderState& state = *detail::g_state;
    if (state.irq_depth > 0 && lock_class.sleeping) {
        g_disabled = true;
        panic("lock order: %s, a sleeping lock, taken in an interrupt handler at %s", lock_class.name,
            describe(site).text);
    }
    // Only the running context's: an interrupt handler's locks are not
    // ordered against those of the code it interrupted.
    for (size_t i = state.count; i-- > state.context_start;) {
        const HeldLock& held = state.held[i];
        if (lock_class.sleeping && !held.lock_class->sleeping)
            report("a sleeping lock taken with a spinlock held", lock_class, site, held);
        if (held.lock == lock)
            report("a lock taken twice", lock_class, site, held);
        if (!try_only && held.lock_class->rank >= lock_class.rank)
            report("inversion", lock_class, site, held);
    }
    if (state.count == LockOrderState::kMaxHeld) {
        g_disabled = true;
        panic("lock order: more than %zu locks held at once (taking %s at %s)", LockOrderState::kMaxHeld,
            lock_class.name, describe(site).text);
    }
    push(state, state.count, { lock, &lock_class, site });
}

void release(const void* lock)
{
    if (g_disabled || in_panic())
        return;
    LockOrderState& state = *detail::g_state;
    // Usually the innermost; locks may be released in any order (within
    // the context that took them).
    for (size_t i = state.count; i-- > state.context_start;) {
        if (state.held[i].lock == lock) {
            for (size_t j = i; j + 1 < state.count; j++)
                state.held[j] = state.held[j + 1];
            state.count--;
            return;
        }
    }
}

void disable() { g_disabled = true; }

} // namespace keel::lock_order
