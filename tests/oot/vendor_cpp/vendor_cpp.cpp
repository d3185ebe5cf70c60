// vendor_cpp: an out-of-tree module in C++, built with Meson from the
// installed SDK alone (meson.build: pkg-config keel-sdk, keel-build-module).
// A static object, the RAII layer over the C ABI, a kernel thread.
#include <keel/keel.hpp>
#include <keel/module.h>

KEEL_CXX_RUNTIME();

KEEL_MODULE_NAME("vendor_cpp");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("Example Vendor");
KEEL_MODULE_DESCRIPTION("An out-of-tree driver in C++");
KEEL_MODULE_VERSION("2.3");

namespace {

class Counter {
public:
    Counter() { m_value = 100; }
    ~Counter() { keel_log(KEEL_LOG_INFO, "vendor_cpp: static destructor ran"); }
    void add(int32_t amount)
    {
        keel::sdk::LockGuard guard(m_mutex);
        m_value += amount;
    }
    int32_t create() { return keel::sdk::Mutex::create(m_mutex); }
    int32_t value() const { return m_value; }

private:
    keel::sdk::Mutex m_mutex;
    int32_t m_value = 0;
};

Counter counter;

int32_t worker(void*)
{
    counter.add(23);
    return 0;
}

int vendor_cpp_init()
{
    if (int32_t error = counter.create())
        return error;
    keel_thread* thread = nullptr;
    if (int32_t error = keel_thread_create("vendor_cpp", worker, nullptr, &thread))
        return error;
    if (int32_t error = keel_thread_join(thread, nullptr))
        return error;
    keel_logf(KEEL_LOG_INFO, "vendor_cpp: counter is %d", counter.value());
    return counter.value() == 123 ? 0 : -22;
}

void vendor_cpp_exit() { keel_log(KEEL_LOG_INFO, "vendor_cpp: exit"); }

} // namespace

KEEL_MODULE_INIT(vendor_cpp_init);
KEEL_MODULE_EXIT(vendor_cpp_exit);
