// A C++ test module: a static constructor (DT_INIT_ARRAY), a destructor
// function (DT_FINI_ARRAY), and an import from another module (test.kmod)
// next to the core's.
#include "keel_modinfo.h"

#define EXPORT __attribute__((visibility("default")))

KEEL_MODINFO("name=test_cpp");
KEEL_MODINFO("license=GPL");
KEEL_MODINFO("intree=Y");
// More entries than ModuleImage keeps at hand: modinfo(key) walks the notes.
KEEL_MODINFO("extra_1=value 1");
KEEL_MODINFO("extra_2=value 2");
KEEL_MODINFO("extra_3=value 3");
KEEL_MODINFO("extra_4=value 4");
KEEL_MODINFO("extra_5=value 5");
KEEL_MODINFO("extra_6=value 6");
KEEL_MODINFO("extra_7=value 7");
KEEL_MODINFO("extra_8=value 8");
KEEL_MODINFO("extra_9=value 9");
KEEL_MODINFO("extra_10=value 10");
KEEL_MODINFO("extra_11=value 11");
KEEL_MODINFO("extra_12=value 12");
KEEL_MODINFO("extra_13=value 13");
KEEL_MODINFO("extra_14=value 14");
KEEL_MODINFO("extra_15=value 15");
KEEL_MODINFO("extra_16=value 16");
KEEL_MODINFO("extra_17=value 17");
KEEL_MODINFO("extra_18=value 18");
KEEL_MODINFO("extra_19=value 19");
KEEL_MODINFO("extra_20=value 20");
KEEL_MODINFO("extra_21=value 21");
KEEL_MODINFO("extra_22=value 22");
KEEL_MODINFO("extra_23=value 23");
KEEL_MODINFO("extra_24=value 24");
KEEL_MODINFO("extra_25=value 25");
KEEL_MODINFO("extra_26=value 26");

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
