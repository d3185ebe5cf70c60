/*
 * Built against a version of inet's interface in which keel_inet_is_local
 * takes a uint64_t (tests/modules/skew_interface.py): it records that
 * declaration's hash, so the loader must refuse it against the real inet,
 * naming the symbol and both declarations (tests/boot/cases_net.py). Its
 * code never runs.
 */
#include <keel/inet.h>
#include <keel/keel.h>
#include <keel/module.h>

KEEL_MODULE_NAME("inetskew");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Imports keel_inet_is_local with a hash inet does not export");

static int inetskew_init(void) { return keel_inet_is_local(0x7f000001u) == 1 ? 0 : -KEEL_EINVAL; }

KEEL_MODULE_INIT(inetskew_init);
