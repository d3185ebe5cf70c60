// vendor_cpp: an out-of-tree module in C++, built with Meson from the
// installed SDK alone (meson.build: pkg-config keel-sdk, keel-build-module).
// A static object, the SDK's C++ layer (Result and TRY, a mutex that owns
// its counter), a kernel thread.
#include <keel/keel.hpp>
#include <keel/module.h>

KEEL_CXX_RUNTIME();

KEEL_MODULE_NAME("vendor_cpp");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("Example Vendor");
KEEL_MODULE_DESCRIPTION("An out-of-tree driver in C++");
KEEL_MODULE_VERSION("2.3");

namespace {

using keel::sdk::Result;

class Counter {
public:
    ~Counter() { keel_log(KEEL_LOG_INFO, "vendor_cpp: static destructor ran"); }

    // The mutex is made once the kernel heap can be used (in init, not in
    // the static constructor, which cannot fail).
    Result<void> create()
    {
        m_value = TRY(keel::sdk::Mutex<int32_t>::create(100));
        return {};
    }
    void add(int32_t amount) { *m_value.lock() += amount; }
    int32_t value() { return *m_value.lock(); }

private:
    keel::sdk::Mutex<int32_t> m_value;
};

Counter counter;

Result<void> vendor_cpp_start()
{
    TRY(counter.create());
    keel::sdk::Thread worker = TRY(keel::sdk::Thread::spawn("vendor_cpp", [] {
        counter.add(23);
        return 0;
    }));
    worker.join();
    keel_logf(KEEL_LOG_INFO, "vendor_cpp: counter is %d", counter.value());
    if (counter.value() != 123)
        return keel::sdk::Error::EINVAL;
    return {};
}

int vendor_cpp_init() { return keel::sdk::return_code(vendor_cpp_start()); }

void vendor_cpp_exit() { keel_log(KEEL_LOG_INFO, "vendor_cpp: exit"); }

} // namespace

KEEL_MODULE_INIT(vendor_cpp_init);
KEEL_MODULE_EXIT(vendor_cpp_exit);
