// keel/keel.hpp: a header-only C++ layer over the C ABI (keel/keel.h), in
// the kernel's own style: a fallible call returns a Result<T> holding a
// value or an Error, and TRY propagates the error; constructors never fail,
// factories (static create()) do; a lock owns the data it guards, so the
// data cannot be reached without holding it; handles release what they own.
//
//     keel::sdk::Mutex<int> greetings; // empty until created
//
//     keel::sdk::Result<int32_t> greet()
//     {
//         greetings = TRY(keel::sdk::Mutex<int>::create(0));
//         keel::sdk::Thread thread = TRY(keel::sdk::Thread::spawn("greeter", [] {
//             *greetings.lock() += 1;
//             return 7;
//         }));
//         return thread.join();
//     }
//
//     static int hello_init(void) { return keel::sdk::return_code(greet()); }
//
// No exceptions and no C++ standard library: modules are freestanding.
// Everything lives in keel::sdk; TRY is also spelled KEEL_TRY.
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
template<typename T> constexpr typename RemoveReference<T>::Type&& move(T&& value) noexcept
{
    return static_cast<typename RemoveReference<T>::Type&&>(value);
}

// ---------------------------------------------------------------- errors

// The errno vocabulary of the ABI description (keel.h's KEEL_ERRNO_TABLE):
// Error::EINVAL is KEEL_EINVAL. The C library's <errno.h> defines the same
// names as macros, which would replace them: modules are freestanding and
// do not include it.
#if defined(EINVAL) || defined(ENOMEM)
#error "keel/keel.hpp: the C library's errno macros (EINVAL, ...) would replace keel::sdk::Error's names"
#endif
enum class Error : int32_t {
#define KEEL_SDK_ERROR_(name, number, description) name = (number),
    KEEL_ERRNO_TABLE(KEEL_SDK_ERROR_)
#undef KEEL_SDK_ERROR_
};

// "EINVAL"; "E?" for a number the table does not name.
constexpr const char* error_name(Error error)
{
    switch (error) {
#define KEEL_SDK_ERROR_(name, number, description)                                                                     \
    case Error::name: return #name;
        KEEL_ERRNO_TABLE(KEEL_SDK_ERROR_)
#undef KEEL_SDK_ERROR_
    }
    return "E?";
}

// "Invalid argument"; "Unknown error" for a number the table does not name.
constexpr const char* error_description(Error error)
{
    switch (error) {
#define KEEL_SDK_ERROR_(name, number, description)                                                                     \
    case Error::name: return description;
        KEEL_ERRNO_TABLE(KEEL_SDK_ERROR_)
#undef KEEL_SDK_ERROR_
    }
    return "Unknown error";
}

// The C ABI's convention: a negative errno.
constexpr int32_t return_code(Error error) { return -static_cast<int32_t>(error); }

// An error from a C ABI return code. Only -4095..-1 (Linux's MAX_ERRNO)
// are errnos; anything else is a broken promise and becomes EINVAL, so an
// Error always holds a valid errno number.
constexpr Error error_from_return_code(int32_t code)
{
    return code < 0 && code >= -4095 ? static_cast<Error>(-code) : Error::EINVAL;
}

// Wraps an Error so that `return Err(Error::EINVAL);` reads clearly and a
// Result<Error> cannot be ambiguous.
struct Err {
    constexpr explicit Err(Error error)
        : error(error)
    {
    }
    Error error;
};

// A value or an Error, as the kernel's Result<T>. value() of an error
// panics: check is_error() (or use TRY) first.
template<typename T> class [[nodiscard]] Result {
public:
    Result(const T& value)
        : m_ok(true)
    {
        ::new (&m_value) T(value);
    }
    Result(T&& value)
        : m_ok(true)
    {
        ::new (&m_value) T(move(value));
    }
    Result(Err err)
        : m_error(err.error)
        , m_ok(false)
    {
    }
    Result(Error error)
        : m_error(error)
        , m_ok(false)
    {
    }
    Result(Result&& other)
        : m_ok(other.m_ok)
    {
        if (m_ok)
            ::new (&m_value) T(move(other.m_value));
        else
            m_error = other.m_error;
    }
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
    Result& operator=(Result&&) = delete;
    ~Result()
    {
        if (m_ok)
            m_value.~T();
    }

    bool is_ok() const { return m_ok; }
    bool is_error() const { return !m_ok; }
    explicit operator bool() const { return m_ok; }
    // The error; EINVAL for a value (there is none: check is_error() first).
    Error error() const { return m_ok ? Error::EINVAL : m_error; }

    T& value() &
    {
        check_ok();
        return m_value;
    }
    const T& value() const&
    {
        check_ok();
        return m_value;
    }
    T&& value() &&
    {
        check_ok();
        return move(m_value);
    }
    T release_value()
    {
        check_ok();
        return move(m_value);
    }
    T value_or(T fallback) const { return m_ok ? m_value : fallback; }

private:
    void check_ok() const
    {
        if (!m_ok)
            keel_panic("keel::sdk::Result: value() of an error");
    }

    union {
        T m_value;
        Error m_error;
    };
    bool m_ok;
};

