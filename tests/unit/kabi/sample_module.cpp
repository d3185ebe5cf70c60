// A C++ module using the header-only layer (keel/keel.hpp): compiles as
// C++20 -pedantic, freestanding, without exceptions or RTTI.
#include <keel/keel.hpp>
#include <keel/module.h>

KEEL_MODULE_NAME("sample_cpp");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_PARAM(int, count, 2, "a number");

KEEL_CXX_RUNTIME();

namespace {

struct Shape {
    virtual ~Shape() = default;
    virtual int sides() const = 0;
};

struct Square final : Shape {
    int sides() const override { return 4; }
};

// A static constructor: runs from DT_INIT_ARRAY before keel_module_init.
struct Greeter {
    Greeter() { keel::sdk::log_info("static constructor\n"); }
};
Greeter greeter;

keel::sdk::SpinLock g_lock;

int32_t thread_main(void* arg) { return *static_cast<int*>(arg); }

int sample_init()
{
    keel::sdk::Mutex mutex;
    if (int32_t error = keel::sdk::Mutex::create(mutex))
        return error;
    {
        keel::sdk::LockGuard guard(mutex);
        keel::sdk::SpinLockGuard spin(g_lock);
    }
    keel::sdk::Own<Shape> shape(keel::sdk::make<Square>());
    if (!shape)
        return -12;
    Shape* heap_shape = new Square;
    int sides = shape->sides() + heap_shape->sides();
    delete heap_shape;

    int value = 7;
    keel::sdk::Thread thread;
    if (int32_t error = keel::sdk::Thread::create(thread, "sample_cpp", thread_main, &value))
        return error;
    int32_t code = thread.join();
    keel_logf(
        KEEL_LOG_INFO, "sides %d, thread %d, count %lld\n", sides, code, static_cast<long long>(keel_param_count));
    return 0;
}

} // namespace

KEEL_MODULE_INIT(sample_init);
