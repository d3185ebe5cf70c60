// Mutexes, spinlocks and completions for modules.
//
// The opaque handle types are completed here, wrapping the kernel's own
// primitives; keel_spinlock's layout is fixed by the ABI, so it gets its own
// lock loop on that layout (the same algorithm as sync/spinlock.h).
#include "arch/cpu.h"
#include "debug/panic.h"
#include "kabi/errno.h"
#include "kabi_impl.h"
#include "mm/heap.h"
#include "sched/thread.h"
#include "sync/interrupts.h"
#include "sync/mutex.h"
#include "sync/wait_queue.h"
#include "time/clock.h"

namespace {
// A module's locks are ordered by the module, not the core.
constexpr keel::LockClass kModuleMutexClass { "module mutex", keel::LockRank::Unordered, true };
} // namespace

struct keel_mutex {
    keel::Mutex mutex { kModuleMutexClass };
};

struct keel_completion {
    keel::WaitQueue waiters;
    bool done = false;
};

namespace {

// Null handles are module bugs; stop with a message naming the call
// rather than faulting somewhere inside the kernel.
template<typename T> T* require(T* handle, const char* function)
{
    if (!handle)
        keel::panic("%s: null handle passed by a module", function);
    return handle;
}

template<typename T> int32_t create(T** out)
{
    if (!out)
        return keel::kabi_error(keel::Error::EINVAL);
    auto object = keel::make<T>();
    if (object.is_error())
        return keel::kabi_error(object.error());
    *out = object.value().leak(); // the module's handle owns it now
    return 0;
}

} // namespace

extern "C" int32_t keel_mutex_create(keel_mutex** out) { return create(out); }

extern "C" void keel_mutex_destroy(keel_mutex* mutex)
{
    if (!mutex)
        return;
    if (mutex->mutex.is_locked())
        keel::panic("keel_mutex_destroy: mutex %p is still locked", static_cast<void*>(mutex));
    keel::destroy(mutex);
}

// A module locks and unlocks in separate calls: the analysis cannot pair them.
extern "C" void keel_mutex_lock(keel_mutex* mutex) NO_THREAD_SAFETY_ANALYSIS
{
    keel::thread_might_sleep("locks a mutex");
    require(mutex, "keel_mutex_lock")->mutex.lock();
}

extern "C" int32_t keel_mutex_trylock(keel_mutex* mutex) NO_THREAD_SAFETY_ANALYSIS
{
    return require(mutex, "keel_mutex_trylock")->mutex.try_lock() ? 0 : keel::kabi_error(keel::Error::EBUSY);
}

extern "C" void keel_mutex_unlock(keel_mutex* mutex) NO_THREAD_SAFETY_ANALYSIS
{
    require(mutex, "keel_mutex_unlock")->mutex.unlock();
}

// Interrupts stay off until the thread's last module spinlock is released,
// not only until the one taken first is: a guard dropped out of order (a
// Rust `drop(first)` while `second` is held) would otherwise turn them on
// with `second` held, and an interrupt handler taking `second` would spin
// for ever. The state from before the first lock comes back with the last
// unlock; `irq_state` matters only for an unlock with none counted. A lock
// must be released by the context that took it (the ABI says so): one
// taken in an interrupt handler and released by a thread would leave the
// count on the interrupted thread, which stops at its next sleep.
// An interrupt handler counts on the thread it interrupted, whose count is
// 0 then: a thread holding one runs with interrupts off.
extern "C" uint64_t keel_spin_lock(keel_spinlock* lock)
{
    require(lock, "keel_spin_lock");
    bool irq_state = keel::arch::irq_save();
    keel::Thread* self = keel::current_thread();
    if (self->module_spinlocks++ == 0)
        self->module_spinlock_irqs_were_on = irq_state;
    while (__atomic_exchange_n(&lock->locked, 1u, __ATOMIC_ACQUIRE)) {
        // Spin on a plain load so the cache line is not bounced by writes.
        while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED))
            keel::arch::cpu_relax();
    }
    return irq_state ? 1 : 0;
}

extern "C" void keel_spin_unlock(keel_spinlock* lock, uint64_t irq_state)
{
    require(lock, "keel_spin_unlock");
    __atomic_store_n(&lock->locked, 0u, __ATOMIC_RELEASE);
    keel::Thread* self = keel::current_thread();
    if (self->module_spinlocks == 0) {
        keel::arch::irq_restore(irq_state != 0);
        return;
    }
    if (--self->module_spinlocks == 0)
        keel::arch::irq_restore(self->module_spinlock_irqs_were_on);
}

extern "C" int32_t keel_completion_create(keel_completion** out) { return create(out); }

extern "C" void keel_completion_destroy(keel_completion* completion)
{
    if (!completion)
        return;
    if (!completion->waiters.empty())
        keel::panic("keel_completion_destroy: completion %p still has waiters", static_cast<void*>(completion));
    keel::destroy(completion);
}

extern "C" void keel_completion_wait(keel_completion* completion)
{
    require(completion, "keel_completion_wait");
    keel::thread_might_sleep("waits for a completion");
    wait_event(completion->waiters, completion->done);
}

extern "C" int32_t keel_completion_wait_timeout(keel_completion* completion, uint64_t timeout_ns)
{
    require(completion, "keel_completion_wait_timeout");
    if (timeout_ns) // with 0, a test that never waits
        keel::thread_might_sleep("waits for a completion");
    keel::InterruptDisabler no_interrupts;
    uint64_t deadline = keel::time::monotonic_ns() + timeout_ns;
    while (!completion->done) {
        uint64_t now = keel::time::monotonic_ns();
        if (now >= deadline)
            return keel::kabi_error(keel::Error::ETIMEDOUT);
        completion->waiters.sleep_locked_for(deadline - now);
    }
    return 0;
}

extern "C" void keel_completion_complete(keel_completion* completion)
{
    require(completion, "keel_completion_complete");
    // Interrupts off: a waiter between its check of `done` and going to
    // sleep cannot miss this wake-up (wait_event checks with them off too).
    keel::InterruptDisabler no_interrupts;
    completion->done = true;
    completion->waiters.wake_all();
}
