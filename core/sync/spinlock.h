// Spinlocks. Every acquisition saves and disables interrupts, so a lock
// taken in thread context can also be taken by an interrupt handler
// without deadlocking the CPU against itself. Each lock has a class
// (sync/lock_order.h) that ranks it against every other core lock.
#pragma once

#include "arch/cpu.h"
#include "sync/lock_order.h"
#include "sync/thread_safety.h"

namespace keel {

class CAPABILITY("spinlock") Spinlock {
public:
    constexpr explicit Spinlock(const LockClass& lock_class)
        : m_class(&lock_class)
    {
    }
    Spinlock(const Spinlock&) = delete;
    Spinlock& operator=(const Spinlock&) = delete;

    // Returns the interrupt state to hand back to unlock().
    [[nodiscard, gnu::always_inline]] bool lock() ACQUIRE()
    {
        bool irq_state = arch::irq_save();
        lock_order::note_acquire<true>(this, *m_class);
        while (__atomic_exchange_n(&m_locked, true, __ATOMIC_ACQUIRE)) {
            while (__atomic_load_n(&m_locked, __ATOMIC_RELAXED))
                arch::cpu_relax();
        }
        return irq_state;
    }

    // Takes the lock only if it is free; true when it did (then `irq_state`
    // is for unlock()). Cannot deadlock, so the order checker records it
    // without a check.
    [[nodiscard, gnu::always_inline]] bool try_lock(bool& irq_state) TRY_ACQUIRE(true)
    {
        irq_state = arch::irq_save();
        if (__atomic_exchange_n(&m_locked, true, __ATOMIC_ACQUIRE)) {
            arch::irq_restore(irq_state);
            return false;
        }
        lock_order::note_acquire<true>(this, *m_class, true);
        return true;
    }

    [[gnu::always_inline]] void unlock(bool irq_state) RELEASE()
    {
        __atomic_store_n(&m_locked, false, __ATOMIC_RELEASE);
        lock_order::note_release(this, *m_class);
        arch::irq_restore(irq_state);
    }

    bool is_locked() const { return __atomic_load_n(&m_locked, __ATOMIC_RELAXED); }
    const LockClass& lock_class() const { return *m_class; }

private:
    bool m_locked = false;
    const LockClass* m_class;
};

class SCOPED_CAPABILITY SpinlockGuard {
public:
    [[gnu::always_inline]] explicit SpinlockGuard(Spinlock& lock) ACQUIRE(lock)
        : m_lock(lock)
        , m_irq_state(lock.lock())
    {
    }
    [[gnu::always_inline]] ~SpinlockGuard() RELEASE() { m_lock.unlock(m_irq_state); }
    SpinlockGuard(const SpinlockGuard&) = delete;
    SpinlockGuard& operator=(const SpinlockGuard&) = delete;

private:
    Spinlock& m_lock;
    bool m_irq_state;
};

// Data that can only be reached with its lock held:
//     SpinlockProtected<Queue> g_queue { kQueueLockClass };
//     g_queue.with([](Queue& queue) { queue.push(...); });
template<typename T> class SpinlockProtected {
public:
    template<typename... Args>
    constexpr explicit SpinlockProtected(const LockClass& lock_class, Args&&... args)
        : m_lock(lock_class)
        , m_value(static_cast<Args&&>(args)...)
    {
    }

    template<typename F> decltype(auto) with(F&& function)
    {
        SpinlockGuard guard(m_lock);
        return function(m_value);
    }

private:
    Spinlock m_lock;
    T m_value GUARDED_BY(m_lock);
};

} // namespace keel
