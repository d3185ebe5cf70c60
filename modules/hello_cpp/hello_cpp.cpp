// hello_cpp: a C++ module. A static object's constructor runs from
// DT_INIT_ARRAY before keel_module_init, its destructor from DT_FINI_ARRAY
// after keel_module_exit; the RAII layer manages a mutex and a thread.
#include <keel/keel.hpp>
#include <keel/module.h>

KEEL_CXX_RUNTIME();

KEEL_MODULE_NAME("hello_cpp");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("Greets from a C++ thread, with static constructors");
KEEL_MODULE_VERSION("1.0");
KEEL_MODULE_PARAM(bool, fail, 0, "make init fail with -ENODEV (tests the rollback)");

namespace {

struct Registry {
    Registry() { constructed = 0x600d; }
    ~Registry() { keel_log(KEEL_LOG_INFO, "hello_cpp: static destructor ran"); }
    int constructed = 0;
};

Registry registry;
keel::sdk::Mutex mutex;
int greetings = 0;

int32_t greet(void*)
{
    keel::sdk::LockGuard guard(mutex);
    greetings++;
    return 7;
}

int hello_cpp_init()
{
    if (registry.constructed != 0x600d) {
        keel_log(KEEL_LOG_ERR, "hello_cpp: static constructor did not run");
        return -22;
    }
    if (keel_param_fail)
        return -19;
    if (int32_t error = keel::sdk::Mutex::create(mutex))
        return error;
    keel_thread* thread = nullptr;
    if (int32_t error = keel_thread_create("hello_cpp", greet, nullptr, &thread))
        return error;
    int32_t code = 0;
    if (int32_t error = keel_thread_join(thread, &code))
        return error;
    keel_logf(KEEL_LOG_INFO, "hello_cpp: constructor ran, thread said %d, %d greeting(s)", code, greetings);
    return code == 7 && greetings == 1 ? 0 : -22;
}

void hello_cpp_exit() { keel_log(KEEL_LOG_INFO, "hello_cpp: exit"); }

} // namespace

KEEL_MODULE_INIT(hello_cpp_init);
KEEL_MODULE_EXIT(hello_cpp_exit);
