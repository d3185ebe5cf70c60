// The kernel log: printk-style messages with Linux's levels, kept in a ring
// buffer with microsecond timestamps (dmesg) and echoed to the console when
// their level is below the console loglevel (`loglevel=` on the command line).
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

namespace keel {

enum LogLevel : int {
    kLogEmerg = 0,
    kLogAlert = 1,
    kLogCrit = 2,
    kLogErr = 3,
    kLogWarning = 4,
    kLogNotice = 5,
    kLogInfo = 6,
    kLogDebug = 7,
};

void log(int level, const char* format, ...) __attribute__((format(printf, 2, 3)));
void vlog(int level, const char* format, va_list args);

#define log_err(...) ::keel::log(::keel::kLogErr, __VA_ARGS__)
#define log_warn(...) ::keel::log(::keel::kLogWarning, __VA_ARGS__)
#define log_notice(...) ::keel::log(::keel::kLogNotice, __VA_ARGS__)
#define log_info(...) ::keel::log(::keel::kLogInfo, __VA_ARGS__)
#define log_debug(...) ::keel::log(::keel::kLogDebug, __VA_ARGS__)

// Messages with a level numerically below this reach the console.
void log_set_console_level(int level);
int log_console_level();

// Raw console output, bypassing the log (the monitor's own output).
void console_write(const char* text, size_t length);
void console_print(const char* format, ...) __attribute__((format(printf, 1, 2)));
void console_vprint(const char* format, va_list args);

// Visit every record still in the ring, oldest first. Returns how many
// records were lost to overwriting before the first one visited.
struct LogRecordView {
    uint64_t seq;
    uint64_t timestamp_us;
    int level;
    const char* text;
    size_t length;
};
uint64_t log_for_each(void (*visit)(const LogRecordView& record, void* context), void* context);

// After a panic the log must work without locks another CPU or an
// interrupted thread may hold.
void log_enter_panic_mode();

} // namespace keel
