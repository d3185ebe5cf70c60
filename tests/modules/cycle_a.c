/* cycle_a and cycle_b need each other: the loader must refuse the cycle. */
#include <keel/module.h>

KEEL_MODULE_NAME("cycle_a");
KEEL_MODULE_LICENSE("MIT");

KEEL_EXPORT int64_t cycle_a_value(void) { return 1; }
int64_t cycle_b_value(void);

static int cycle_a_init(void) { return cycle_b_value() == 2 ? 0 : -KEEL_EINVAL; }
KEEL_MODULE_INIT(cycle_a_init);
