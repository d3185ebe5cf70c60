// Wait queues: threads block on them until another thread or an interrupt
// handler wakes them. Each sleeper queues an entry that lives on its own
// stack (as Linux's wait_queue_entry), so waiting never allocates. On one
// CPU, checking the condition and queueing happen with interrupts off, so
// no wake-up can slip in between:
//
//     wait_event(queue, data_ready);           // sleeper
//     data_ready = true; queue.wake_all();     // waker (thread or IRQ)
#pragma once

#include <stdint.h>

#include "arch/cpu.h"
#include "lib/base/intrusive_list.h"
#include "sync/interrupts.h"

namespace keel {

struct Thread;

struct WaitQueueEntry {
    Thread* thread;
    IntrusiveListNode node;
};

class WaitQueue {
public:
    // With interrupts disabled: queue the current thread and block until
    // woken. Interrupts are disabled again on return.
    void sleep_locked();
    // The same, but also woken when `duration_ns` has passed.
    void sleep_locked_for(uint64_t duration_ns);
    // Wake the first sleeper, or every one. A queue nobody waits on costs
    // no call: a sleeper tests its condition and queues itself with
    // interrupts off, so a waker that changed the condition first and then
    // finds the queue empty has nobody to miss (one CPU).
    void wake_one()
    {
        if (!empty())
            wake_first();
    }
    void wake_all()
    {
        if (!empty())
            wake_every();
    }
    bool empty() const
    {
        __atomic_signal_fence(__ATOMIC_SEQ_CST); // after the waker's own stores
        return m_entries.is_empty();
    }

private:
    void wake_first();
    void wake_every();
    IntrusiveList<WaitQueueEntry, &WaitQueueEntry::node> m_entries;
};

// Block until `condition` holds; it is re-evaluated after every wake-up.
#define wait_event(queue, condition)                                                                                   \
    do {                                                                                                               \
        ::keel::InterruptDisabler _keel_no_interrupts;                                                                 \
        while (!(condition))                                                                                           \
            (queue).sleep_locked();                                                                                    \
    } while (0)

} // namespace keel
