// What core/init/params.cpp and memory_map.cpp use from the rest of the
// kernel, for the host: the log formats every message (so the sanitizers
// check each format and its arguments) into a buffer the fuzzer can read,
// and the kernel image sits where QEMU's PVH loader puts it.
#include <stdarg.h>

#include <string>

#include "lib/base/format.h"
#include "log/log.h"
#include "mm/pmm.h"

std::string g_fuzz_log;

namespace keel {

void vlog(int level, const char* format_string, va_list args)
{
    char text[512];
    vformat(text, sizeof(text), format_string, args);
    g_fuzz_log += char('0' + level);
    g_fuzz_log += text;
    g_fuzz_log += '\n';
}

void log(int level, const char* format_string, ...)
{
    va_list args;
    va_start(args, format_string);
    vlog(level, format_string, args);
    va_end(args);
}

namespace {
int g_console_level = kLogDebug;
}

void log_set_console_level(int level) { g_console_level = level; }
int log_console_level() { return g_console_level; }

PhysicalRange kernel_image_range() { return { 0x100000, 0x60000 }; }

} // namespace keel
