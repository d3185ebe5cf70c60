// Module watches (keel_module_watch_add, KABI_CORE_1.2): a module that
// keeps a table other modules register into (inet's IP protocols and
// ICMP hook) is told of each module that goes, after that module's exit
// and before its memory does, so it can take out what the module left in
// it, as the loader does for the core's own tables (forget_registrations).
//
// The list is guarded by a spinlock, held only to link, unlink and step
// through it, never while a callback runs: a watch is added or removed
// from anywhere a thread may sleep, a driver's probe included, and a
// callback may take whatever locks its sweep needs. A watch counts its
// running calls; removing it waits until none runs and then unlinks it,
// so after keel_module_watch_remove returns the watcher may go. The
// loader tells the watches of one module at a time (it holds the registry
// lock). A watch the going module left registered itself is not called;
// it is dropped once the module's destructors have run (one of them may
// still remove it).
#include <keel/keel.h>

#include "lib/base/intrusive_list.h"
#include "loader/internal.h"
#include "log/log.h"
#include "mm/heap.h"
#include "sched/thread.h"

struct keel_module_watch {
    keel::IntrusiveListNode node;
    keel_module_going going;
    void* arg;
    uint32_t running; // calls of `going` in progress, under the lock
    bool removing;    // keel_module_watch_remove waits: no new calls
};

namespace keel {

namespace {

constexpr LockClass kWatchLockClass { "module watches", LockRank::ModuleWatches, false };
Spinlock g_lock { kWatchLockClass };
IntrusiveList<keel_module_watch, &keel_module_watch::node> g_watches GUARDED_BY(g_lock);

bool inside(const void* pointer, uintptr_t start, uintptr_t end)
{
    auto address = reinterpret_cast<uintptr_t>(pointer);
    return address >= start && address < end;
}

bool watch_in(const keel_module_watch& watch, const Module& module)
{
    auto start = reinterpret_cast<uintptr_t>(module.base);
    return inside(reinterpret_cast<const void*>(watch.going), start, start + module.span);
}

bool linked(keel_module_watch* watch) REQUIRES(g_lock)
{
    for (keel_module_watch& candidate : g_watches) {
        if (&candidate == watch)
            return true;
    }
    return false;
}

} // namespace

Result<keel_module_watch*> module_watch_add(keel_module_going going, void* arg)
{
    auto made = TRY(make<keel_module_watch>());
    keel_module_watch* watch = made.leak();
    watch->going = going;
    watch->arg = arg;
    SpinlockGuard guard(g_lock);
    g_watches.push_back(*watch);
    return watch;
}

void module_watch_remove(keel_module_watch* watch)
{
    {
        SpinlockGuard guard(g_lock);
        // A watch the loader already dropped (its module left it and then
        // removed it from a destructor or a stray thread) is not found.
        if (!linked(watch) || watch->removing) {
            log_warn("keel_module_watch_remove(%p): not a module watch (removed already?)", static_cast<void*>(watch));
            return;
        }
        watch->removing = true;
    }
    // A call of its callback that is running finishes first; none starts.
    for (;;) {
        {
            SpinlockGuard guard(g_lock);
            if (watch->running == 0) {
                g_watches.remove(*watch);
                break;
            }
        }
        thread_sleep_ns(100 * 1000);
    }
    destroy(watch);
}

void module_watches_notify(const Module& module)
{
    if (!module.base)
        return;
    auto start = reinterpret_cast<uintptr_t>(module.base);
    keel_module_going_info info {};
    info.size = sizeof(info);
    info.name = module.name;
    info.start = start;
    info.end = start + module.span;
    // A watch stays linked while a call of it runs (remove waits for it),
    // so the walk goes on from it once the call returns.
    bool irq_state = g_lock.lock();
    for (keel_module_watch& watch : g_watches) {
        if (watch.removing || watch_in(watch, module))
            continue;
        watch.running++;
        g_lock.unlock(irq_state);
        watch.going(watch.arg, &info);
        irq_state = g_lock.lock();
        watch.running--;
    }
    g_lock.unlock(irq_state);
}

void module_watches_forget(const Module& module)
{
    if (!module.base)
        return;
    size_t dropped = 0;
    {
        SpinlockGuard guard(g_lock);
        for (auto it = g_watches.begin(); it != g_watches.end();) {
            keel_module_watch& watch = *it;
            ++it;
            // Never running: the loader calls no watch of the module that goes.
            if (watch_in(watch, module) && !watch.removing) {
                g_watches.remove(watch);
                destroy(&watch);
                dropped++;
            }
        }
    }
    if (dropped)
        log_warn("%s: removing %zu module watch(es) it left registered", module.name, dropped);
}

} // namespace keel
