/*
 * keel_completion_wait_timeout (KABI_CORE_1.2), checked on init: a wait
 * that runs out of time says -ETIMEDOUT after at least its timeout, one
 * on a completion already done (or with a timeout of 0) returns at once,
 * and one that another thread completes returns 0 as soon as it does,
 * long before its timeout. Reports one line; any failure fails the load.
 */
#include <keel/module.h>

KEEL_MODULE_NAME("waittest");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Tests keel_completion_wait_timeout");

#define MS 1000000ull

static keel_completion* g_done;

static int32_t completer(void* arg)
{
    (void)arg;
    keel_sleep_ns(5 * MS);
    keel_completion_complete(g_done);
    return 0;
}

static int waittest_init(void)
{
    keel_completion* idle;
    if (keel_completion_create(&idle))
        return -KEEL_ENOMEM;
    uint64_t start = keel_monotonic_ns();
    int32_t zero = keel_completion_wait_timeout(idle, 0);
    uint64_t zero_ns = keel_monotonic_ns() - start;
    start = keel_monotonic_ns();
    int32_t timed_out = keel_completion_wait_timeout(idle, 20 * MS);
    uint64_t timed_out_ns = keel_monotonic_ns() - start;
    keel_completion_complete(idle);
    start = keel_monotonic_ns();
    int32_t already = keel_completion_wait_timeout(idle, 1000 * MS);
    uint64_t already_ns = keel_monotonic_ns() - start;
    keel_completion_destroy(idle);

    if (keel_completion_create(&g_done))
        return -KEEL_ENOMEM;
    keel_thread* thread = NULL;
    if (keel_thread_create("waittest", completer, NULL, &thread)) {
        keel_completion_destroy(g_done);
        return -KEEL_ENOMEM;
    }
    start = keel_monotonic_ns();
    int32_t woken = keel_completion_wait_timeout(g_done, 2000 * MS);
    uint64_t woken_ns = keel_monotonic_ns() - start;
    int32_t code = 0;
    (void)keel_thread_join(thread, &code);
    keel_completion_destroy(g_done);

    keel_logf(KEEL_LOG_INFO,
        "waittest: zero %d in %llu us, timeout %d in %llu us, done %d in %llu us, woken %d in %llu us", zero,
        (unsigned long long)(zero_ns / 1000), timed_out, (unsigned long long)(timed_out_ns / 1000), already,
        (unsigned long long)(already_ns / 1000), woken, (unsigned long long)(woken_ns / 1000));
    if (zero != -KEEL_ETIMEDOUT || timed_out != -KEEL_ETIMEDOUT || timed_out_ns < 20 * MS || already != 0
        || already_ns > 100 * MS || woken != 0 || woken_ns >= 1000 * MS)
        return -KEEL_EINVAL;
    return 0;
}

KEEL_MODULE_INIT(waittest_init);
