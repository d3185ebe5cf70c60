// Device interrupts: vectors from the architecture's device range, lines
// (an MSI/MSI-X vector, or a shared interrupt-controller input) and the
// handlers drivers request on them.
//
// One spinlock guards every line's handler list and is held while the
// handlers of a line run, so removing a handler waits for a running call
// of it to return (on one CPU trivially: the handler runs with interrupts
// off; with more CPUs, free spins on the lock until the call is done).
#include "arch/irq.h"
#include "arch/context.h"
#include "arch/interrupts.h"
#include "device/resources.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "log/log.h"
#include "mm/heap.h"
#include "random/random.h"
#include "sched/thread.h"
#include "sync/spinlock.h"

namespace keel {

namespace {

// Unclaimed interrupts in a row after which a line is masked. A level
// line nobody acknowledges fires again as soon as it is unmasked, so a
// storm reaches this in a millisecond or so; a device that merely shares a
// line with a quiet one never comes close.
constexpr uint32_t kStormThreshold = 1000;

constexpr LockClass kIrqLockClass { "device irq", LockRank::DeviceIrq, false };
Spinlock g_irq_lock { kIrqLockClass };
IrqLine* g_lines_by_vector[256] GUARDED_BY(g_irq_lock);
IntrusiveList<IrqLine, &IrqLine::node> g_gsi_lines GUARDED_BY(g_irq_lock);
size_t g_vectors_in_use GUARDED_BY(g_irq_lock) = 0;
size_t g_handlers GUARDED_BY(g_irq_lock) = 0;
// The FPU/SIMD registers of whatever thread an interrupt stopped, while the
// line's handlers run (run_handlers).
arch::FpuState g_handler_fpu GUARDED_BY(g_irq_lock);

void dispatch(arch::InterruptFrame& frame);

// A free vector in [first, last] of the device range.
Result<unsigned> allocate_vector(IrqLine* line, unsigned first, unsigned last) REQUIRES(g_irq_lock)
{
    first = max(first, arch::kDeviceVectorFirst);
    last = min(last, arch::kDeviceVectorLast);
    for (unsigned vector = first; vector <= last; vector++) {
        if (!g_lines_by_vector[vector]) {
            g_lines_by_vector[vector] = line;
            g_vectors_in_use++;
            line->vector = vector;
            return vector;
        }
    }
    return Err(Error::ENOSPC);
}

void free_vector(IrqLine* line) REQUIRES(g_irq_lock)
{
    if (line->vector && g_lines_by_vector[line->vector] == line) {
        g_lines_by_vector[line->vector] = nullptr;
        g_vectors_in_use--;
    }
    line->vector = 0;
}

void mask_line(IrqLine& line, bool masked)
{
    if (line.mask)
        line.mask(line, masked);
}

void mask_gsi(IrqLine& line, bool masked) { arch::irq_mask_gsi(line.gsi, masked); }

void release_action(Devres& resource)
{
    auto* action = reinterpret_cast<IrqAction*>(reinterpret_cast<char*>(&resource) - offsetof(IrqAction, devres));
    IrqLine* line = action->line;
    {
        SpinlockGuard guard(g_irq_lock);
        line->actions.remove(*action);
        g_handlers--;
        if (line->actions.is_empty())
            mask_line(*line, true);
    }
    destroy(action);
}

// A line's handlers are modules' code, built with the compiler's defaults
// (SSE on x86_64, FP/SIMD on AArch64: a struct copied or cleared may go
// through those registers), and an interrupt stops a thread anywhere,
// between two instructions that keep a value in one. The registers are the
// stopped thread's (or, when idle was running, those of the thread that
// owns them: the scheduler leaves them in place across idle), and the core's
// own code never uses them, so they are saved around the handlers. Returns
// whether one claimed the interrupt.
bool run_handlers(IrqLine& line) REQUIRES(g_irq_lock)
{
    arch::fpu_save(g_handler_fpu);
    bool handled = false;
    uint32_t spinlocks = current_thread()->module_spinlocks;
    for (IrqAction& action : line.actions) {
        int result = action.handler(action.arg);
        thread_check_spinlocks_returned(
            "the interrupt handler", reinterpret_cast<const void*>(action.handler), spinlocks);
        if (result == KEEL_IRQ_HANDLED) {
            handled = true;
            if (line.kind != IrqKind::Intx)
                break;
        }
    }
    arch::fpu_restore(g_handler_fpu);
    return handled;
}

void dispatch(arch::InterruptFrame& frame)
{
    {
        SpinlockGuard guard(g_irq_lock);
        IrqLine* line = g_lines_by_vector[arch::interrupt_vector(frame) & 0xff];
        if (line) {
            line->count++;
            bool handled = run_handlers(*line);
            if (handled) {
                line->unhandled_in_a_row = 0;
            } else {
                line->unhandled++;
                if (++line->unhandled_in_a_row >= kStormThreshold && !line->storm_masked) {
                    mask_line(*line, true);
                    line->storm_masked = true;
                    log_err("irq: %s (vector %#x): %u interrupts in a row that no handler claimed; line masked",
                        line->name, line->vector, line->unhandled_in_a_row);
                }
            }
        }
    }
    // When a device interrupts is not predictable: mixed in, uncredited.
    random_add_timing();
    arch::end_of_interrupt();
    // A handler may have woken a thread (a completion): let it run now
    // rather than at the next tick.
    preempt_if_needed();
}

} // namespace

Result<IrqLine*> irq_line_create(
    IrqKind kind, const char* name, void (*mask)(IrqLine&, bool), void* context, uint32_t index)
{
    IrqLine* line = TRY(make<IrqLine>()).leak();
    line->kind = kind;
    line->mask = mask;
    line->mask_context = context;
    line->mask_index = index;
    format(line->name, sizeof(line->name), "%s", name);
    line->users = 1;
    unsigned first, last;
    arch::msi_vector_range(first, last);
    bool allocated;
    {
        SpinlockGuard guard(g_irq_lock);
        allocated = allocate_vector(line, first, last).is_ok();
    }
    if (!allocated) {
        destroy(line);
        return Err(Error::ENOSPC);
    }
    arch::set_interrupt_handler(line->vector, dispatch);
    return line;
}

Result<IrqLine*> irq_line_get_gsi(uint32_t gsi, bool level_triggered, bool active_low)
{
    {
        SpinlockGuard guard(g_irq_lock);
        for (IrqLine& line : g_gsi_lines) {
            if (line.gsi == gsi) {
                line.users++;
                return &line;
            }
        }
    }
    IrqLine* line = TRY(make<IrqLine>()).leak();
    line->kind = IrqKind::Intx;
    line->gsi = gsi;
    line->mask = mask_gsi;
    line->users = 1;
    format(line->name, sizeof(line->name), "GSI %u", gsi);
    // Where the controller fixes the vector (a GIC input is its own), that
    // one; else any.
    unsigned fixed = arch::irq_gsi_vector(gsi);
    bool allocated;
    {
        SpinlockGuard guard(g_irq_lock);
        allocated = (fixed ? allocate_vector(line, fixed, fixed) : allocate_vector(line, 0, ~0u)).is_ok();
    }
    if (!allocated) {
        destroy(line);
        return Err(Error::ENOSPC);
    }
    // Routed (masked) before the handler is set: a refusal leaves the
    // vector's handler as it was (a GIC input the architecture keeps).
    if (!arch::irq_route_gsi(gsi, line->vector, level_triggered, active_low)) {
        {
            SpinlockGuard guard(g_irq_lock);
            free_vector(line);
        }
        destroy(line);
        return Err(Error::ENXIO);
    }
    arch::set_interrupt_handler(line->vector, dispatch);
    SpinlockGuard guard(g_irq_lock);
    g_gsi_lines.push_back(*line);
    return line;
}

void irq_line_put(IrqLine* line)
{
    if (!line)
        return;
    {
        SpinlockGuard guard(g_irq_lock);
        VERIFY(line->actions.is_empty());
        if (--line->users > 0)
            return;
        mask_line(*line, true);
        free_vector(line);
        if (line->kind == IrqKind::Intx)
            g_gsi_lines.remove(*line);
    }
    destroy(line);
}

bool irq_line_has_handlers(const IrqLine& line)
{
    SpinlockGuard guard(g_irq_lock);
    return !line.actions.is_empty();
}

Result<IrqAction*> irq_request(Device& device, uint32_t index, keel_irq_handler_fn handler, void* arg)
{
    if (!handler)
        return Err(Error::EINVAL);
    if (index >= device.irq_count || !device.irq_lines || !device.irq_lines[index])
        return Err(Error::ENOENT);
    IrqLine* line = device.irq_lines[index];
    IrqAction* action = TRY(make<IrqAction>()).leak();
    action->line = line;
    action->handler = handler;
    action->arg = arg;
    action->device = &device;
    bool taken;
    {
        SpinlockGuard guard(g_irq_lock);
        // A message-signalled vector belongs to one handler.
        taken = line->kind != IrqKind::Intx && !line->actions.is_empty();
    }
    if (taken) {
        destroy(action);
        return Err(Error::EBUSY);
    }
    if (auto added = devres_add(device, action->devres, release_action, "irq"); added.is_error()) {
        destroy(action);
        return Err(added.error());
    }
    SpinlockGuard guard(g_irq_lock);
    line->actions.push_back(*action);
    g_handlers++;
    if (line->storm_masked) {
        log_info("irq: %s: unmasked again for a new handler (%s)", line->name, device.name);
        line->storm_masked = false;
    }
    line->unhandled_in_a_row = 0;
    mask_line(*line, false);
    return action;
}

void irq_free(IrqAction* action)
{
    if (action && devres_take(action->devres))
        release_action(action->devres);
}

void irq_report(void (*print)(const char* line, void* context), void* context)
{
    char text[128];
    for (unsigned vector = arch::kDeviceVectorFirst; vector <= arch::kDeviceVectorLast; vector++) {
        {
            SpinlockGuard guard(g_irq_lock);
            IrqLine* line = g_lines_by_vector[vector];
            if (!line)
                continue;
            size_t n = format(text, sizeof(text), "  %#04x %-5s %-18s %8llu irqs %6llu unclaimed%s:", vector,
                line->kind == IrqKind::Intx      ? "INTx"
                    : line->kind == IrqKind::Msi ? "MSI"
                                                 : "MSI-X",
                line->name, (unsigned long long)line->count, (unsigned long long)line->unhandled,
                line->storm_masked ? " MASKED" : "");
            for (IrqAction& action : line->actions)
                n += format(
                    text + min(n, sizeof(text)), n < sizeof(text) ? sizeof(text) - n : 0, " %s", action.device->name);
        }
        print(text, context);
    }
}

} // namespace keel

namespace keel {

void irq_stats(ResourceStats& stats)
{
    SpinlockGuard guard(g_irq_lock);
    stats.irq_vectors = g_vectors_in_use;
    stats.irq_handlers = g_handlers;
}

bool irq_handlers_keep_fpu_state(uint64_t pattern)
{
    IrqLine line;
    IrqAction action {};
    action.handler = [](void*) -> int32_t {
        arch::fpu_test_load(~uint64_t(0x5a5a5a5a5a5a5a5a));
        return KEEL_IRQ_HANDLED;
    };
    SpinlockGuard guard(g_irq_lock); // interrupts off, as in dispatch
    line.actions.push_back(action);
    arch::fpu_test_load(pattern);
    run_handlers(line);
    bool kept = arch::fpu_test_check(pattern);
    line.actions.remove(action);
    return kept;
}

} // namespace keel
