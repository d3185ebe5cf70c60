/* A C test module: modinfo notes, parameters, an exported entry point, a
 * function pointer table (R_X86_64_64 and RELATIVE relocations), imported
 * functions (JUMP_SLOT) and imported data through the GOT (GLOB_DAT). */
#include "keel_modinfo.h"

#define EXPORT __attribute__((visibility("default")))

KEEL_MODINFO("modinfo_version=1");
KEEL_MODINFO("name=test");
KEEL_MODINFO("license=MIT");
KEEL_MODINFO("author=Keel developers");
KEEL_MODINFO("description=ELF loader test module");
KEEL_MODINFO("parm=verbose:bool:Log more");
KEEL_MODINFO("parm=level:int:Starting level");

extern int keel_log(int level, const char* msg);
extern void* keel_alloc(unsigned long size);
extern int keel_debug_level;

EXPORT unsigned char keel_param_verbose = 1;
EXPORT long keel_param_level = 3;
EXPORT int test_shared_counter;

static int helper(int x) { return x + 1; }

/* Written by relocations: const tables land in RELRO, the others in .data.
 * test_callbacks is exported so the compiler cannot fold it away, which
 * keeps its R_X86_64_RELATIVE relocation. */
int (*const test_imports[])(int, const char*) = { keel_log };
EXPORT int (*test_callbacks[])(int) = { helper };
void* (*test_alloc)(unsigned long) = keel_alloc;

EXPORT int keel_module_init(void)
{
    keel_log(keel_debug_level, "test: init");
    if (keel_param_verbose)
        keel_log(1, "verbose");
    return test_callbacks[0](-1) + (test_imports[0] == 0) + (test_alloc == 0);
}

EXPORT void keel_module_exit(void) { keel_log(0, "test: exit"); }
