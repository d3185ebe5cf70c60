/* crashy: faults on purpose (crash=1), so the tests can check that a fault
 * inside module code is reported as module+offset with the module symbol;
 * with write=1 or write=2 it stores into its own code or read-only data,
 * which the loader's W^X must have made fault. */
#include <keel/module.h>

KEEL_MODULE_NAME("crashy");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Dereferences NULL in crashy_fault when crash=1");
KEEL_MODULE_PARAM(bool, crash, 0, "fault during init");
KEEL_MODULE_PARAM(int, write, 0, "store during init into its own code (1) or read-only data (2)");

static const int crashy_constant = 1;

/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): with crash=1 it faults here, on purpose */
KEEL_EXPORT __attribute__((noinline)) int crashy_fault(volatile int* pointer) { return *pointer; }

KEEL_EXPORT __attribute__((noinline)) void crashy_write(volatile int* pointer) { *pointer = 0; }

static int crashy_init(void)
{
    if (keel_param_write == 1)
        crashy_write((volatile int*)(uintptr_t)&crashy_fault);
    if (keel_param_write == 2)
        crashy_write((volatile int*)(uintptr_t)&crashy_constant);
    return keel_param_crash ? crashy_fault(0) : 0;
}

KEEL_MODULE_INIT(crashy_init);
