/* consumer: needs provider (DT_NEEDED), so insmod loads provider first. */
#include <keel/module.h>

KEEL_MODULE_NAME("consumer");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Calls provider_add from the provider module");
KEEL_MODULE_VERSION("1.0");
KEEL_MODULE_PARAM(bool, fail, 0, "fail init with -ENODEV (tests that provider is unloaded again)");

int64_t provider_add(int64_t a, int64_t b);

static int consumer_init(void)
{
    int64_t sum = provider_add(40, 2);
    keel_logf(KEEL_LOG_INFO, "consumer: provider_add(40, 2) = %lld", (long long)sum);
    if (keel_param_fail)
        return -KEEL_ENODEV;
    return sum == 42 ? 0 : -KEEL_EINVAL;
}

KEEL_MODULE_INIT(consumer_init);
