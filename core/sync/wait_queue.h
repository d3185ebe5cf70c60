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
    void wake_one();
    void wake_all();
    bool empty() const { return m_entries.is_empty(); }

private:
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
