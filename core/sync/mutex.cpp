#include "sync/mutex.h"

#include "sched/thread.h"
#include "sync/interrupts.h"

namespace keel {

void Mutex::lock()
{
    lock_order::note_acquire(this, *m_class, false, __builtin_return_address(0));
    InterruptDisabler no_interrupts;
    while (m_owner != nullptr)
        m_waiters.sleep_locked();
    m_owner = current_thread();
}

bool Mutex::try_lock()
{
    InterruptDisabler no_interrupts;
    if (m_owner != nullptr)
        return false;
    m_owner = current_thread();
    lock_order::note_acquire(this, *m_class, true, __builtin_return_address(0));
    return true;
}

void Mutex::unlock()
{
    InterruptDisabler no_interrupts;
    m_owner = nullptr;
    lock_order::note_release(this, *m_class);
    m_waiters.wake_one();
}

} // namespace keel
