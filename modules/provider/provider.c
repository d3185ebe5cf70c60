/* provider: exports a versioned symbol other modules link against. */
#include <keel/module.h>

KEEL_MODULE_NAME("provider");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Exports provider_add@KABI_PROVIDER_1.0 to other modules");
KEEL_MODULE_VERSION("1.0");

static int64_t calls;

KEEL_EXPORT int64_t provider_add(int64_t a, int64_t b)
{
    calls++;
    return a + b;
}

static int provider_init(void) { return 0; }
static void provider_exit(void) { keel_logf(KEEL_LOG_INFO, "provider: %lld call(s)", (long long)calls); }

KEEL_MODULE_INIT(provider_init);
KEEL_MODULE_EXIT(provider_exit);
