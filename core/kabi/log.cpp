// keel_log, keel_logf, keel_panic: the log interface of KABI_CORE.
#include "log/log.h"
#include "debug/panic.h"
#include "kabi_impl.h"

static_assert(KEEL_LOG_EMERG == keel::kLogEmerg && KEEL_LOG_ERR == keel::kLogErr && KEEL_LOG_DEBUG == keel::kLogDebug,
    "the ABI's log levels are the kernel's");

namespace {

// Out-of-range levels from a module are logged as warnings rather than
// dropped, so a buggy caller's message is still seen.
int clamp_level(keel_log_level level)
{
    if (level < KEEL_LOG_EMERG || level > KEEL_LOG_DEBUG)
        return keel::kLogWarning;
    return level;
}

} // namespace

extern "C" void keel_log(keel_log_level level, const char* message)
{
    keel::log(clamp_level(level), "%s", message ? message : "(null)");
}

extern "C" void keel_logf(keel_log_level level, const char* format, ...)
{
    if (!format) {
        keel::log(clamp_level(level), "(null format)");
        return;
    }
    va_list args;
    va_start(args, format);
    keel::vlog(clamp_level(level), format, args);
    va_end(args);
}

extern "C" void keel_panic(const char* message) { keel::panic("%s", message ? message : "(null)"); }