template<> class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Err err)
        : m_error(err.error)
    {
    }
    Result(Error error)
        : m_error(error)
    {
    }

    bool is_ok() const { return m_error == Error(0); }
    bool is_error() const { return !is_ok(); }
    explicit operator bool() const { return is_ok(); }
    Error error() const { return m_error; }
    void release_value() { }

private:
    Error m_error = Error(0);
};

// The C ABI's "0 or a negative errno" as a Result.
inline Result<void> check(int32_t code)
{
    if (code == 0)
        return {};
    return Err(error_from_return_code(code));
}

// A Result as the C ABI's return code: 0, or the error's negative errno
// (what keel_module_init returns).
template<typename T> int32_t return_code(const Result<T>& result)
{
    return result.is_ok() ? 0 : return_code(result.error());
}

} // namespace keel::sdk

// Evaluates a Result: on error, returns the error from the enclosing
// function (which returns a Result); otherwise the expression's value is the
// contained value. (__extension__: statement expressions are a GNU C++
// extension that Clang and GCC share; it keeps -pedantic quiet.)
#define KEEL_TRY(expr)                                                                                                 \
    __extension__({                                                                                                    \
        auto _keel_try_result = (expr);                                                                                \
        if (_keel_try_result.is_error())                                                                               \
            return ::keel::sdk::Err(_keel_try_result.error());                                                         \
        _keel_try_result.release_value();                                                                              \
    })
#ifndef TRY
#define TRY(expr) KEEL_TRY(expr)
#endif

namespace keel::sdk {

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
    // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): a false positive after TRY (.clang-tidy)
    ~Own() { destroy(m_object); }
    Own(Own&& other) noexcept
        : m_object(other.release())
    {
    }
    // An Own<Derived> becomes an Own<Base>.
    template<typename U>
    Own(Own<U>&& other) noexcept
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

// make() as a factory: the owned object, or ENOMEM.
template<typename T, typename... Args> Result<Own<T>> try_make(Args&&... args)
{
    T* object = make<T>(forward<Args>(args)...);
    if (!object)
        return Err(Error::ENOMEM);
    return Own<T>(object);
}

// Move-only owner of a C handle, released with `Release`.
template<typename Handle, void (*Release)(Handle*)> class UniqueHandle {
public:
    UniqueHandle() = default;
    explicit UniqueHandle(Handle* handle)
        : m_handle(handle)
    {
    }
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
        // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Branch): a false positive after TRY (.clang-tidy)
        if (m_handle)
            Release(m_handle);
        m_handle = nullptr;
    }

protected:
    Handle* m_handle = nullptr;
};

// ---------------------------------------------------------------- sync

// A keel_mutex and nothing else; Mutex<T> below is what module code uses.
class RawMutex : public UniqueHandle<keel_mutex, keel_mutex_destroy> {
public:
    RawMutex() = default;
    static Result<RawMutex> create()
    {
        keel_mutex* handle = nullptr;
        TRY(check(keel_mutex_create(&handle)));
        return RawMutex(handle);
    }
    void lock() { keel_mutex_lock(m_handle); }
    bool try_lock() { return keel_mutex_trylock(m_handle) == 0; }
    void unlock() { keel_mutex_unlock(m_handle); }

private:
    explicit RawMutex(keel_mutex* handle)
        : UniqueHandle(handle)
    {
    }
};

template<typename T> class Mutex;

// The lock held on a Mutex<T>, and the only way to reach its data. Unlocks
// when it goes out of scope.
template<typename T> class [[nodiscard]] MutexGuard {
public:
    MutexGuard(MutexGuard&& other) noexcept
        : m_mutex(other.m_mutex)
    {
        other.m_mutex = nullptr;
    }
    MutexGuard(const MutexGuard&) = delete;
    MutexGuard& operator=(const MutexGuard&) = delete;
    MutexGuard& operator=(MutexGuard&&) = delete;
    ~MutexGuard()
    {
        if (m_mutex)
            m_mutex->m_raw.unlock();
    }

    T& operator*() const { return m_mutex->m_value; }
    T* operator->() const { return &m_mutex->m_value; }

private:
    friend class Mutex<T>;
    explicit MutexGuard(Mutex<T>& mutex)
        : m_mutex(&mutex)
    {
    }

    Mutex<T>* m_mutex;
};

