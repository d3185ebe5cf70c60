// Deferred work and timers for drivers: one kernel thread, "kworker", runs
// work items in thread context, in the order they became due. A timer is a
// work item queued with a delay (millisecond resolution: sleepers wake on
// the scheduler's tick). Items belong to the binding: when it ends, each is
// cancelled (waiting for a running call to return) and freed.
#include "device/resources.h"
#include "log/log.h"
#include "mm/heap.h"
#include "sched/thread.h"
#include "sync/interrupts.h"
#include "sync/spinlock.h"
#include "sync/wait_queue.h"
#include "time/clock.h"

namespace keel {

namespace {

constexpr LockClass kWorkLockClass { "device work", LockRank::DeviceWork, false };
Spinlock g_work_lock { kWorkLockClass };
// Due now, in queueing order; and waiting for their time, soonest first.
IntrusiveList<WorkItem, &WorkItem::node> g_ready GUARDED_BY(g_work_lock);
IntrusiveList<WorkItem, &WorkItem::node> g_delayed GUARDED_BY(g_work_lock);
Thread* g_worker = nullptr;
bool g_worker_waiting GUARDED_BY(g_work_lock) = false;
// Woken after every item, for cancel().
WaitQueue g_item_done;
size_t g_items = 0;

WorkItem* next_item(uint64_t& sleep_ns) REQUIRES(g_work_lock)
{
    uint64_t now = time::monotonic_ns();
    while (WorkItem* item = g_delayed.first()) {
        if (item->due_ns > now) {
            sleep_ns = item->due_ns - now;
            break;
        }
        g_delayed.remove(*item);
        g_ready.push_back(*item);
    }
    WorkItem* item = g_ready.pop_front();
    if (item) {
        item->pending = false;
        item->running = true;
    }
    return item;
}

int worker_main(void*)
{
    for (;;) {
        WorkItem* item;
        {
            // Interrupts stay off from the check to the sleep, so a handler
            // queueing work cannot slip in between (one CPU).
            InterruptDisabler no_interrupts;
            uint64_t sleep_ns = 0;
            {
                SpinlockGuard guard(g_work_lock);
                item = next_item(sleep_ns);
                g_worker_waiting = !item;
            }
            if (!item) {
                if (sleep_ns)
                    thread_sleep_ns(sleep_ns);
                else
                    thread_block();
                SpinlockGuard guard(g_work_lock);
                g_worker_waiting = false;
                continue;
            }
        }
        item->fn(item->arg);
        thread_check_spinlocks_returned("the work item", reinterpret_cast<const void*>(item->fn), 0);
        {
            SpinlockGuard guard(g_work_lock);
            item->running = false;
        }
        g_item_done.wake_all();
    }
}

void release_item(Devres& resource)
{
    auto* item = reinterpret_cast<WorkItem*>(reinterpret_cast<char*>(&resource) - offsetof(WorkItem, devres));
    work_cancel(*item);
    __atomic_sub_fetch(&g_items, 1, __ATOMIC_RELAXED);
    destroy(item);
}

} // namespace

void work_init()
{
    auto thread = thread_create("kworker", worker_main, nullptr);
    if (thread.is_error()) {
        log_err("device: cannot start the worker thread (%s); deferred work will not run", error_name(thread.error()));
        return;
    }
    g_worker = thread.value();
    thread_detach(g_worker);
}

Result<WorkItem*> work_create(Device& device, keel_work_fn fn, void* arg)
{
    if (!fn)
        return Err(Error::EINVAL);
    WorkItem* item = TRY(make<WorkItem>()).leak();
    item->fn = fn;
    item->arg = arg;
    item->device = &device;
    __atomic_add_fetch(&g_items, 1, __ATOMIC_RELAXED);
    if (auto added = devres_add(device, item->devres, release_item, "work"); added.is_error()) {
        release_item(item->devres);
        return Err(added.error());
    }
    return item;
}

bool work_queue(WorkItem& item, uint64_t delay_ns)
{
    SpinlockGuard guard(g_work_lock);
    if (item.pending)
        return false;
    item.pending = true;
    if (delay_ns == 0) {
        item.due_ns = 0;
        g_ready.push_back(item);
    } else {
        item.due_ns = time::monotonic_ns() + delay_ns;
        WorkItem* later = nullptr;
        for (WorkItem& other : g_delayed) {
            if (other.due_ns > item.due_ns) {
                later = &other;
                break;
            }
        }
        if (later)
            g_delayed.insert_before(*later, item);
        else
            g_delayed.push_back(item);
    }
    if (g_worker_waiting && g_worker)
        thread_wake(g_worker);
    return true;
}

bool work_cancel(WorkItem& item)
{
    bool was_pending;
    {
        SpinlockGuard guard(g_work_lock);
        was_pending = item.pending;
        if (was_pending) {
            item.node.unlink();
            item.pending = false;
        }
    }
    // The item cancelling itself from its own function must not wait for
    // itself.
    if (current_thread() != g_worker)
        wait_event(g_item_done, !__atomic_load_n(&item.running, __ATOMIC_ACQUIRE));
    return was_pending;
}

void work_free(WorkItem* item)
{
    if (item && devres_take(item->devres))
        release_item(item->devres);
}

void work_stats(ResourceStats& stats) { stats.work_items = __atomic_load_n(&g_items, __ATOMIC_RELAXED); }

} // namespace keel
