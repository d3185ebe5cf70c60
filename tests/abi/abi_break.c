/* abi_break: one call whose declaration a test-only description changed
 * (tests/abi/descriptions.py). Built against the altered SDK it records the
 * altered hash, and the core must refuse it. */
#include <keel/module.h>

KEEL_MODULE_NAME("abi_break");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Built against a deliberately broken SDK");

static keel_spinlock lock;

static int abi_break_init(void)
{
#if defined(ABI_BREAK_SLEEP)
    keel_sleep_ns(1000);
#elif defined(ABI_BREAK_SPINLOCK)
    keel_spin_unlock(&lock, keel_spin_lock(&lock));
#elif defined(ABI_FUTURE_CALL)
    keel_logf(KEEL_LOG_INFO, "abi_break: %llu", (unsigned long long)keel_future_call(1));
#elif defined(ABI_FUTURE_NODE)
    keel_logf(KEEL_LOG_INFO, "abi_break: %llu", (unsigned long long)keel_monotonic_ns());
#endif
    (void)lock;
    return 0;
}

KEEL_MODULE_INIT(abi_break_init);