// A sleeping mutex that owns the T it guards: lock() returns the guard
// through which the T is reached. Creating the keel_mutex allocates, so it
// is a factory; a default-constructed Mutex is empty until one is assigned.
// Not for interrupt handlers (use SpinLock<T>).
template<typename T> class Mutex {
public:
    Mutex() = default;
    Mutex(Mutex&&) = default;
    Mutex& operator=(Mutex&&) = default;
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;

    // A mutex guarding a T made from `args`.
    template<typename... Args> static Result<Mutex> create(Args&&... args)
    {
        RawMutex raw = TRY(RawMutex::create());
        return Mutex(move(raw), forward<Args>(args)...);
    }

    MutexGuard<T> lock()
    {
        m_raw.lock();
        return MutexGuard<T>(*this);
    }
    // The guard, or EBUSY while another thread holds the mutex.
    Result<MutexGuard<T>> try_lock()
    {
        if (!m_raw.try_lock())
            return Err(Error::EBUSY);
        return MutexGuard<T>(*this);
    }
    explicit operator bool() const { return static_cast<bool>(m_raw); }

private:
    friend class MutexGuard<T>;
    template<typename... Args>
    explicit Mutex(RawMutex&& raw, Args&&... args)
        : m_raw(move(raw))
        , m_value(forward<Args>(args)...)
    {
    }

    RawMutex m_raw;
    T m_value {};
};

// A keel_spinlock in the object itself (no allocation, cannot fail).
class RawSpinLock {
public:
    constexpr RawSpinLock() = default;
    RawSpinLock(const RawSpinLock&) = delete;
    RawSpinLock& operator=(const RawSpinLock&) = delete;

    // Returns the interrupt state to hand to unlock().
    [[nodiscard]] uint64_t lock() { return keel_spin_lock(&m_lock); }
    void unlock(uint64_t irq_state) { keel_spin_unlock(&m_lock, irq_state); }
    keel_spinlock* raw() { return &m_lock; }

private:
    keel_spinlock m_lock {};
};

template<typename T> class SpinLock;

// The lock held on a SpinLock<T> (interrupts off), and the only way to
// reach its data.
template<typename T> class [[nodiscard]] SpinLockGuard {
public:
    SpinLockGuard(const SpinLockGuard&) = delete;
    SpinLockGuard& operator=(const SpinLockGuard&) = delete;
    ~SpinLockGuard() { m_lock.m_raw.unlock(m_irq_state); }

    T& operator*() const { return m_lock.m_value; }
    T* operator->() const { return &m_lock.m_value; }

private:
    friend class SpinLock<T>;
    explicit SpinLockGuard(SpinLock<T>& lock)
        : m_lock(lock)
        , m_irq_state(lock.m_raw.lock())
    {
    }

    SpinLock<T>& m_lock;
    uint64_t m_irq_state;
};

// An interrupt-safe spinlock that owns the T it guards. Construction
// cannot fail, so it suits static objects. Never sleep while holding it.
template<typename T> class SpinLock {
public:
    template<typename... Args>
    constexpr explicit SpinLock(Args&&... args)
        : m_value(forward<Args>(args)...)
    {
    }
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;

    SpinLockGuard<T> lock() { return SpinLockGuard<T>(*this); }

private:
    friend class SpinLockGuard<T>;
    RawSpinLock m_raw;
    T m_value;
};

// A one-shot event (keel_completion): wait() sleeps until complete().
class Completion : public UniqueHandle<keel_completion, keel_completion_destroy> {
public:
    Completion() = default;
    static Result<Completion> create()
    {
        keel_completion* handle = nullptr;
        TRY(check(keel_completion_create(&handle)));
        return Completion(handle);
    }
    void wait() { keel_completion_wait(m_handle); }
    void complete() { keel_completion_complete(m_handle); }

private:
    explicit Completion(keel_completion* handle)
        : UniqueHandle(handle)
    {
    }
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

    // Starts entry(arg) on a new thread.
    static Result<Thread> create(const char* name, keel_thread_fn entry, void* arg)
    {
        keel_thread* thread = nullptr;
        TRY(check(keel_thread_create(name, entry, arg, &thread)));
        return Thread(thread);
    }

    // Starts `function` (callable as int32_t(), moved to the heap) on a new
    // thread; its result is the thread's exit code.
    template<typename Function> static Result<Thread> spawn(const char* name, Function function)
    {
        struct Closure {
            Function function;
            static int32_t run(void* closure)
            {
                Own<Closure> owned(static_cast<Closure*>(closure));
                return owned->function();
            }
        };
        Own<Closure> closure = TRY(try_make<Closure>(Closure { move(function) }));
        Thread thread = TRY(create(name, &Closure::run, closure.get()));
        closure.release(); // the thread owns it now
        return thread;
    }

    // Waits for the thread; returns its exit code (0 if there was none).
    int32_t join()
    {
        int32_t code = 0;
        // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Branch): a false positive after TRY (.clang-tidy)
        if (m_thread)
            keel_thread_join(m_thread, &code);
        m_thread = nullptr;
        return code;
    }
    bool joinable() const { return m_thread != nullptr; }

private:
    explicit Thread(keel_thread* thread)
        : m_thread(thread)
    {
    }

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
// keel::sdk::try_make() where running out of memory must be handled.
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
