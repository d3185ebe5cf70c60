// Kernel threads: preemptive, round-robin, one CPU.
//
// The scheduler state is protected by disabling interrupts (there is one
// CPU); every entry point below is safe to call with interrupts on or off.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arch/context.h"
#include "lib/base/intrusive_list.h"
#include "lib/base/result.h"
#include "sync/lock_order.h"
#include "sync/wait_queue.h"

namespace keel {

enum class ThreadState : uint8_t {
    Runnable,
    Running,
    Blocked,
    Sleeping,
    Dead,
};

const char* thread_state_name(ThreadState state);

using ThreadEntry = int (*)(void* argument);

struct Thread {
    static constexpr size_t kNameLength = 24;
    // Loading a module that needs another nests two loads, each verifying a
    // signature (the curve arithmetic alone takes some 4 KiB): 16 KiB
    // overflowed there once the loader also consulted the autoload policy.
    static constexpr size_t kStackSize = 32768;

    uint64_t id;
    char name[kNameLength];
    ThreadState state;
    bool detached;
    int exit_code;
    ThreadEntry entry;
    void* argument;

    arch::Context context;
    arch::FpuState fpu;
    void* stack;           // vmalloc'd, with a guard page below
    uint64_t wake_time_ns; // while Sleeping
    uint64_t switches;     // times switched in
    uint64_t runtime_ns;

    LockOrderState lock_order; // the locks it holds (sync/lock_order.h)
    // Modules' spinlocks it holds (keel_spin_lock, kabi/sync.cpp):
    // interrupts come back on when the last of them is released, in
    // whatever order they are, as they were before the first. The thread
    // must not sleep meanwhile (thread_block and the other sleeps stop it).
    uint32_t module_spinlocks = 0;
    bool module_spinlock_irqs_were_on = false;

    WaitQueue exit_waiters;
    IntrusiveListNode queue_node; // run queue, sleep list or a wait queue
    IntrusiveListNode all_node;
};

void scheduler_init();
// Called from the timer interrupt every tick.
void scheduler_tick(uint64_t now_ns);
// Preempt if the tick said so; called on the way out of interrupts.
void preempt_if_needed();

Result<Thread*> thread_create(const char* name, ThreadEntry entry, void* argument);
// The thread's resources go away when it exits; it cannot be joined.
void thread_detach(Thread* thread);
// Waits for `thread` to exit, frees it and returns its exit code.
int thread_join(Thread* thread);
[[noreturn]] void thread_exit(int code);
void thread_yield();
void thread_sleep_ns(uint64_t duration_ns);
inline void thread_sleep_ms(uint64_t ms) { thread_sleep_ns(ms * 1000000); }
namespace detail {
extern Thread* g_current_thread; // scheduler.cpp's; read through current_thread()
} // namespace detail

// Inline: the lock-order checker asks on every lock and unlock.
inline Thread* current_thread() { return detail::g_current_thread; }

// Stops the kernel (naming the thread) when the current thread holds a
// module's spinlock: `how` it was about to sleep ("sleeps", "locks a
// mutex"). Every sleep checks; a module's call that may sleep checks on
// entry, whether it would sleep this time or not.
void thread_might_sleep(const char* how);
// Stops the kernel when a callback of a module's (`what` at `function`:
// an interrupt handler, a work item) returned holding more of its
// spinlocks than the thread held before the call (`held_before`): the next
// taker would spin for ever, and the count would be blamed on whichever
// thread it was left on.
void thread_check_spinlocks_returned(const char* what, const void* function, uint32_t held_before);

// Block the current thread (already queued somewhere by the caller, with
// interrupts off) until someone calls thread_wake on it.
void thread_block();
void thread_wake(Thread* thread);

struct ThreadInfo {
    uint64_t id;
    char name[Thread::kNameLength];
    ThreadState state;
    uint64_t switches;
    uint64_t runtime_ns;
};
// Snapshot of up to `capacity` threads; returns how many exist.
size_t thread_list(ThreadInfo* out, size_t capacity);
size_t thread_count();

// A module goes: of the threads started at code in [start, end) and not
// detached, returns how many still run, naming the first in `name`; when
// none does, those that finished and were never joined are freed.
size_t thread_reap_started_in(uintptr_t start, uintptr_t end, char* name, size_t size);

} // namespace keel
