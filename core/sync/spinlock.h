// Spinlocks. Every acquisition saves and disables interrupts, so a lock
// taken in thread context can also be taken by an interrupt handler
// without deadlocking the CPU against itself.
#pragma once

#include "arch/cpu.h"

namespace keel {

class Spinlock {
public:
    constexpr Spinlock() = default;
    Spinlock(const Spinlock&) = delete;
    Spinlock& operator=(const Spinlock&) = delete;

    // Returns the interrupt state to hand back to unlock().
    [[nodiscard]] bool lock()
    {
        bool irq_state = arch::irq_save();
        while (__atomic_exchange_n(&m_locked, true, __ATOMIC_ACQUIRE)) {
            while (__atomic_load_n(&m_locked, __ATOMIC_RELAXED))
                arch::cpu_relax();
        }
        return irq_state;
    }

    void unlock(bool irq_state)
    {
        __atomic_store_n(&m_locked, false, __ATOMIC_RELEASE);
        arch::irq_restore(irq_state);
    }

    bool is_locked() const { return __atomic_load_n(&m_locked, __ATOMIC_RELAXED); }

private:
    bool m_locked = false;
};

class SpinlockGuard {
public:
    explicit SpinlockGuard(Spinlock& lock)
        : m_lock(lock)
        , m_irq_state(lock.lock())
    {
    }
    ~SpinlockGuard() { m_lock.unlock(m_irq_state); }
    SpinlockGuard(const SpinlockGuard&) = delete;
    SpinlockGuard& operator=(const SpinlockGuard&) = delete;

private:
    Spinlock& m_lock;
    bool m_irq_state;
};

// Data that may only be touched with its lock held:
//     SpinlockProtected<Queue> queue;
//     queue.with([](Queue& q) { q.push(...); });
template<typename T> class SpinlockProtected {
public:
    template<typename F> decltype(auto) with(F&& function)
    {
        SpinlockGuard guard(m_lock);
        return function(m_value);
    }

private:
    Spinlock m_lock;
    T m_value {};
};

} // namespace keel
