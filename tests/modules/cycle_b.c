/* See cycle_a.c. Built twice: first alone (so cycle_a can link against
 * it), then against cycle_a, which closes the cycle. */
#include <keel/module.h>

KEEL_MODULE_NAME("cycle_b");
KEEL_MODULE_LICENSE("MIT");

KEEL_EXPORT int64_t cycle_b_value(void) { return 2; }
#ifdef CYCLE_CLOSED
int64_t cycle_a_value(void);
static int cycle_b_init(void) { return cycle_a_value() == 1 ? 0 : -KEEL_EINVAL; }
KEEL_MODULE_INIT(cycle_b_init);
#endif
