// Result<T>: a value or an errno-style Error. No exceptions in the kernel;
// fallible functions return a Result and callers propagate with TRY.
//
//     Result<Page*> alloc_page();
//     Result<void> map(...) { Page* page = TRY(alloc_page()); ... return {}; }
#pragma once

#include "lib/base/errno.h"
#include "lib/base/new.h"
#include "lib/base/utility.h"

namespace keel {

// Wraps an Error so that Result<Error>-like ambiguities cannot arise and
// `return Err(Error::EINVAL);` reads clearly.
struct Err {
    constexpr explicit Err(Error error)
        : error(error)
    {
    }
    Error error;
};

template<typename T> class [[nodiscard]] Result {
public:
    Result(const T& value)
        : m_ok(true)
    {
        new (&m_value) T(value);
    }
    Result(T&& value)
        : m_ok(true)
    {
        new (&m_value) T(move(value));
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
            new (&m_value) T(move(other.m_value));
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

    Error error() const { return m_error; }

    T& value() & { return m_value; }
    const T& value() const& { return m_value; }
    T&& value() && { return move(m_value); }
    T release_value() { return move(m_value); }

    T value_or(T fallback) const { return m_ok ? m_value : fallback; }

private:
    union {
        T m_value;
        Error m_error;
    };
    bool m_ok;
};

template<> class [[nodiscard]] Result<void> {
public:
    Result()
        : m_error(Error(0))
    {
    }
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
    Error m_error;
};

} // namespace keel

// Evaluate a Result; on error return it from the enclosing function,
// otherwise the expression's value is the contained value.
#define TRY(expr)                                                                                                      \
    ({                                                                                                                 \
        auto _keel_try_result = (expr);                                                                                \
        if (_keel_try_result.is_error())                                                                               \
            return ::keel::Err(_keel_try_result.error());                                                              \
        _keel_try_result.release_value();                                                                              \
    })
