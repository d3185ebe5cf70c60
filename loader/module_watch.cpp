// Module watches (keel_module_watch_add, KABI_CORE_1.2): a module that
// keeps a table other modules register into (inet's IP protocols and
// ICMP hook) is told of each module that goes, after that module's exit
// and before its memory does, so it can take out what the module left in
// it, as the loader does for the core's own tables (forget_registrations).
//
// The callbacks run one at a time under g_lock, a mutex the loader takes
// with the module registry held: removing a watch waits for a callback
// that is running, so after keel_module_watch_remove returns the watcher
// may go. A watch the going module left registered itself is not called;
// it is dropped once the module's destructors have run (one of them may
// still remove it).
#include <keel/keel.h>

#include "lib/base/intrusive_list.h"
#include "loader/internal.h"
#include "log/log.h"
#include "mm/heap.h"

struct keel_module_watch {
    keel::IntrusiveListNode node;
    keel_module_going going;
    void* arg;
};

namespace keel {

namespace {

constexpr LockClass kWatchLockClass { "module watches", LockRank::ModuleWatches, true };
Mutex g_lock { kWatchLockClass };
IntrusiveList<keel_module_watch, &keel_module_watch::node> g_watches GUARDED_BY(g_lock);

bool inside(const void* pointer, uintptr_t start, uintptr_t end)
{
    auto address = reinterpret_cast<uintptr_t>(pointer);
    return address >= start && address < end;
}

} // namespace

Result<keel_module_watch*> module_watch_add(keel_module_going going, void* arg)
{
    auto made = TRY(make<keel_module_watch>());
    keel_module_watch* watch = made.leak();
    watch->going = going;
    watch->arg = arg;
    MutexGuard guard(g_lock);
    g_watches.push_back(*watch);
    return watch;
}

void module_watch_remove(keel_module_watch* watch)
{
    {
        MutexGuard guard(g_lock);
        // A watch the loader already dropped (its module left it and then
        // removed it from a destructor or a stray thread) is not found.
        bool found = false;
        for (keel_module_watch& candidate : g_watches)
            found = found || &candidate == watch;
        if (!found) {
            log_warn("keel_module_watch_remove(%p): not a module watch (removed already?)", static_cast<void*>(watch));
            return;
        }
        g_watches.remove(*watch);
    }
    destroy(watch);
}

namespace {

bool watch_in(const keel_module_watch& watch, const Module& module)
{
    auto start = reinterpret_cast<uintptr_t>(module.base);
    return inside(reinterpret_cast<const void*>(watch.going), start, start + module.span);
}

} // namespace

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
    MutexGuard guard(g_lock);
    for (keel_module_watch& watch : g_watches) {
        if (!watch_in(watch, module))
            watch.going(watch.arg, &info);
    }
}

void module_watches_forget(const Module& module)
{
    if (!module.base)
        return;
    MutexGuard guard(g_lock);
    size_t dropped = 0;
    for (auto it = g_watches.begin(); it != g_watches.end();) {
        keel_module_watch& watch = *it;
        ++it;
        if (watch_in(watch, module)) {
            g_watches.remove(watch);
            destroy(&watch);
            dropped++;
        }
    }
    if (dropped)
        log_warn("%s: removing %zu module watch(es) it left registered", module.name, dropped);
}

} // namespace keel
