/* abi_probe: calls most of KABI_CORE and reports what it saw. Built against
 * the SDK of every released node (tests/abi/meson.build): the same source
 * must keep loading and working on the current core. keel_add_taint is the
 * compatibility shim: its 1.0 version returns 0 twice, its 1.1 version 0
 * and then 1 ("already set"). */
#include <keel/module.h>

/* The SDKs of KABI_CORE_1.0 and 1.1 predate the errno table in keel.h. Its
 * numbers are Linux's and were promised from 1.0 on (abi/baseline/errno.abi
 * fixes them), so a module built with an old SDK spells them itself. */
#ifndef KEEL_EINVAL
#define KEEL_EINVAL 22
#define KEEL_ENOMEM 12
#endif

KEEL_MODULE_NAME("abi_probe");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("ABI compatibility probe");
KEEL_MODULE_VERSION(ABI_PROBE_SDK);

static keel_spinlock lock;
static keel_completion* done;
static int32_t counted;

static int32_t worker(void* arg)
{
    uint64_t state = keel_spin_lock(&lock);
    counted += *(int32_t*)arg;
    keel_spin_unlock(&lock, state);
    keel_completion_complete(done);
    return 5;
}

static int abi_probe_init(void)
{
    keel_mutex* mutex = NULL;
    if (keel_mutex_create(&mutex) || keel_mutex_trylock(mutex))
        return -KEEL_EINVAL;
    keel_mutex_unlock(mutex);
    keel_mutex_destroy(mutex);
    if (keel_completion_create(&done))
        return -KEEL_ENOMEM;
    char* buffer = keel_zalloc(64);
    if (!buffer)
        return -KEEL_ENOMEM;
    int32_t amount = 3;
    keel_thread* thread = NULL;
    int32_t code = 0;
    if (keel_thread_create("abi_probe", worker, &amount, &thread) || keel_thread_join(thread, &code))
        return -KEEL_EINVAL;
    keel_completion_wait(done);
    keel_completion_destroy(done);
    uint64_t before = keel_monotonic_ns();
    keel_sleep_ns(1000);
    keel_thread_yield();
    int32_t first = keel_add_taint(KEEL_TAINT_TEST);
    int32_t second = keel_add_taint(KEEL_TAINT_TEST);
    keel_free(buffer);
    keel_logf(KEEL_LOG_INFO, "abi_probe: sdk %s ok: thread %d counted %d clock %s taint=%d,%d", ABI_PROBE_SDK, code,
        counted, keel_monotonic_ns() >= before ? "monotonic" : "BACKWARDS", first, second);
    return 0;
}

KEEL_MODULE_INIT(abi_probe_init);
