// A round-robin scheduler for one CPU. The boot thread becomes the idle
// thread, which never blocks or sleeps: schedule() falls back to it when no
// other thread can run; every other thread is created by thread_create. The timer tick
// wakes sleepers and ends time slices; a preempted thread is switched away
// on the way out of the timer interrupt.
#include "arch/cpu.h"
#include "arch/paging.h"
#include "lib/base/assert.h"
#include "lib/base/string.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/vmalloc.h"
#include "sched/thread.h"
#include "sync/interrupts.h"
#include "time/clock.h"

namespace keel {

namespace {

constexpr unsigned kSliceTicks = 10;

using ThreadQueue = IntrusiveList<Thread, &Thread::queue_node>;
using ThreadList = IntrusiveList<Thread, &Thread::all_node>;

Thread g_idle_thread;

} // namespace

namespace detail {

Thread* g_current_thread = &g_idle_thread;

} // namespace detail

LockOrderState* lock_order::detail::g_state = &g_idle_thread.lock_order;

namespace {

Thread*& g_current = detail::g_current_thread;
ThreadQueue g_run_queue;
ThreadQueue g_sleepers; // sorted by wake time
ThreadQueue g_zombies;  // exited detached threads, freed by the next thread
ThreadList g_all_threads;
uint64_t g_next_id = 1;
bool g_need_resched = false;
unsigned g_slice_used = 0;
uint64_t g_switched_in_at = 0;
// The thread whose FPU and SIMD state the registers hold; nullptr before
// the first switch and after that thread is freed. Idle (core code, built
// without SSE, never touches them) runs on whatever they hold, so a
// switch to idle saves nothing and a switch from idle back to the same
// thread restores nothing: an echo's three switches (idle to the receive
// thread, on to the reader, back to idle) saved and restored the state
// three times, two now. Each fxsave or fxrstor is about 70 emulated
// memory accesses under TCG: a pair took 0.47 us in a loop of 100,000,
// so this saves little per switch, but nothing at all is saved for a
// thread that sleeps and wakes with only idle between.
Thread* g_fpu_owner = nullptr;

void free_thread(Thread* thread)
{
    if (g_fpu_owner == thread)
        g_fpu_owner = nullptr;
    g_all_threads.remove(*thread);
    vfree(thread->stack);
    destroy(thread);
}

// Runs in the thread that was switched to, on its own stack.
void finish_switch()
{
    while (Thread* zombie = g_zombies.pop_front())
        free_thread(zombie);
}

// Before a switch to `next` (the core code in between uses no SSE): the
// registers' state to its owner's save area and `next`'s loaded, unless
// idle comes next or `next` owns them already.
void fpu_switch_to(Thread* next)
{
    if (next == &g_idle_thread || next == g_fpu_owner)
        return;
    if (g_fpu_owner)
        arch::fpu_save(g_fpu_owner->fpu);
    arch::fpu_restore(next->fpu);
    g_fpu_owner = next;
}

// Interrupts are off.
void schedule()
{
    Thread* previous = g_current;
    bool previous_can_run = previous->state == ThreadState::Running;
    if (previous_can_run) {
        previous->state = ThreadState::Runnable;
        if (previous != &g_idle_thread) // idle runs only when nothing else can
            g_run_queue.push_back(*previous);
    }
    Thread* next = g_run_queue.pop_front();
    if (!next)
        next = previous_can_run ? previous : &g_idle_thread;
    g_need_resched = false;
    g_slice_used = 0;
    next->state = ThreadState::Running;
    if (next == previous)
        return;

    uint64_t now = time::monotonic_ns();
    previous->runtime_ns += now - g_switched_in_at;
    g_switched_in_at = now;
    next->switches++;
    fpu_switch_to(next);
    g_current = next;
    lock_order::detail::g_state = &next->lock_order;
    arch::context_switch(previous->context, next->context);
    finish_switch();
}

void thread_start(void* argument)
{
    auto* thread = static_cast<Thread*>(argument);
    finish_switch();
    arch::irq_enable();
    thread_exit(thread->entry(thread->argument));
}

void copy_name(char* destination, const char* name)
{
    size_t i = 0;
    for (; name && name[i] && i < Thread::kNameLength - 1; i++)
        destination[i] = name[i];
    destination[i] = '\0';
}

// Idle is what schedule() runs when nothing else can: were it to wait,
// schedule() would hand the CPU straight back to it, interrupts off, and
// the wake-up it waits for could never come.
void verify_not_idle() { VERIFY(g_current != &g_idle_thread); }

} // namespace

// A thread that sleeps holding a module's spinlock (keel_spin_lock) sleeps
// with the lock taken: whoever spins on it next, interrupts off, never lets
// it run again. Stopped here, naming the thread and (in the backtrace) the
// module's code, rather than hung later somewhere else.
void thread_might_sleep(const char* how)
{
    if (g_current->module_spinlocks) {
        log_err("%s: %s holding %u spinlock(s) of a module (keel_spin_lock)", g_current->name, how,
            g_current->module_spinlocks);
        assertion_failed("a thread sleeps holding a module's spinlock", __FILE_NAME__, __LINE__);
    }
}

void thread_check_spinlocks_returned(const char* what, const void* function, uint32_t held_before)
{
    uint32_t held = g_current->module_spinlocks;
    if (held != held_before) {
        log_err("%s: %s %p returned holding %d spinlock(s) of a module (keel_spin_lock) more than before it ran",
            g_current->name, what, function, int(held - held_before));
        assertion_failed("a module's callback returned holding its spinlock", __FILE_NAME__, __LINE__);
    }
}

const char* thread_state_name(ThreadState state)
{
    switch (state) {
    case ThreadState::Runnable: return "runnable";
    case ThreadState::Running: return "running";
    case ThreadState::Blocked: return "blocked";
    case ThreadState::Sleeping: return "sleeping";
    case ThreadState::Dead: return "dead";
    }
    return "?";
}

void scheduler_init()
{
    copy_name(g_idle_thread.name, "idle");
    g_idle_thread.id = 0;
    g_idle_thread.state = ThreadState::Running;
    arch::fpu_init_state(g_idle_thread.fpu);
    g_all_threads.push_back(g_idle_thread);
}

Result<Thread*> thread_create(const char* name, ThreadEntry entry, void* argument)
{
    Own<Thread> owned = TRY(make<Thread>());
    owned->stack = TRY(vmalloc(Thread::kStackSize, arch::kPageWrite));
    // From here the scheduler's lists own it; free_thread releases it.
    Thread* thread = owned.leak();
    copy_name(thread->name, name);
    thread->entry = entry;
    thread->argument = argument;
    arch::fpu_init_state(thread->fpu);
    arch::context_init(thread->context, static_cast<char*>(thread->stack) + Thread::kStackSize, thread_start, thread);

    InterruptDisabler no_interrupts;
    thread->id = g_next_id++;
    thread->state = ThreadState::Runnable;
    g_all_threads.push_back(*thread);
    g_run_queue.push_back(*thread);
    return thread;
}

void thread_detach(Thread* thread)
{
    InterruptDisabler no_interrupts;
    if (thread->state == ThreadState::Dead)
        free_thread(thread);
    else
        thread->detached = true;
}

int thread_join(Thread* thread)
{
    wait_event(thread->exit_waiters, thread->state == ThreadState::Dead);
    int code = thread->exit_code;
    {
        InterruptDisabler no_interrupts;
        free_thread(thread);
    }
    return code;
}

void thread_exit(int code)
{
    thread_might_sleep("exits");
    arch::irq_disable();
    Thread* self = g_current;
    self->exit_code = code;
    self->state = ThreadState::Dead;
    if (self->detached)
        g_zombies.push_back(*self);
    else
        self->exit_waiters.wake_all();
    schedule();
    __builtin_unreachable();
}

void thread_yield()
{
    thread_might_sleep("yields");
    InterruptDisabler no_interrupts;
    schedule();
}

void thread_block()
{
    thread_might_sleep("blocks");
    InterruptDisabler no_interrupts;
    verify_not_idle();
    g_current->state = ThreadState::Blocked;
    schedule();
}

void thread_wake(Thread* thread)
{
    InterruptDisabler no_interrupts;
    if (thread->state == ThreadState::Blocked || thread->state == ThreadState::Sleeping) {
        if (thread->state == ThreadState::Sleeping)
            g_sleepers.remove(*thread);
        thread->state = ThreadState::Runnable;
        g_run_queue.push_back(*thread);
        if (g_current == &g_idle_thread)
            g_need_resched = true;
    }
}

void thread_sleep_ns(uint64_t duration_ns)
{
    thread_might_sleep("sleeps");
    InterruptDisabler no_interrupts;
    verify_not_idle();
    Thread* self = g_current;
    self->wake_time_ns = time::monotonic_ns() + duration_ns;
    Thread* position = nullptr;
    for (Thread& sleeper : g_sleepers) {
        if (sleeper.wake_time_ns > self->wake_time_ns) {
            position = &sleeper;
            break;
        }
    }
    if (position)
        g_sleepers.insert_before(*position, *self);
    else
        g_sleepers.push_back(*self);
    self->state = ThreadState::Sleeping;
    schedule();
}

void scheduler_tick(uint64_t now_ns)
{
    while (Thread* sleeper = g_sleepers.first()) {
        if (sleeper->wake_time_ns > now_ns)
            break;
        g_sleepers.remove(*sleeper);
        sleeper->state = ThreadState::Runnable;
        g_run_queue.push_back(*sleeper);
        if (g_current == &g_idle_thread)
            g_need_resched = true;
    }
    if (g_current != &g_idle_thread && ++g_slice_used >= kSliceTicks && !g_run_queue.is_empty())
        g_need_resched = true;
}

void preempt_if_needed()
{
    if (g_need_resched)
        schedule();
}

size_t thread_list(ThreadInfo* out, size_t capacity)
{
    InterruptDisabler no_interrupts;
    size_t count = 0;
    for (Thread& thread : g_all_threads) {
        if (count < capacity) {
            ThreadInfo& info = out[count];
            info.id = thread.id;
            memcpy(info.name, thread.name, sizeof(info.name));
            info.state = thread.state;
            info.switches = thread.switches;
            info.runtime_ns = thread.runtime_ns + (&thread == g_current ? time::monotonic_ns() - g_switched_in_at : 0);
        }
        count++;
    }
    return count;
}

size_t thread_reap_started_in(uintptr_t start, uintptr_t end, char* name, size_t size)
{
    auto started_in = [&](const Thread& thread) {
        auto entry = reinterpret_cast<uintptr_t>(thread.entry);
        return !thread.detached && entry >= start && entry < end;
    };
    // One pass with interrupts off, so that nothing runs between the count
    // and the frees: while one of them still runs it may be about to join
    // a finished one (it holds the handle), and none is freed then.
    InterruptDisabler no_interrupts;
    size_t running = 0;
    for (Thread& thread : g_all_threads) {
        if (!started_in(thread) || thread.state == ThreadState::Dead)
            continue;
        if (running++ == 0 && size > 0) {
            size_t length = strnlen(thread.name, sizeof(thread.name));
            length = length < size - 1 ? length : size - 1;
            memcpy(name, thread.name, length);
            name[length] = '\0';
        }
    }
    if (running > 0)
        return running;
    for (Thread* thread = g_all_threads.first(); thread;) {
        Thread* next = g_all_threads.next(*thread);
        if (started_in(*thread))
            free_thread(thread); // Dead, and joined by no one now
        thread = next;
    }
    return 0;
}

size_t thread_count()
{
    InterruptDisabler no_interrupts;
    size_t count = g_all_threads.size();
    return count;
}

} // namespace keel
