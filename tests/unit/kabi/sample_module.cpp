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

keel::sdk::SpinLock<int> g_spun;

int32_t thread_main(void* arg) { return *static_cast<int*>(arg); }

keel::sdk::Result<int> count_sides()
{
    auto mutex = TRY(keel::sdk::Mutex<int>::create(0));
    {
        auto guard = mutex.lock();
        *g_spun.lock() += 1;
        *guard = 4;
    }
    keel::sdk::Own<Shape> shape = TRY(keel::sdk::try_make<Square>());
    Shape* heap_shape = new Square;
    int sides = shape->sides() + heap_shape->sides();
    delete heap_shape;
    return sides + *mutex.lock() - 4;
}

int sample_init()
{
    auto sides = count_sides();
    if (sides.is_error())
        return keel::sdk::return_code(sides.error());
    int value = 7;
    auto thread = keel::sdk::Thread::create("sample_cpp", thread_main, &value);
    if (thread.is_error())
        return keel::sdk::return_code(thread.error());
    int32_t code = thread.value().join();
    keel_logf(KEEL_LOG_INFO, "sides %d, thread %d, count %lld\n", sides.value(), code,
        static_cast<long long>(keel_param_count));
    return 0;
}

} // namespace

KEEL_MODULE_INIT(sample_init);
