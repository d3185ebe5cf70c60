// Lock order: every core lock has a class with a rank, and a thread may only
// take a lock whose rank is higher than that of every lock it already holds
// (in the same context: an interrupt handler starts afresh). Taking them the
// other way round is how two CPUs, or a thread and an interrupt, deadlock;
// the checker (the lock_order_checks build option, on by default) panics at
// the first inversion with both acquisition sites, long before the deadlock
// would ever happen. It also refuses a sleeping lock taken with a spinlock
// held or in an interrupt handler. docs/architecture.md lists the ranks.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "sync/lock_order_config.h"

namespace keel {

// Outermost first. Sleeping locks (mutexes) come before every spinlock.
enum class LockRank : uint16_t {
    Unordered = 0, // module locks: the core cannot know their order
    // Mutexes
    ModuleRegistry = 10, // the loader's module list; held while a module loads
    DeviceModel = 15,    // the device tree, drivers, bindings; held across probe and remove
    Vfs = 20,            // the VFS: mounts, dentries, open files
    // Kernel sockets: the family table and the open sockets; held while a
    // family's info runs for ss, never while a caller waits.
    Sockets = 25,
    SelfTestMutex = 30,
    // Spinlocks
    Autoload = 92, // devices waiting for a driver module
    // The netdev core: devices, their queues, the ethertype table. Held
    // while a driver's transmit runs; never while a protocol handler runs.
    Netdev = 95,
    // Module watches (loader/module_watch.cpp): the list, never held while
    // a watcher's callback runs.
    ModuleWatches = 99,
    Keyring = 100,
    // The module list's links and the modules' symbol references
    // (loader/registry.cpp): keel_symbol_get/put take it, from a driver's
    // probe or remove too, where the registry's mutex cannot be taken.
    ModuleRefs = 101,
    DeviceIrq = 102,     // interrupt lines and their handlers; held while handlers run
    DeviceWork = 103,    // the deferred-work queue
    DeviceState = 104,   // device states, the resources and pins of bindings
    PciConfig = 105,     // the 0xCF8/0xCFC configuration mechanism
    IoApic = 106,        // I/O APIC registers (index/data pairs)
    ModuleHolders = 107, // who holds a module (named holders), taken under DeviceState
    // A disk's request queue: taken by completions in interrupt handlers,
    // never held while the driver's submit or a completion runs.
    BlockQueue = 108,
    // The block cache: buffers and their states, the block device
    // registry. Taken by completions in interrupt handlers, and by the
    // heap's reclaim call (a trylock) from wherever kmalloc runs dry.
    BlockCache = 109,
    Vmalloc = 110,
    // GICv3's ITS: its command queue and tables; takes pages under it.
    GicIts = 111,
    // The entropy pool: fed from interrupt handlers (device locks held),
    // takes nothing else.
    Random = 115,
    PageTables = 120,
    Heap = 130,
    Pmm = 140,
    LogReader = 150,
    Log = 160,
    Console = 170,
    // The lock-order self test takes these in the wrong order on purpose.
    SelfTestOuter = 200,
    SelfTestInner = 210,
};

struct LockClass {
    const char* name;
    LockRank rank;
    bool sleeping; // a mutex
};

// What one thread holds, innermost last (part of every Thread).
struct HeldLock {
    const void* lock;
    const LockClass* lock_class;
    const void* site; // an address in the function that took it
};

struct LockOrderState {
    static constexpr size_t kMaxHeld = 16;
    HeldLock held[kMaxHeld];
    uint8_t count;
    // held[context_start, count) were taken in the running context: an
    // interrupt handler's locks are ordered afresh, not against the ones
    // of the code it interrupted.
    uint8_t context_start;
    uint8_t irq_depth;
};

namespace lock_order {

namespace detail {
// The running thread's locks (its Thread::lock_order): the scheduler points
// this at the thread it switches to, so that the checks inlined below reach
// them without a call.
extern LockOrderState* g_state;
} // namespace detail

// The checks, out of line: called by note_acquire when a lock of the same
// context is held (`try_only`: a trylock, which cannot deadlock and is
// recorded without a check) and by note_release when the lock is not the
// innermost. `site` is the code that takes the lock.
void acquire(const void* lock, const LockClass& lock_class, bool try_only, const void* site);
void release(const void* lock);
// Start over after a panic or for a test.
void disable();

// Records `held` at held[count]: the count first, so that an interrupt
// between the two (a mutex is noted with interrupts on) starts its own
// locks above the entry instead of writing over it.
[[gnu::always_inline]] inline void push(LockOrderState& state, unsigned count, const HeldLock& held)
{
    state.count = uint8_t(count + 1);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    state.held[count] = held;
}

// Called by the lock types before they take a lock and after they release
// it. Taking a lock with none of its context held (or releasing the
// innermost) needs no check and is recorded here, inline: under QEMU's TCG
// each call and return costs a lookup, and a network packet takes a dozen
// locks. `site` nullptr means here (the lock types inline their lock
// functions into the code that takes the lock). `kSpinlock`: the lock is
// known not to sleep, so it needs no check in an interrupt handler either.
// Once checking stopped (a report, a panic) these still keep the records,
// which nothing reads any more.
template<bool kSpinlock = false>
[[gnu::always_inline]] inline void note_acquire(
    const void* lock, const LockClass& lock_class, bool try_only = false, const void* site = nullptr)
{
    if constexpr (kLockOrderChecks) {
        if (lock_class.rank == LockRank::Unordered)
            return;
        if (!site)
            site = arch::code_address();
        LockOrderState& state = *detail::g_state;
        unsigned count = state.count;
        if (count == state.context_start && count < LockOrderState::kMaxHeld
            && (kSpinlock || !lock_class.sleeping || !state.irq_depth)) {
            push(state, count, { lock, &lock_class, site });
            return;
        }
        acquire(lock, lock_class, try_only, site);
    }
}

[[gnu::always_inline]] inline void note_release(const void* lock, const LockClass& lock_class)
{
    if constexpr (kLockOrderChecks) {
        if (lock_class.rank == LockRank::Unordered)
            return;
        LockOrderState& state = *detail::g_state;
        unsigned count = state.count;
        if (count > state.context_start && state.held[count - 1].lock == lock) {
            state.count = uint8_t(count - 1);
            return;
        }
        release(lock);
    }
}

// The architecture's interrupt entry and exit: what enter returns goes
// back to leave, which the handler's own locks (all released) leave as it was.
struct InterruptContext {
    uint8_t context_start;
};

[[gnu::always_inline]] inline InterruptContext note_enter_interrupt()
{
    if constexpr (kLockOrderChecks) {
        LockOrderState& state = *detail::g_state;
        InterruptContext outer { state.context_start };
        state.context_start = state.count;
        state.irq_depth++;
        return outer;
    }
    return {};
}

[[gnu::always_inline]] inline void note_leave_interrupt(InterruptContext outer)
{
    if constexpr (kLockOrderChecks) {
        LockOrderState& state = *detail::g_state;
        state.irq_depth--;
        state.context_start = outer.context_start;
    }
}

} // namespace lock_order

} // namespace keel
