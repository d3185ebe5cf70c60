// Sleeping mutex: contended lockers block on a wait queue instead of
// spinning. Not for interrupt handlers, and never with a spinlock held (the
// lock-order checker refuses both).
#pragma once

#include "sync/lock_order.h"
#include "sync/thread_safety.h"
#include "sync/wait_queue.h"

namespace keel {

struct Thread;

class CAPABILITY("mutex") Mutex {
public:
    constexpr explicit Mutex(const LockClass& lock_class)
        : m_class(&lock_class)
    {
    }
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;

    void lock() ACQUIRE();
    bool try_lock() TRY_ACQUIRE(true);
    void unlock() RELEASE();
    bool is_locked() const { return m_owner != nullptr; }
    Thread* owner() const { return m_owner; }
    const LockClass& lock_class() const { return *m_class; }

private:
    Thread* m_owner = nullptr;
    WaitQueue m_waiters;
    const LockClass* m_class;
};

class SCOPED_CAPABILITY MutexGuard {
public:
    [[gnu::always_inline]] explicit MutexGuard(Mutex& mutex) ACQUIRE(mutex)
        : m_mutex(mutex)
    {
        m_mutex.lock();
    }
    ~MutexGuard() RELEASE() { m_mutex.unlock(); }
    MutexGuard(const MutexGuard&) = delete;
    MutexGuard& operator=(const MutexGuard&) = delete;

private:
    Mutex& m_mutex;
};

// Data that can only be reached with its mutex held (see SpinlockProtected).
template<typename T> class MutexProtected {
public:
    template<typename... Args>
    constexpr explicit MutexProtected(const LockClass& lock_class, Args&&... args)
        : m_mutex(lock_class)
        , m_value(static_cast<Args&&>(args)...)
    {
    }

    template<typename F> decltype(auto) with(F&& function)
    {
        MutexGuard guard(m_mutex);
        return function(m_value);
    }

private:
    Mutex m_mutex;
    T m_value GUARDED_BY(m_mutex);
};

} // namespace keel
