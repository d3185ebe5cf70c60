#include "sync/wait_queue.h"

#include "sched/thread.h"
#include "sync/interrupts.h"

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

void WaitQueue::sleep_locked_for(uint64_t duration_ns)
{
    WaitQueueEntry entry { current_thread(), {} };
    m_entries.push_back(entry);
    thread_sleep_ns(duration_ns);
    // Woken by the time: the entry is still queued.
    m_entries.remove(entry);
}

void WaitQueue::wake_first()
{
    InterruptDisabler no_interrupts;
    if (WaitQueueEntry* entry = m_entries.pop_front())
        thread_wake(entry->thread);
}

void WaitQueue::wake_every()
{
    InterruptDisabler no_interrupts;
    while (WaitQueueEntry* entry = m_entries.pop_front())
        thread_wake(entry->thread);
}

} // namespace keel
