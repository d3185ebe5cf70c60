#include "debug/panic.h"

#include "arch/cpu.h"
#include "arch/power.h"
#include "debug/backtrace.h"
#include "debug/taint.h"
#include "lib/base/utility.h"
#include "log/log.h"
#include "time/clock.h"

namespace keel {

namespace detail {

int g_panic_depth = 0;

} // namespace detail

namespace {

int64_t g_panic_timeout_seconds = 0;
int& g_panic_depth = detail::g_panic_depth;

[[noreturn]] void finish_panic()
{
    print_loaded_modules();
    char taint[48];
    console_print("---[ end Kernel panic (%s) ]---\n", taint_description(taint, sizeof(taint)));
    if (g_panic_timeout_seconds < 0)
        arch::poweroff(kPanicExitCode);
    if (g_panic_timeout_seconds > 0) {
        console_print("Powering off in %lld seconds..\n", (long long)g_panic_timeout_seconds);
        uint64_t rate = time::cycles_per_second();
        if (rate != 0) {
            // Saturating: a timeout past the counter's range waits forever.
            uint64_t wait;
            uint64_t deadline;
            if (mul_overflows(uint64_t(g_panic_timeout_seconds), rate, &wait)
                || add_overflows(time::cycles(), wait, &deadline))
                deadline = ~0ull;
            while (time::cycles() < deadline)
                arch::cpu_relax();
        }
        arch::poweroff(kPanicExitCode);
    }
    arch::halt_forever();
}

// A fault while panicking (a bad pointer in the backtrace, say) must not
// recurse forever: the second time round we stop at once.
} // namespace

void panic_begin()
{
    arch::irq_disable();
    if (++g_panic_depth > 1) {
        console_write("\nnested panic\n", 14);
        if (g_panic_timeout_seconds != 0)
            arch::poweroff(kPanicExitCode);
        arch::halt_forever();
    }
    log_enter_panic_mode();
}

void set_panic_timeout(int64_t seconds) { g_panic_timeout_seconds = seconds; }

void panic(const char* format_string, ...)
{
    panic_begin();
    console_print("Kernel panic - not syncing: ");
    va_list args;
    va_start(args, format_string);
    console_vprint(format_string, args);
    va_end(args);
    console_print("\n");
    // Start at panic()'s caller: its return address, then its frame.
    auto* frame = static_cast<const uint64_t*>(__builtin_frame_address(0));
    print_backtrace(reinterpret_cast<uint64_t>(__builtin_return_address(0)) - 1, frame[0]);
    finish_panic();
}

void panic_end(uint64_t rip, uint64_t rbp)
{
    print_backtrace(rip, rbp);
    console_print("Kernel panic - not syncing: Fatal exception\n");
    finish_panic();
}

} // namespace keel
