/* crashy: faults on purpose (crash=1), so the tests can check that a fault
 * inside module code is reported as module+offset with the module symbol. */
#include <keel/module.h>

KEEL_MODULE_NAME("crashy");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Dereferences NULL in crashy_fault when crash=1");
KEEL_MODULE_PARAM(bool, crash, 0, "fault during init");

/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): with crash=1 it faults here, on purpose */
KEEL_EXPORT __attribute__((noinline)) int crashy_fault(volatile int* pointer) { return *pointer; }

static int crashy_init(void) { return keel_param_crash ? crashy_fault(0) : 0; }

KEEL_MODULE_INIT(crashy_init);
