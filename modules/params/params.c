/* params: typed module parameters (bool, int, uint, string). insmod checks
 * each value against its declared type before keel_module_init runs; init
 * reports what it received. */
#include <keel/module.h>

KEEL_MODULE_NAME("params");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Echoes its typed parameters");
KEEL_MODULE_VERSION("1.0");
KEEL_MODULE_PARAM(bool, enabled, 0, "a flag: y/n, 1/0, on/off, true/false");
KEEL_MODULE_PARAM(int, offset, -5, "a signed 64-bit integer");
KEEL_MODULE_PARAM(uint, count, 3, "an unsigned 64-bit integer (decimal or 0x...)");
KEEL_MODULE_PARAM_STRING(label, 24, "default", "a string of at most 23 bytes");

static int params_init(void)
{
    keel_logf(KEEL_LOG_INFO, "params: enabled=%d offset=%lld count=%llu label=%s", keel_param_enabled ? 1 : 0,
        (long long)keel_param_offset, (unsigned long long)keel_param_count, keel_param_label);
    return 0;
}

KEEL_MODULE_INIT(params_init);
