// Intrusive doubly-linked list: the links live inside the listed objects
// (an IntrusiveListNode member), so insert and remove never allocate and
// cannot fail, which is what run queues and wait queues need under a
// spinlock or in an interrupt handler.
//
//     struct Thread { IntrusiveListNode run_node; ... };
//     IntrusiveList<Thread, &Thread::run_node> run_queue;
//     run_queue.push_back(thread);
//     Thread* next = run_queue.pop_front();
//
// The list is circular around a sentinel node inside the list object, so
// no operation has an empty-list special case; as a consequence a list
// cannot be copied or moved (use splice_back to move the contents). An
// object can be on as many lists as it has nodes, on each at most once.
// The list does not own its elements; removing one just unlinks it.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

class IntrusiveListNode {
public:
    constexpr IntrusiveListNode() = default;
    // A node's address is its identity; copying an object does not copy its
    // list membership.
    IntrusiveListNode(const IntrusiveListNode&) { }
    IntrusiveListNode& operator=(const IntrusiveListNode&) { return *this; }

    bool is_linked() const { return m_next != nullptr; }

    // Removes the node from whatever list holds it (no-op when unlinked).
    void unlink()
    {
        if (!m_next)
            return;
        m_prev->m_next = m_next;
        m_next->m_prev = m_prev;
        m_prev = m_next = nullptr;
    }

private:
    template<typename T, IntrusiveListNode T::*Member> friend class IntrusiveList;

    void insert_before(IntrusiveListNode& position)
    {
        m_prev = position.m_prev;
        m_next = &position;
        position.m_prev->m_next = this;
        position.m_prev = this;
    }

    IntrusiveListNode* m_prev = nullptr;
    IntrusiveListNode* m_next = nullptr;
};

template<typename T, IntrusiveListNode T::*Member> class IntrusiveList {
public:
    class Iterator {
    public:
        Iterator(IntrusiveListNode* node)
            : m_node(node)
        {
        }
        T& operator*() const { return *IntrusiveList::owner(m_node); }
        T* operator->() const { return IntrusiveList::owner(m_node); }
        Iterator& operator++()
        {
            m_node = m_node->m_next;
            return *this;
        }
        bool operator==(const Iterator& other) const { return m_node == other.m_node; }
        bool operator!=(const Iterator& other) const { return m_node != other.m_node; }

    private:
        IntrusiveListNode* m_node;
    };

    constexpr IntrusiveList() { m_sentinel.m_prev = m_sentinel.m_next = &m_sentinel; }
    IntrusiveList(const IntrusiveList&) = delete;
    IntrusiveList& operator=(const IntrusiveList&) = delete;
    // Trivial destructor on purpose, so global run queues need no
    // registered destructor in the kernel. Destroying a non-empty list is a
    // bug: the elements would still point at its sentinel; clear() first.
    ~IntrusiveList() = default;

    bool is_empty() const { return m_sentinel.m_next == &m_sentinel; }
    // O(n): the list keeps no count, so that IntrusiveListNode::unlink can
    // work without knowing its list.
    size_t size() const
    {
        size_t count = 0;
        for (const IntrusiveListNode* node = m_sentinel.m_next; node != &m_sentinel; node = node->m_next)
            ++count;
        return count;
    }

    // Inserting an element that is already on a list (through the same
    // member) is a bug; it is unlinked from there first rather than
    // corrupting both lists.
    void push_front(T& item) { insert_node(node_of(item), *m_sentinel.m_next); }
    void push_back(T& item) { insert_node(node_of(item), m_sentinel); }
    void insert_before(T& position, T& item) { insert_node(node_of(item), node_of(position)); }
    void insert_after(T& position, T& item) { insert_node(node_of(item), *node_of(position).m_next); }

    // `item` must be on this list (or on none: then it is a no-op).
    void remove(T& item) { node_of(item).unlink(); }

    T* first() const { return is_empty() ? nullptr : owner(m_sentinel.m_next); }
    T* last() const { return is_empty() ? nullptr : owner(m_sentinel.m_prev); }
    T* next(T& item) const { return checked_owner(node_of(item).m_next); }
    T* prev(T& item) const { return checked_owner(node_of(item).m_prev); }

    T* pop_front()
    {
        T* item = first();
        if (item)
            remove(*item);
        return item;
    }
    T* pop_back()
    {
        T* item = last();
        if (item)
            remove(*item);
        return item;
    }

    // O(n) membership test, for assertions.
    bool contains(const T& item) const
    {
        const IntrusiveListNode* wanted = &(item.*Member);
        for (const IntrusiveListNode* node = m_sentinel.m_next; node != &m_sentinel; node = node->m_next) {
            if (node == wanted)
                return true;
        }
        return false;
    }

    void clear()
    {
        while (!is_empty())
            m_sentinel.m_next->unlink();
    }

    // Moves every element of `other` to the end of this list in O(1)
    // (wake-all on a wait queue).
    void splice_back(IntrusiveList& other)
    {
        if (&other == this || other.is_empty())
            return;
        IntrusiveListNode* first = other.m_sentinel.m_next;
        IntrusiveListNode* last = other.m_sentinel.m_prev;
        first->m_prev = m_sentinel.m_prev;
        m_sentinel.m_prev->m_next = first;
        last->m_next = &m_sentinel;
        m_sentinel.m_prev = last;
        other.m_sentinel.m_next = other.m_sentinel.m_prev = &other.m_sentinel;
    }

    // Iteration. Removing the element an iterator points at invalidates
    // that iterator; to remove while walking, fetch next() first or use
    // remove_if.
    Iterator begin() const { return Iterator(m_sentinel.m_next); }
    Iterator end() const { return Iterator(const_cast<IntrusiveListNode*>(&m_sentinel)); }

    template<typename Predicate> size_t remove_if(Predicate predicate)
    {
        size_t removed = 0;
        IntrusiveListNode* node = m_sentinel.m_next;
        while (node != &m_sentinel) {
            IntrusiveListNode* next = node->m_next;
            if (predicate(*owner(node))) {
                node->unlink();
                ++removed;
            }
            node = next;
        }
        return removed;
    }

private:
    static IntrusiveListNode& node_of(T& item) { return item.*Member; }
    static const IntrusiveListNode& node_of(const T& item) { return item.*Member; }

    // Offset of the node inside T, computed on a fake, suitably aligned,
    // non-null address (nothing is read; the compiler folds it to a
    // constant). offsetof cannot take a pointer-to-member template argument.
    // vptr checking is off because no T lives at that address.
    __attribute__((no_sanitize("undefined"))) static uintptr_t member_offset()
    {
        constexpr uintptr_t kFake = 0x10000;
        T* fake = reinterpret_cast<T*>(kFake);
        return reinterpret_cast<uintptr_t>(&(fake->*Member)) - kFake;
    }

    static T* owner(IntrusiveListNode* node)
    {
        return reinterpret_cast<T*>(reinterpret_cast<uintptr_t>(node) - member_offset());
    }
    static T* owner(const IntrusiveListNode* node) { return owner(const_cast<IntrusiveListNode*>(node)); }

    T* checked_owner(IntrusiveListNode* node) const { return !node || node == &m_sentinel ? nullptr : owner(node); }

    static void insert_node(IntrusiveListNode& node, IntrusiveListNode& position)
    {
        if (&node == &position)
            return;
        node.unlink();
        node.insert_before(position);
    }

    IntrusiveListNode m_sentinel;
};

} // namespace keel
