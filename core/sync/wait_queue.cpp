#include "sync/wait_queue.h"

#include "sched/thread.h"

namespace keel {

void WaitQueue::sleep_locked()
{
    WaitQueueEntry entry { current_thread(), {} };
    m_entries.push_back(entry);
    thread_block();
    // A waker unlinks the entry before waking us; a spurious return (none
    // today) must not leave a dangling stack entry on the queue.
    m_entries.remove(entry);
}

void WaitQueue::wake_one()
{
    bool irq = arch::irq_save();
    if (WaitQueueEntry* entry = m_entries.pop_front())
        thread_wake(entry->thread);
    arch::irq_restore(irq);
}

void WaitQueue::wake_all()
{
    bool irq = arch::irq_save();
    while (WaitQueueEntry* entry = m_entries.pop_front())
        thread_wake(entry->thread);
    arch::irq_restore(irq);
}

} // namespace keel
