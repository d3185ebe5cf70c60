// Ownership as a type.
//
//   OwnPtr<T, Deleter>   the one owner of an object; move-only; the object
//                        goes with it (or is handed on with leak()).
//   RefPtr<T, Deleter>   one of several owners of an object that counts its
//                        references (it derives from RefCounted<T>); the
//                        last RefPtr to go destroys it.
//
// Deleter says how an object goes (the kernel heap's, mm/heap.h, gives
// Own<T> and Ref<T>); the types themselves allocate nothing, so they build
// and are tested on the host too.
#pragma once

#include <stdint.h>

#include "lib/base/assert.h"
#include "lib/base/utility.h"

namespace keel {

template<typename T, typename Deleter> class OwnPtr {
public:
    OwnPtr() = default;
    // Adopts `object`: this is now its owner.
    explicit OwnPtr(T* object)
        : m_object(object)
    {
    }
    OwnPtr(OwnPtr&& other)
        : m_object(other.leak())
    {
    }
    // From an owner of a derived type.
    template<typename U>
    OwnPtr(OwnPtr<U, Deleter>&& other)
        : m_object(other.leak())
    {
    }
    OwnPtr& operator=(OwnPtr&& other)
    {
        if (this != &other)
            reset(other.leak());
        return *this;
    }
    OwnPtr(const OwnPtr&) = delete;
    OwnPtr& operator=(const OwnPtr&) = delete;
    ~OwnPtr() { reset(); }

    T* get() const { return m_object; }
    T* operator->() const
    {
        VERIFY(m_object);
        return m_object;
    }
    T& operator*() const
    {
        VERIFY(m_object);
        return *m_object;
    }
    explicit operator bool() const { return m_object != nullptr; }

    // Hands the object on: whoever receives the pointer now owns it (an
    // intrusive list, a C handle given to a module).
    [[nodiscard]] T* leak() { return exchange(m_object, nullptr); }
    void reset(T* object = nullptr)
    {
        T* old = exchange(m_object, object);
        if (old)
            Deleter()(old);
    }

private:
    T* m_object = nullptr;
};

// A base for objects owned through RefPtr: `class Inode : public
// RefCounted<Inode> { ... }`. Counts atomically, so references may be
// taken and dropped on any CPU.
template<typename T> class RefCounted {
public:
    void ref() const
    {
        uint32_t old = __atomic_fetch_add(&m_refs, 1, __ATOMIC_RELAXED);
        VERIFY(old > 0 && old < UINT32_MAX);
    }
    // True when that was the last reference.
    [[nodiscard]] bool unref() const
    {
        uint32_t old = __atomic_fetch_sub(&m_refs, 1, __ATOMIC_ACQ_REL);
        VERIFY(old > 0);
        return old == 1;
    }
    uint32_t ref_count() const { return __atomic_load_n(&m_refs, __ATOMIC_RELAXED); }

protected:
    RefCounted() = default;
    ~RefCounted() = default;

private:
    mutable uint32_t m_refs = 1; // the creator's
};

template<typename T, typename Deleter> class RefPtr {
public:
    RefPtr() = default;
    // Adopts the creator's reference of a new object (count 1).
    static RefPtr adopt(T* object)
    {
        RefPtr pointer;
        pointer.m_object = object;
        return pointer;
    }
    // Takes one more reference.
    explicit RefPtr(T* object)
        : m_object(object)
    {
        if (m_object)
            m_object->ref();
    }
    RefPtr(const RefPtr& other)
        : RefPtr(other.m_object)
    {
    }
    RefPtr(RefPtr&& other)
        : m_object(exchange(other.m_object, nullptr))
    {
    }
    RefPtr& operator=(const RefPtr& other)
    {
        RefPtr copy(other);
        swap(m_object, copy.m_object);
        return *this;
    }
    RefPtr& operator=(RefPtr&& other)
    {
        RefPtr taken(move(other));
        swap(m_object, taken.m_object);
        return *this;
    }
    ~RefPtr() { reset(); }

    T* get() const { return m_object; }
    T* operator->() const
    {
        VERIFY(m_object);
        return m_object;
    }
    T& operator*() const
    {
        VERIFY(m_object);
        return *m_object;
    }
    explicit operator bool() const { return m_object != nullptr; }

    void reset()
    {
        T* old = exchange(m_object, nullptr);
        if (old && old->unref())
            Deleter()(old);
    }

private:
    T* m_object = nullptr;
};

} // namespace keel
