// What the console commands use from the rest of the kernel, for the host
// build of the command table (fuzz_console.cpp): the console and the log
// format every message (so the sanitizers check each format against its
// arguments) and count the output; memory comes from the host VFS
// platform, which counts what is outstanding; poweroff and reboot jump
// back to the fuzzer.
#include "console_stubs.h"

#include <stdarg.h>
#include <string.h>

#include "bcache/bcache.h"
#include "console/console.h"
#include "lib/base/format.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/pmm.h"
#include "mm/vmalloc.h"
#include "sched/thread.h"
#include "time/clock.h"
#include "vfs/platform.h"

extern "C" const keel::ConsoleCommand __start_keel_console_commands[];
extern "C" const keel::ConsoleCommand __stop_keel_console_commands[];

ConsoleStubState g_console_stub;

namespace keel {

const ConsoleCommand* console_commands_begin() { return __start_keel_console_commands; }
const ConsoleCommand* console_commands_end() { return __stop_keel_console_commands; }

void console_write(const char* text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        g_console_stub.checksum += uint8_t(text[i]); // reads every byte
    g_console_stub.output_bytes += length;
}

void console_vprint(const char* format_string, va_list args)
{
    char text[1024];
    size_t length = vformat(text, sizeof(text), format_string, args);
    console_write(text, length < sizeof(text) ? length : sizeof(text) - 1);
}

void console_print(const char* format_string, ...)
{
    va_list args;
    va_start(args, format_string);
    console_vprint(format_string, args);
    va_end(args);
}

void vlog(int, const char* format_string, va_list args) { console_vprint(format_string, args); }

void log(int level, const char* format_string, ...)
{
    va_list args;
    va_start(args, format_string);
    vlog(level, format_string, args);
    va_end(args);
}

void log_set_console_level(int level) { g_console_stub.console_level = level; }
int log_console_level() { return g_console_stub.console_level; }

uint64_t log_for_each(void (*visit)(const LogRecordView& record, void* context), void* context)
{
    static const char* const kTexts[] = { "Keel 0.1.0 (x86_64) booting", "pmm: 255 MiB usable", "%s%n" };
    for (int level = 0; level < 8; level++) {
        const char* text = kTexts[level % 3];
        visit({ uint64_t(level), uint64_t(level) * 1000001, level, text, strlen(text) }, context);
    }
    return 3;
}

// A command that could go on for long (cat of a 1 TiB sparse file) is
// stopped the way a user would stop it.
bool console_interrupted()
{
    return g_console_stub.output_bytes > kConsoleOutputBudget || ++g_console_stub.polls > kConsolePollBudget;
}

int console_read_byte() { __builtin_trap(); }

void* kmalloc(size_t size) { return vfs::platform_alloc(size); }
void* kzalloc(size_t size)
{
    void* memory = vfs::platform_alloc(size);
    if (memory)
        memset(memory, 0, size);
    return memory;
}
void kfree(void* pointer) { vfs::platform_free(pointer); }
HeapStats heap_stats() { return { 1234, 5 }; }

MemoryStats pmm_stats() { return { 64895, 64804, 511 }; }
size_t vmalloc_area_count() { return 20; }

const char* thread_state_name(ThreadState) { return "running"; }
size_t thread_list(ThreadInfo* out, size_t capacity)
{
    if (capacity > 0)
        out[0] = { 1, "monitor", ThreadState::Running, 3, 4000 };
    return 100; // more than any caller's array: "... and N more"
}

const char* saved_command_line() { return "panic=-1 fuzz"; }

namespace time {
uint64_t monotonic_ns() { return 123456789012ull; }
uint64_t cycles() { return g_console_stub.cycles += 1000; }
uint64_t cycles_per_second() { return 1000000000; }
} // namespace time

// No devices and no disks on the host: nothing to stop or write back
// before poweroff.
void device_shutdown_all() { }
Result<void> bcache_sync_all() { return {}; }

namespace arch {
[[noreturn]] void poweroff(int code)
{
    g_console_stub.exit_code = code;
    longjmp(g_console_stub.exit, 1);
}
[[noreturn]] void reboot()
{
    g_console_stub.exit_code = 1000;
    longjmp(g_console_stub.exit, 1);
}
} // namespace arch

} // namespace keel
