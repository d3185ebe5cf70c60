// OwnPtr and RefPtr (lib/base/own.h): every object is destroyed exactly
// once, when its last owner goes, and never while an owner remains.
#include <catch2/catch.hpp>

#include "lib/base/own.h"

using keel::OwnPtr;
using keel::RefCounted;
using keel::RefPtr;

namespace {

int g_destroyed = 0;

struct Tracked {
    int value;
    explicit Tracked(int v)
        : value(v)
    {
    }
};

struct Counted : RefCounted<Counted> {
    int value;
    explicit Counted(int v)
        : value(v)
    {
    }
};

struct CountingDelete {
    template<typename T> void operator()(T* object) const
    {
        g_destroyed++;
        delete object;
    }
};

using Own = OwnPtr<Tracked, CountingDelete>;
using Ref = RefPtr<Counted, CountingDelete>;

} // namespace

TEST_CASE("OwnPtr destroys its object once, when it goes")
{
    g_destroyed = 0;
    {
        Own owner(new Tracked(7));
        CHECK(owner->value == 7);
        CHECK(g_destroyed == 0);
    }
    CHECK(g_destroyed == 1);
}

TEST_CASE("OwnPtr moves ownership; the moved-from owner holds nothing")
{
    g_destroyed = 0;
    Own first(new Tracked(1));
    Own second(keel::move(first));
    CHECK_FALSE(first);
    CHECK(second->value == 1);
    Own third;
    third = keel::move(second);
    CHECK(g_destroyed == 0);
    third = Own(new Tracked(2)); // the old object goes
    CHECK(g_destroyed == 1);
    third.reset();
    CHECK(g_destroyed == 2);
    third.reset(); // nothing left: no second destruction
    CHECK(g_destroyed == 2);
}

TEST_CASE("OwnPtr::leak hands the object on without destroying it")
{
    g_destroyed = 0;
    Tracked* raw;
    {
        Own owner(new Tracked(3));
        raw = owner.leak();
        CHECK_FALSE(owner);
    }
    CHECK(g_destroyed == 0);
    Own again(raw);
    again.reset();
    CHECK(g_destroyed == 1);
}

TEST_CASE("RefPtr destroys its object when the last reference goes")
{
    g_destroyed = 0;
    Ref first = Ref::adopt(new Counted(5));
    CHECK(first->ref_count() == 1);
    {
        Ref copy = first;
        CHECK(first->ref_count() == 2);
        Ref moved = keel::move(copy);
        CHECK_FALSE(copy);
        CHECK(first->ref_count() == 2);
    }
    CHECK(first->ref_count() == 1);
    CHECK(g_destroyed == 0);
    Ref other(first.get()); // takes one more
    first.reset();
    CHECK(g_destroyed == 0);
    CHECK(other->value == 5);
    other = Ref();
    CHECK(g_destroyed == 1);
}

TEST_CASE("RefPtr assignment releases what it held, self-assignment holds")
{
    g_destroyed = 0;
    Ref a = Ref::adopt(new Counted(1));
    Ref b = Ref::adopt(new Counted(2));
    a = b;
    CHECK(g_destroyed == 1);
    CHECK(a->ref_count() == 2);
    Ref& same = a;
    a = same;
    CHECK(a->ref_count() == 2);
    CHECK(g_destroyed == 1);
}
