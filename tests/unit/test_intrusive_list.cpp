#include <catch2/catch.hpp>

#include <vector>

#include "lib/base/intrusive_list.h"

using keel::IntrusiveList;
using keel::IntrusiveListNode;

namespace {

struct Thread {
    int id;
    IntrusiveListNode run_node;
    int padding[3] = {};
    IntrusiveListNode wait_node; // a second list, at a non-zero offset

    explicit Thread(int id)
        : id(id)
    {
    }
};

using RunQueue = IntrusiveList<Thread, &Thread::run_node>;
using WaitQueue = IntrusiveList<Thread, &Thread::wait_node>;

template<typename List> std::vector<int> ids(const List& list)
{
    std::vector<int> result;
    for (Thread& thread : list)
        result.push_back(thread.id);
    return result;
}

// Polymorphic element types work too (UBSan's vptr check must stay quiet).
struct Waiter {
    virtual ~Waiter() = default;
    virtual int wake() { return 1; }
    IntrusiveListNode node;
};

} // namespace

TEST_CASE("intrusive list: push, pop, order", "[intrusive_list]")
{
    Thread a(1), b(2), c(3);
    RunQueue queue;
    CHECK(queue.is_empty());
    CHECK(queue.size() == 0);
    CHECK(queue.first() == nullptr);
    CHECK(queue.pop_front() == nullptr);
    CHECK(queue.pop_back() == nullptr);

    queue.push_back(a);
    queue.push_back(b);
    queue.push_front(c);
    CHECK(ids(queue) == std::vector<int> { 3, 1, 2 });
    CHECK(queue.size() == 3);
    CHECK(queue.first() == &c);
    CHECK(queue.last() == &b);
    CHECK(queue.next(c) == &a);
    CHECK(queue.next(b) == nullptr);
    CHECK(queue.prev(c) == nullptr);
    CHECK(queue.prev(b) == &a);
    CHECK(a.run_node.is_linked());

    CHECK(queue.pop_front() == &c);
    CHECK(!c.run_node.is_linked());
    CHECK(queue.pop_back() == &b);
    CHECK(queue.pop_front() == &a);
    CHECK(queue.is_empty());
}

TEST_CASE("intrusive list: insert and remove in the middle", "[intrusive_list]")
{
    Thread a(1), b(2), c(3), d(4);
    RunQueue queue;
    queue.push_back(a);
    queue.push_back(c);
    queue.insert_before(c, b);
    queue.insert_after(c, d);
    CHECK(ids(queue) == std::vector<int> { 1, 2, 3, 4 });
    queue.remove(b);
    CHECK(ids(queue) == std::vector<int> { 1, 3, 4 });
    queue.remove(b); // unlinked: no-op
    CHECK(queue.contains(a));
    CHECK(!queue.contains(b));
    d.run_node.unlink();
    CHECK(ids(queue) == std::vector<int> { 1, 3 });

    // Re-inserting a linked element moves it instead of corrupting.
    queue.push_back(a);
    CHECK(ids(queue) == std::vector<int> { 3, 1 });
    queue.push_back(a);
    CHECK(ids(queue) == std::vector<int> { 3, 1 });
    queue.push_front(c);
    CHECK(ids(queue) == std::vector<int> { 3, 1 });
    queue.insert_after(c, a);
    CHECK(ids(queue) == std::vector<int> { 3, 1 });
    queue.insert_before(a, a);
    CHECK(ids(queue) == std::vector<int> { 3, 1 });
    queue.clear();
    CHECK(queue.is_empty());
    CHECK(!a.run_node.is_linked());
    CHECK(!c.run_node.is_linked());
}

TEST_CASE("intrusive list: one object on two lists", "[intrusive_list]")
{
    Thread a(1), b(2);
    RunQueue run;
    WaitQueue wait;
    run.push_back(a);
    run.push_back(b);
    wait.push_back(b);
    wait.push_back(a);
    CHECK(ids(run) == std::vector<int> { 1, 2 });
    CHECK(ids(wait) == std::vector<int> { 2, 1 });
    CHECK(wait.first() == &b);
    run.remove(a);
    CHECK(ids(wait) == std::vector<int> { 2, 1 });
    wait.clear();
    run.clear();
}

TEST_CASE("intrusive list: splice and remove_if", "[intrusive_list]")
{
    std::vector<Thread> threads;
    for (int i = 0; i < 10; ++i)
        threads.emplace_back(i);
    WaitQueue waiters;
    RunQueue run;
    for (auto& thread : threads)
        waiters.push_back(thread);
    for (int i = 0; i < 3; ++i)
        run.push_back(threads[i]);
    CHECK(waiters.remove_if([](Thread& t) { return t.id % 2 == 1; }) == 5);
    CHECK(ids(waiters) == std::vector<int> { 0, 2, 4, 6, 8 });

    WaitQueue woken;
    Thread extra(42);
    woken.push_back(extra);
    woken.splice_back(waiters);
    CHECK(waiters.is_empty());
    CHECK(ids(woken) == std::vector<int> { 42, 0, 2, 4, 6, 8 });
    woken.splice_back(waiters); // empty: no-op
    woken.splice_back(woken);   // self: no-op
    CHECK(woken.size() == 6);
    CHECK(woken.last() == &threads[8]);
    CHECK(woken.prev(extra) == nullptr);
    woken.clear();
    run.clear();
}

TEST_CASE("intrusive list: polymorphic elements", "[intrusive_list]")
{
    Waiter w1, w2;
    IntrusiveList<Waiter, &Waiter::node> list;
    list.push_back(w1);
    list.push_back(w2);
    int total = 0;
    for (Waiter& w : list)
        total += w.wake();
    CHECK(total == 2);
    CHECK(list.pop_front() == &w1);
    list.clear();
}

namespace {
// Constant-initialised, as a global run queue in the kernel would be.
constinit RunQueue g_queue;
} // namespace

TEST_CASE("intrusive list: global list needs no constructor", "[intrusive_list]")
{
    Thread t(7);
    CHECK(g_queue.is_empty());
    g_queue.push_back(t);
    CHECK(g_queue.first() == &t);
    g_queue.clear();
}
