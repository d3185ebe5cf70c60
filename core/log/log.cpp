#include "log/log.h"

#include "arch/serial.h"
#include "lib/base/format.h"
#include "log/log_ring.h"
#include "sync/spinlock.h"
#include "time/clock.h"

namespace keel {

namespace {

constexpr size_t kLogBufferSize = 128 * 1024;
constexpr size_t kMaxMessage = 1024;

alignas(16) char g_log_buffer[kLogBufferSize];
constexpr LockClass kLogLockClass { "log", LockRank::Log, false };
constexpr LockClass kConsoleLockClass { "console", LockRank::Console, false };
constexpr LockClass kLogReaderLockClass { "log reader", LockRank::LogReader, false };
Spinlock g_log_lock { kLogLockClass };
Spinlock g_console_lock { kConsoleLockClass };
LogRing g_ring GUARDED_BY(g_log_lock);
bool g_ring_ready GUARDED_BY(g_log_lock) = false;
int g_console_level = kLogInfo + 1;
bool g_panic_mode = false;

struct FormatBuffer {
    char text[kMaxMessage];
    size_t length = 0;
};

void append(void* context, const char* text, size_t length)
{
    auto* buffer = static_cast<FormatBuffer*>(context);
    size_t room = sizeof(buffer->text) - buffer->length;
    size_t take = length < room ? length : room;
    for (size_t i = 0; i < take; i++)
        buffer->text[buffer->length + i] = text[i];
    buffer->length += take;
}

// Whether the console's cursor is mid-line: a log record then starts on a
// line of its own (as Linux's printk does), so a message printed while
// someone types, or while a command's output is half a line, stays
// readable and a test can still find the typed line.
bool g_console_mid_line = false;

void console_write_unlocked(const char* text, size_t length)
{
    if (length == 0)
        return;
    arch::serial_write(text, length);
    g_console_mid_line = text[length - 1] != '\n';
}

void emit_console(void*, const char* text, size_t length) { console_write_unlocked(text, length); }

void print_record_to_console(uint64_t timestamp_us, const char* text, size_t length)
{
    char prefix[32];
    size_t prefix_length = format(prefix, sizeof(prefix), "[%5llu.%06llu] ",
        (unsigned long long)(timestamp_us / 1000000), (unsigned long long)(timestamp_us % 1000000));
    if (g_console_mid_line)
        console_write_unlocked("\n", 1);
    console_write_unlocked(prefix, prefix_length);
    console_write_unlocked(text, length);
    console_write_unlocked("\n", 1);
}

// After a panic the log is written without its lock: whoever held it will
// never run again, and the message must get out.
void push_during_panic(uint64_t timestamp_us, int level, const char* text, size_t length) NO_THREAD_SAFETY_ANALYSIS
{
    if (!g_ring_ready) {
        g_ring.init(g_log_buffer, sizeof(g_log_buffer));
        g_ring_ready = true;
    }
    g_ring.push(timestamp_us, level, text, length);
}

} // namespace

void vlog(int level, const char* format_string, va_list args)
{
    FormatBuffer buffer;
    vformat_to(append, &buffer, format_string, args);
    // One record per message; a trailing newline is implied.
    while (buffer.length > 0 && buffer.text[buffer.length - 1] == '\n')
        buffer.length--;
    if (level < kLogEmerg || level > kLogDebug)
        level = kLogInfo;
    uint64_t timestamp_us = time::monotonic_us();

    if (g_panic_mode) {
        push_during_panic(timestamp_us, level, buffer.text, buffer.length);
        print_record_to_console(timestamp_us, buffer.text, buffer.length);
        return;
    }
    {
        SpinlockGuard guard(g_log_lock);
        if (!g_ring_ready) {
            g_ring.init(g_log_buffer, sizeof(g_log_buffer));
            g_ring_ready = true;
        }
        g_ring.push(timestamp_us, level, buffer.text, buffer.length);
    }
    if (level < g_console_level) {
        SpinlockGuard guard(g_console_lock);
        print_record_to_console(timestamp_us, buffer.text, buffer.length);
    }
}

void log(int level, const char* format_string, ...)
{
    va_list args;
    va_start(args, format_string);
    vlog(level, format_string, args);
    va_end(args);
}

void log_set_console_level(int level) { g_console_level = level; }
int log_console_level() { return g_console_level; }

void console_write(const char* text, size_t length)
{
    if (g_panic_mode) {
        console_write_unlocked(text, length);
        return;
    }
    SpinlockGuard guard(g_console_lock);
    console_write_unlocked(text, length);
}

void console_vprint(const char* format_string, va_list args)
{
    if (g_panic_mode) {
        vformat_to(emit_console, nullptr, format_string, args);
        return;
    }
    SpinlockGuard guard(g_console_lock);
    vformat_to(emit_console, nullptr, format_string, args);
}

void console_print(const char* format_string, ...)
{
    va_list args;
    va_start(args, format_string);
    console_vprint(format_string, args);
    va_end(args);
}

uint64_t log_for_each(void (*visit)(const LogRecordView& record, void* context), void* context)
{
    // Copy records out one at a time so the lock is never held while the
    // visitor writes to the (slow) console.
    static char text[kMaxMessage];
    static Spinlock reader_lock { kLogReaderLockClass };
    SpinlockGuard reader_guard(reader_lock);
    uint64_t seq;
    uint64_t end;
    {
        SpinlockGuard guard(g_log_lock);
        if (!g_ring_ready)
            return 0;
        seq = g_ring.first_seq();
        end = g_ring.next_seq();
    }
    uint64_t lost = 0;
    bool first = true;
    while (seq < end) {
        LogRing::Record record;
        bool found;
        {
            SpinlockGuard guard(g_log_lock);
            found = g_ring.read(seq, record, text, sizeof(text));
        }
        if (!found)
            break;
        if (record.seq != seq && first)
            lost = record.seq - seq;
        first = false;
        size_t shown = record.text_length < sizeof(text) ? record.text_length : sizeof(text);
        LogRecordView view { record.seq, record.ts_us, record.level, text, shown };
        visit(view, context);
        seq = record.seq + 1;
    }
    return lost;
}

void log_enter_panic_mode() { g_panic_mode = true; }

} // namespace keel
