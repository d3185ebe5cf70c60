// Sleeping mutex: contended lockers block on a wait queue instead of
// spinning. Not for interrupt handlers.
#pragma once

#include "sync/wait_queue.h"

namespace keel {

struct Thread;

class Mutex {
public:
    void lock();
    bool try_lock();
    void unlock();
    bool is_locked() const { return m_owner != nullptr; }
    Thread* owner() const { return m_owner; }

private:
    Thread* m_owner = nullptr;
    WaitQueue m_waiters;
};

class MutexGuard {
public:
    explicit MutexGuard(Mutex& mutex)
        : m_mutex(mutex)
    {
        m_mutex.lock();
    }
    ~MutexGuard() { m_mutex.unlock(); }
    MutexGuard(const MutexGuard&) = delete;
    MutexGuard& operator=(const MutexGuard&) = delete;

private:
    Mutex& m_mutex;
};

} // namespace keel
