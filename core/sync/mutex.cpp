#include "sync/mutex.h"

#include "sched/thread.h"

namespace keel {

void Mutex::lock()
{
    bool irq = arch::irq_save();
    while (m_owner != nullptr)
        m_waiters.sleep_locked();
    m_owner = current_thread();
    arch::irq_restore(irq);
}

bool Mutex::try_lock()
{
    bool irq = arch::irq_save();
    bool acquired = m_owner == nullptr;
    if (acquired)
        m_owner = current_thread();
    arch::irq_restore(irq);
    return acquired;
}

void Mutex::unlock()
{
    bool irq = arch::irq_save();
    m_owner = nullptr;
    m_waiters.wake_one();
    arch::irq_restore(irq);
}

} // namespace keel
