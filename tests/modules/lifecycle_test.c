/*
 * The loader's bookkeeping around a module's life, in one test driver for
 * QEMU's pvpanic-pci device (1b36:0011), which nothing else drives:
 *
 * - shipped as /lib/modules/lifecycle-test.kmod, a file name that is not
 *   its module name (as vendors' files often are): autoload must load the
 *   file it indexed;
 * - it needs consumer (which needs provider): fail=1 makes init fail, and
 *   the load must take both back out, not only consumer;
 * - careless=1 leaves its driver registered at exit: the loader unbinds it,
 *   and the remove that runs then must run before the module's destructors
 *   (DT_FINI_ARRAY), since it may use what they tear down;
 * - get=1 takes a reference on provider_add (keel_symbol_get), given back
 *   at exit;
 * - late=1 takes it in probe and gives it back as the last call of remove,
 *   which the core calls: a call compiled as a tail call would return to
 *   the core, and <keel/module.h> must keep it attributed to this module;
 *   probe also adds a module watch and remove removes it, both under the
 *   device model's lock.
 *
 * Built a second time as lifecycle_peer (LIFECYCLE_PEER: no driver, no
 * dependency), whose put=1 gives back a reference it never took: the
 * loader must not take it from another holder. core=1 takes and gives back
 * keel_log, a symbol of the core, which never unloads and counts none.
 */
#include <keel/device.h>
#include <keel/module.h>

#ifdef LIFECYCLE_PEER
#define LIFECYCLE_NAME "lifecycle_peer"
#else
#define LIFECYCLE_NAME "lifecycle_test"
#endif

KEEL_MODULE_NAME(LIFECYCLE_NAME);
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Tests the loader's bookkeeping over a module's life");
KEEL_MODULE_PARAM(bool, fail, 0, "fail init with -ENODEV after the dependencies loaded");
KEEL_MODULE_PARAM(bool, careless, 0, "leave the driver registered at exit");
KEEL_MODULE_PARAM(bool, get, 0, "take a reference on provider_add at init, given back at exit");
KEEL_MODULE_PARAM(bool, put, 0, "give back a reference on provider_add at init, taken or not");
KEEL_MODULE_PARAM(bool, late, 0, "take a reference on provider_add in probe, given back last in remove");
KEEL_MODULE_PARAM(bool, core, 0, "take and give back keel_log, a symbol of the core");

static int finalized;
static int have_reference;

/* Runs from DT_FINI_ARRAY, after exit and after the loader's sweep. */
__attribute__((destructor)) static void lifecycle_finalize(void) { finalized = 1; }

#ifndef LIFECYCLE_PEER
KEEL_DEVICE_TABLE(pci, lifecycle_ids, KEEL_PCI_DEVICE(0x1b36, 0x0011));

static int have_late_reference;
static keel_module_watch* late_watch;

static void late_saw_going(void* arg, const keel_module_going_info* going)
{
    (void)arg;
    keel_logf(KEEL_LOG_INFO, LIFECYCLE_NAME ": saw %s go", going->name);
}

static int lifecycle_probe(keel_device* device, const void* id)
{
    (void)id;
    if (keel_param_late) {
        int32_t status = keel_module_watch_add(late_saw_going, 0, &late_watch);
        if (status)
            return status;
        if (!keel_symbol_get("provider_add", "KABI_PROVIDER_1.0")) {
            keel_module_watch_remove(late_watch);
            late_watch = 0;
            return -KEEL_ENOENT;
        }
        have_late_reference = 1;
    }
    keel_logf(KEEL_LOG_INFO, LIFECYCLE_NAME ": %s: bound", keel_device_name(device));
    return 0;
}

static void lifecycle_remove(keel_device* device)
{
    if (finalized)
        keel_logf(
            KEEL_LOG_ERR, LIFECYCLE_NAME ": %s: remove ran after the module's destructors", keel_device_name(device));
    else
        keel_logf(KEEL_LOG_INFO, LIFECYCLE_NAME ": %s: removed", keel_device_name(device));
    keel_module_watch_remove(late_watch);
    late_watch = 0;
    if (have_late_reference) {
        have_late_reference = 0;
        keel_symbol_put("provider_add"); /* last: a tail call but for <keel/module.h> */
    }
}

static const keel_driver_ops lifecycle_driver = {
    .size = sizeof(keel_driver_ops),
    .version = KEEL_DRIVER_OPS_VERSION,
    .name = LIFECYCLE_NAME,
    .id_table = KEEL_DEVICE_TABLE_OF(lifecycle_ids),
    .probe = lifecycle_probe,
    .remove = lifecycle_remove,
};

static keel_driver* g_driver;
#endif

static int lifecycle_init(void)
{
    if (keel_param_get) {
        if (!keel_symbol_get("provider_add", "KABI_PROVIDER_1.0"))
            return -KEEL_ENOENT;
        have_reference = 1;
    }
    if (keel_param_put)
        keel_symbol_put("provider_add");
    if (keel_param_core) {
        void* log = keel_symbol_get("keel_log", "KABI_CORE_1.0");
        keel_symbol_put("keel_log");
        keel_logf(KEEL_LOG_INFO, LIFECYCLE_NAME ": keel_log from the core %s", log ? "found" : "missing");
    }
    if (keel_param_fail) {
        if (have_reference)
            keel_symbol_put("provider_add");
        return -KEEL_ENODEV;
    }
#ifndef LIFECYCLE_PEER
    return keel_driver_register(&lifecycle_driver, &g_driver);
#else
    return 0;
#endif
}

static void lifecycle_exit(void)
{
#ifndef LIFECYCLE_PEER
    if (!keel_param_careless)
        keel_driver_unregister(g_driver);
#endif
    if (have_reference)
        keel_symbol_put("provider_add");
}

KEEL_MODULE_INIT(lifecycle_init);
KEEL_MODULE_EXIT(lifecycle_exit);
