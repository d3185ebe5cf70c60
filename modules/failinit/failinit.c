/* failinit: keel_module_init fails after the module has done work the
 * loader must undo: C static data initialised, a symbol reference taken
 * on another module (keel_symbol_get). The load must leave nothing behind:
 * no registry entry, no mapping, no pages, no reference. */
#include <keel/module.h>

KEEL_MODULE_NAME("failinit");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Fails its init on purpose");
KEEL_MODULE_PARAM(int, error, -19, "the negative errno init returns (default -ENODEV)");

static int failinit_init(void)
{
    /* A reference on provider (if loaded): the loader drops it when the
     * load fails, as it would at rmmod. */
    void* add = keel_symbol_get("provider_add", "KABI_PROVIDER_1.0");
    keel_logf(KEEL_LOG_INFO, "failinit: provider_add %s; failing with %lld", add ? "referenced" : "not loaded",
        (long long)keel_param_error);
    return (int)keel_param_error;
}

KEEL_MODULE_INIT(failinit_init);
