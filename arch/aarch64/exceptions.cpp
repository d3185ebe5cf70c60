// Exceptions at EL1. Interrupts go to the handler registered for their GIC
// interrupt ID; every synchronous exception in the kernel is fatal for now:
// print what happened (the exception class, the faulting address, a decoded
// abort) and the registers, and panic with a backtrace from the faulting
// instruction. The one exception that is expected is the probe of
// semihosting (power.cpp), stepped over here.
#include "arch/cpu.h"
#include "arch/interrupts.h"
#include "debug/backtrace.h"
#include "debug/panic.h"
#include "gic.h"
#include "log/log.h"
#include "power_internal.h"
#include "sync/lock_order.h"

extern "C" char keel_exception_vectors[];

namespace keel::arch {

namespace {

InterruptHandler g_handlers[kMaxInterrupts];

// Exception classes (ESR_EL1.EC) the kernel can meet.
enum ExceptionClass : uint32_t {
    kUnknown = 0x00,
    kIllegalState = 0x0e,
    kSvc = 0x15,
    kSysreg = 0x18,
    kInstructionAbort = 0x21,
    kPcAlignment = 0x22,
    kDataAbort = 0x25,
    kSpAlignment = 0x26,
    kSError = 0x2f,
    kBrk = 0x3c,
};

const char* class_name(uint32_t ec)
{
    switch (ec) {
    case kUnknown: return "undefined instruction";
    case kIllegalState: return "illegal execution state";
    case kSvc: return "system call";
    case kSysreg: return "trapped system register access";
    case kInstructionAbort: return "instruction abort";
    case kPcAlignment: return "PC alignment fault";
    case kDataAbort: return "data abort";
    case kSpAlignment: return "SP alignment fault";
    case kSError: return "SError";
    case kBrk: return "breakpoint (BRK)";
    default: return "exception";
    }
}

const char* fault_status_name(uint32_t status)
{
    switch (status & 0x3c) {
    case 0x04: return "translation fault (page not present)";
    case 0x08: return "access flag fault";
    case 0x0c: return "permission fault (protection violation)";
    case 0x00: return "address size fault";
    case 0x10: return "synchronous external abort";
    default: return status == 0x21 ? "alignment fault" : "abort";
    }
}

void print_abort(const InterruptFrame& frame, uint32_t ec)
{
    uint32_t iss = uint32_t(frame.esr & 0x1ffffff);
    const char* access = ec == kInstructionAbort ? "instruction fetch" : (iss & (1 << 6)) ? "write" : "read";
    console_print("BUG: unable to handle page fault for address: %016llx\n", (unsigned long long)frame.far);
    console_print("Mem abort: supervisor %s access, %s\n", access, fault_status_name(iss & 0x3f));
    if (frame.far < 4096)
        console_print("Mem abort: NULL pointer dereference\n");
}

void print_registers(const InterruptFrame& frame)
{
    char where[160];
    if (!symbolize(frame.elr, where, sizeof(where)))
        where[0] = '?', where[1] = '\0';
    char caller[160];
    if (!symbolize(frame.x[30], caller, sizeof(caller)))
        caller[0] = '?', caller[1] = '\0';
    console_print("pc : %016llx %s\n", (unsigned long long)frame.elr, where);
    console_print("lr : %016llx %s\n", (unsigned long long)frame.x[30], caller);
    console_print("sp : %016llx pstate: %08llx ESR: %08llx FAR: %016llx\n", (unsigned long long)frame.sp,
        (unsigned long long)frame.spsr, (unsigned long long)frame.esr, (unsigned long long)frame.far);
    for (int i = 0; i < 30; i += 3) {
        console_print("x%-2d: %016llx x%-2d: %016llx x%-2d: %016llx\n", i, (unsigned long long)frame.x[i], i + 1,
            (unsigned long long)frame.x[i + 1], i + 2, (unsigned long long)frame.x[i + 2]);
    }
    console_print("TTBR1: %016llx TCR: %016llx SCTLR: %016llx\n", (unsigned long long)KEEL_READ_SYSREG(ttbr1_el1),
        (unsigned long long)KEEL_READ_SYSREG(tcr_el1), (unsigned long long)KEEL_READ_SYSREG(sctlr_el1));
}

[[noreturn]] void fatal(InterruptFrame& frame, const char* what)
{
    uint32_t ec = uint32_t(frame.esr >> 26);
    console_print("Oops: %s [EC 0x%02x] ESR 0x%llx\n", what, ec, (unsigned long long)frame.esr);
    // brk is what __builtin_trap() compiles to: the kernel's own checks
    // (the value of a Result that holds an error) end here.
    if (ec == kBrk)
        console_print("BUG: a trap in the kernel's code: a failed check, such as the value of a Result that holds an "
                      "error, in the function below\n");
    print_registers(frame);
    panic_end(frame.elr, frame.x[29]);
}

} // namespace

void vectors_init()
{
    KEEL_WRITE_SYSREG(vbar_el1, reinterpret_cast<uint64_t>(keel_exception_vectors));
    isb();
}

void set_interrupt_handler(unsigned intid, InterruptHandler handler)
{
    if (intid < kMaxInterrupts)
        __atomic_store_n(&g_handlers[intid], handler, __ATOMIC_RELEASE);
}

// Interrupts do not nest (handlers run with them masked): one is enough.
unsigned g_current_intid = 0;

unsigned interrupt_vector(const InterruptFrame&) { return g_current_intid; }

} // namespace keel::arch

using namespace keel;
using namespace keel::arch;

extern "C" void arm64_sync_exception(InterruptFrame* frame)
{
    uint32_t ec = uint32_t(frame->esr >> 26);
    if (ec == kUnknown && semihosting_probe_faulted(frame->elr)) {
        frame->elr += 4; // no semihosting: step over the call
        return;
    }
    panic_begin();
    if (ec == kDataAbort || ec == kInstructionAbort)
        print_abort(*frame, ec);
    fatal(*frame, class_name(ec));
}

extern "C" void arm64_stack_overflow(InterruptFrame* frame)
{
    panic_begin();
    console_print("BUG: kernel stack overflow (guard page hit at %016llx)\n", (unsigned long long)frame->far);
    fatal(*frame, class_name(uint32_t(frame->esr >> 26)));
}

extern "C" void arm64_bad_exception(InterruptFrame* frame, uint64_t kind)
{
    static constexpr const char* kOrigins[4] = { "EL1 with SP_EL0", "EL1", "EL0 (AArch64)", "EL0 (AArch32)" };
    static constexpr const char* kKinds[4] = { "synchronous exception", "IRQ", "FIQ", "SError" };
    panic_begin();
    console_print("BUG: unexpected %s from %s\n", kKinds[kind & 3], kOrigins[(kind >> 2) & 3]);
    fatal(*frame, kKinds[kind & 3]);
}

extern "C" void arm64_irq(InterruptFrame* frame)
{
    unsigned intid = gic_acknowledge();
    if (intid >= kMaxInterrupts)
        return; // spurious
    g_current_intid = intid;
    InterruptHandler handler = __atomic_load_n(&g_handlers[intid], __ATOMIC_ACQUIRE);
    if (handler) {
        // Locks the handler takes are ordered afresh (sync/lock_order.h).
        auto outer = lock_order::note_enter_interrupt();
        handler(*frame);
        lock_order::note_leave_interrupt(outer);
    }
    gic_end_if_pending(intid);
}
