// keel/keel.hpp: a header-only C++ layer over the C ABI (keel/keel.h):
// RAII handles that release what they own, so module code cannot leak a
// mutex or forget to join a thread on an error path.
//
// No exceptions and no C++ standard library: modules are freestanding.
// Factories return 0 or a negative errno and fill an out-parameter;
// constructors never fail (a default-constructed handle is empty).
//
//     keel::sdk::Mutex mutex;
//     if (int32_t error = keel::sdk::Mutex::create(mutex))
//         return error;
//     {
//         keel::sdk::LockGuard guard(mutex);
//         ...
//     }
//
// Everything lives in keel::sdk, apart from the kernel's own keel:: names.
#pragma once

#include <keel/keel.h>
#include <stddef.h>
#include <stdint.h>

#if __has_include(<new>)
#include <new>
#else
inline void* operator new(size_t, void* where) noexcept { return where; }
#endif

namespace keel::sdk {

template<typename T> struct RemoveReference {
    using Type = T;
};
template<typename T> struct RemoveReference<T&> {
    using Type = T;
};
template<typename T> constexpr T&& forward(typename RemoveReference<T>::Type& value) noexcept
{
    return static_cast<T&&>(value);
}

// ---------------------------------------------------------------- log

inline void log(keel_log_level level, const char* message) { keel_log(level, message); }
inline void log_err(const char* message) { keel_log(KEEL_LOG_ERR, message); }
inline void log_warn(const char* message) { keel_log(KEEL_LOG_WARNING, message); }
inline void log_info(const char* message) { keel_log(KEEL_LOG_INFO, message); }

// ---------------------------------------------------------------- memory

// Allocates and constructs a T on the kernel heap; nullptr when out of
// memory (the constructor then does not run).
template<typename T, typename... Args> T* make(Args&&... args)
{
    static_assert(alignof(T) <= KEEL_ALLOC_ALIGN, "keel_alloc aligns to KEEL_ALLOC_ALIGN only");
    void* memory = keel_alloc(sizeof(T));
    if (!memory)
        return nullptr;
    return ::new (memory) T(forward<Args>(args)...);
}

// Destroys and frees what make() returned; nullptr is ignored.
template<typename T> void destroy(T* object)
{
    if (!object)
        return;
    object->~T();
    keel_free(object);
}

// Owns one make() result.
template<typename T> class Own {
public:
    Own() = default;
    explicit Own(T* object)
        : m_object(object)
    {
    }
    ~Own() { destroy(m_object); }
    Own(Own&& other) noexcept
        : m_object(other.release())
    {
    }
    Own& operator=(Own&& other) noexcept
    {
        if (this != &other) {
            destroy(m_object);
            m_object = other.release();
        }
        return *this;
    }
    Own(const Own&) = delete;
    Own& operator=(const Own&) = delete;

    T* get() const { return m_object; }
    T* operator->() const { return m_object; }
    T& operator*() const { return *m_object; }
    explicit operator bool() const { return m_object != nullptr; }
    T* release()
    {
        T* object = m_object;
        m_object = nullptr;
        return object;
    }

private:
    T* m_object = nullptr;
};

// Move-only owner of a C handle, released with `Release`.
template<typename Handle, void (*Release)(Handle*)> class UniqueHandle {
public:
    UniqueHandle() = default;
    ~UniqueHandle() { reset(); }
    UniqueHandle(UniqueHandle&& other) noexcept
        : m_handle(other.m_handle)
    {
        other.m_handle = nullptr;
    }
    UniqueHandle& operator=(UniqueHandle&& other) noexcept
    {
        if (this != &other) {
            reset();
            m_handle = other.m_handle;
            other.m_handle = nullptr;
        }
        return *this;
    }
    UniqueHandle(const UniqueHandle&) = delete;
    UniqueHandle& operator=(const UniqueHandle&) = delete;

    Handle* handle() const { return m_handle; }
    explicit operator bool() const { return m_handle != nullptr; }
    void reset()
    {
        if (m_handle)
            Release(m_handle);
        m_handle = nullptr;
    }

protected:
    Handle* m_handle = nullptr;
};

// ---------------------------------------------------------------- sync

class Mutex : public UniqueHandle<keel_mutex, keel_mutex_destroy> {
public:
    static int32_t create(Mutex& out)
    {
        keel_mutex* handle = nullptr;
        if (int32_t error = keel_mutex_create(&handle))
            return error;
        out.reset();
        out.m_handle = handle;
        return 0;
    }
    void lock() { keel_mutex_lock(m_handle); }
    bool try_lock() { return keel_mutex_trylock(m_handle) == 0; }
    void unlock() { keel_mutex_unlock(m_handle); }
};

// Any lock with lock()/unlock(): held for the guard's scope.
template<typename Lock> class LockGuard {
public:
    explicit LockGuard(Lock& lock)
        : m_lock(lock)
    {
        m_lock.lock();
    }
    ~LockGuard() { m_lock.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    Lock& m_lock;
};

// A spinlock in the object itself (no allocation, cannot fail).
class SpinLock {
public:
    SpinLock() = default;
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;

    // Returns the interrupt state to hand to unlock().
    [[nodiscard]] uint64_t lock() { return keel_spin_lock(&m_lock); }
    void unlock(uint64_t irq_state) { keel_spin_unlock(&m_lock, irq_state); }
    keel_spinlock* raw() { return &m_lock; }

private:
    keel_spinlock m_lock {};
};

class SpinLockGuard {
public:
    explicit SpinLockGuard(SpinLock& lock)
        : m_lock(lock)
        , m_irq_state(lock.lock())
    {
    }
    ~SpinLockGuard() { m_lock.unlock(m_irq_state); }
    SpinLockGuard(const SpinLockGuard&) = delete;
    SpinLockGuard& operator=(const SpinLockGuard&) = delete;

private:
    SpinLock& m_lock;
    uint64_t m_irq_state;
};

class Completion : public UniqueHandle<keel_completion, keel_completion_destroy> {
public:
    static int32_t create(Completion& out)
    {
        keel_completion* handle = nullptr;
        if (int32_t error = keel_completion_create(&handle))
            return error;
        out.reset();
        out.m_handle = handle;
        return 0;
    }
    void wait() { keel_completion_wait(m_handle); }
    void complete() { keel_completion_complete(m_handle); }
};

// ---------------------------------------------------------------- threads

// A kernel thread, joined by join() or, at the latest, by the destructor:
// a module cannot unload with its thread still running its code.
class Thread {
public:
    Thread() = default;
    ~Thread() { join(); }
    Thread(Thread&& other) noexcept
        : m_thread(other.m_thread)
    {
        other.m_thread = nullptr;
    }
    Thread& operator=(Thread&& other) noexcept
    {
        if (this != &other) {
            join();
            m_thread = other.m_thread;
            other.m_thread = nullptr;
        }
        return *this;
    }
    Thread(const Thread&) = delete;
    Thread& operator=(const Thread&) = delete;

    static int32_t create(Thread& out, const char* name, keel_thread_fn entry, void* arg)
    {
        keel_thread* thread = nullptr;
        if (int32_t error = keel_thread_create(name, entry, arg, &thread))
            return error;
        out.join();
        out.m_thread = thread;
        return 0;
    }

    // Waits for the thread; returns its exit code (0 if there was none).
    int32_t join()
    {
        int32_t code = 0;
        if (m_thread)
            keel_thread_join(m_thread, &code);
        m_thread = nullptr;
        return code;
    }
    bool joinable() const { return m_thread != nullptr; }

private:
    keel_thread* m_thread = nullptr;
};

inline void yield() { keel_thread_yield(); }
inline void sleep_ns(uint64_t duration_ns) { keel_sleep_ns(duration_ns); }
inline uint64_t monotonic_ns() { return keel_monotonic_ns(); }

} // namespace keel::sdk

// The C++ runtime pieces a module needs when it uses `new`, `delete`, pure
// virtual functions or static objects with destructors: expand
// KEEL_CXX_RUNTIME() in exactly one file.
//
// Static destructors: built with -fno-use-cxa-atexit, the compiler
// registers them with atexit() as their constructors run (from
// DT_INIT_ARRAY). This atexit keeps them in the module, and a destructor
// function (in DT_FINI_ARRAY, run by the loader after keel_module_exit)
// calls them in reverse order.
// `new` cannot fail without exceptions, so it panics on exhaustion; use
// keel::sdk::make() where running out of memory must be handled.
#define KEEL_CXX_RUNTIME()                                                                                             \
    void* operator new(size_t size)                                                                                    \
    {                                                                                                                  \
        void* memory = keel_alloc(size);                                                                               \
        if (!memory)                                                                                                   \
            keel_panic("operator new: out of memory");                                                                 \
        return memory;                                                                                                 \
    }                                                                                                                  \
    void* operator new[](size_t size) { return operator new(size); }                                                   \
    void operator delete(void* pointer) noexcept { keel_free(pointer); }                                               \
    void operator delete[](void* pointer) noexcept { keel_free(pointer); }                                             \
    void operator delete(void* pointer, size_t) noexcept { keel_free(pointer); }                                       \
    void operator delete[](void* pointer, size_t) noexcept { keel_free(pointer); }                                     \
    extern "C" KEEL_CXX_RUNTIME_VISIBILITY_ void __cxa_pure_virtual() { keel_panic("pure virtual function called"); }  \
    namespace keel_cxx_runtime_ {                                                                                      \
    void (*exit_functions[64])(void);                                                                                  \
    unsigned exit_function_count;                                                                                      \
    }                                                                                                                  \
    extern "C" KEEL_CXX_RUNTIME_VISIBILITY_ int atexit(void (*function)(void))                                         \
    {                                                                                                                  \
        if (keel_cxx_runtime_::exit_function_count == 64)                                                              \
            return -1;                                                                                                 \
        keel_cxx_runtime_::exit_functions[keel_cxx_runtime_::exit_function_count++] = function;                        \
        return 0;                                                                                                      \
    }                                                                                                                  \
    __attribute__((destructor)) static void keel_cxx_run_exit_functions()                                              \
    {                                                                                                                  \
        while (keel_cxx_runtime_::exit_function_count > 0)                                                             \
            keel_cxx_runtime_::exit_functions[--keel_cxx_runtime_::exit_function_count]();                             \
    }                                                                                                                  \
    static_assert(true, "")

#define KEEL_CXX_RUNTIME_VISIBILITY_ __attribute__((visibility("hidden")))
