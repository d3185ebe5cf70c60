// A C++ test module: a static constructor (DT_INIT_ARRAY), a destructor
// function (DT_FINI_ARRAY), and an import from another module (test.kmod)
// next to the core's.
#include "keel_modinfo.h"

#define EXPORT __attribute__((visibility("default")))

KEEL_MODINFO("name=test_cpp");
KEEL_MODINFO("license=GPL");
KEEL_MODINFO("intree=Y");

extern "C" {
int keel_log(int level, const char* msg);
void* keel_alloc(unsigned long size);
extern int test_shared_counter;
}

namespace {

// Not constexpr-constructible, so the constructor runs from DT_INIT_ARRAY;
// trivially destructible, so no __cxa_atexit is needed.
struct Counter {
    Counter()
        : value(keel_alloc(16) ? 1 : 2)
    {
    }
    int value;
};

Counter counter;

__attribute__((destructor)) void say_goodbye() { keel_log(0, "test_cpp: fini"); }

} // namespace

extern "C" EXPORT int keel_module_init() { return counter.value + test_shared_counter; }
