// Kernel threads for modules. A keel_thread* is the kernel's Thread*: the
// C type stays incomplete, so modules cannot depend on the layout.
#include "debug/panic.h"
#include "kabi/errno.h"
#include "kabi_impl.h"
#include "sched/thread.h"

namespace {

keel::Thread* to_thread(keel_thread* thread) { return reinterpret_cast<keel::Thread*>(thread); }

} // namespace

static_assert(KEEL_THREAD_NAME_MAX + 1 == keel::Thread::kNameLength, "thread name capacity is part of the ABI");

extern "C" int32_t keel_thread_create(const char* name, keel_thread_fn entry, void* arg, keel_thread** out)
{
    if (!name || !entry || !out)
        return keel::kabi_error(keel::Error::EINVAL);
    auto thread = keel::thread_create(name, entry, arg);
    if (thread.is_error())
        return keel::kabi_error(thread.error());
    *out = reinterpret_cast<keel_thread*>(thread.value());
    return 0;
}

extern "C" int32_t keel_thread_join(keel_thread* thread, int32_t* exit_code)
{
    if (!thread)
        return keel::kabi_error(keel::Error::EINVAL);
    if (to_thread(thread) == keel::current_thread())
        return keel::kabi_error(keel::Error::EDEADLK);
    keel::thread_might_sleep("joins a thread");
    int code = keel::thread_join(to_thread(thread));
    if (exit_code)
        *exit_code = code;
    return 0;
}

extern "C" void keel_thread_yield() { keel::thread_yield(); }

extern "C" void keel_sleep_ns(uint64_t duration_ns) { keel::thread_sleep_ns(duration_ns); }

extern "C" uint64_t keel_thread_current_id() { return keel::current_thread()->id; }
