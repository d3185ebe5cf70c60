// panic(): the kernel cannot go on. Prints the reason, the registers when
// there is a trap frame, a symbolized backtrace and the taint flags, then
// halts or powers off as `panic=` says.
#pragma once

#include <stdint.h>

namespace keel {

[[noreturn]] void panic(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Exit status a panic hands to the host when it powers off (scripts/run
// reports it as the run's exit status).
inline constexpr int kPanicExitCode = 101;

// `panic=` (Linux semantics, with power-off instead of reboot):
//   0: halt forever; N > 0: power off after N seconds; N < 0: at once.
void set_panic_timeout(int64_t seconds);

// For the arch trap code: panic_begin() stops interrupts and makes the log
// lock-free, the trap code prints its frame, then panic_end() prints the
// backtrace from the trapping instruction and stops.
void panic_begin();
[[noreturn]] void panic_end(uint64_t rip, uint64_t rbp);

namespace detail {
extern int g_panic_depth; // panic.cpp's
} // namespace detail

// Inline: the lock-order checker asks on every lock and unlock.
inline bool in_panic() { return detail::g_panic_depth > 0; }

} // namespace keel
