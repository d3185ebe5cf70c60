// hello_cpp: a C++ module. A static object's constructor runs from
// DT_INIT_ARRAY before keel_module_init, its destructor from DT_FINI_ARRAY
// after keel_module_exit; the SDK's layer (keel/keel.hpp) carries errors in
// Result<T>, keeps the greeting count inside its mutex and joins the thread.
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

using keel::sdk::Error;
using keel::sdk::Result;

struct Registry {
    Registry() { constructed = 0x600d; }
    ~Registry() { keel_log(KEEL_LOG_INFO, "hello_cpp: static destructor ran"); }
    int constructed = 0;
};

Registry registry;
// How many times the thread greeted; only reachable with the mutex held.
keel::sdk::Mutex<int> greetings;

// Greets once from a new thread; returns the thread's exit code.
Result<int32_t> greet_from_a_thread()
{
    greetings = TRY(keel::sdk::Mutex<int>::create(0));
    keel::sdk::Thread thread = TRY(keel::sdk::Thread::spawn("hello_cpp", [] {
        *greetings.lock() += 1;
        return 7;
    }));
    return thread.join();
}

Result<void> hello_cpp_start()
{
    if (registry.constructed != 0x600d) {
        keel_log(KEEL_LOG_ERR, "hello_cpp: static constructor did not run");
        return Error::EINVAL;
    }
    if (keel_param_fail)
        return Error::ENODEV;
    int32_t code = TRY(greet_from_a_thread());
    int count = *greetings.lock();
    keel_logf(KEEL_LOG_INFO, "hello_cpp: constructor ran, thread said %d, %d greeting(s)", code, count);
    if (code != 7 || count != 1)
        return Error::EINVAL;
    return {};
}

int hello_cpp_init() { return keel::sdk::return_code(hello_cpp_start()); }

void hello_cpp_exit() { keel_log(KEEL_LOG_INFO, "hello_cpp: exit"); }

} // namespace

KEEL_MODULE_INIT(hello_cpp_init);
KEEL_MODULE_EXIT(hello_cpp_exit);
