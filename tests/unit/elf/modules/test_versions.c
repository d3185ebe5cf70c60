/* A module exporting one name at two version nodes, as a module does once a
 * changed function became a new node and the old one stays for the modules
 * built against it: test_twice@TESTVER_1.0 and test_twice@@TESTVER_1.1 (the
 * default). */
#include "keel_modinfo.h"

KEEL_MODINFO("name=test_versions");
KEEL_MODINFO("license=MIT");

__attribute__((visibility("default"))) int test_twice_1_0(int x) { return x + 1; }
__attribute__((visibility("default"))) int test_twice_1_1(int x) { return x + 2; }
__asm__(".symver test_twice_1_0, test_twice@TESTVER_1.0");
__asm__(".symver test_twice_1_1, test_twice@@TESTVER_1.1");
