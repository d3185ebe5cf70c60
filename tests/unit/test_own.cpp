// OwnPtr and RefPtr (lib/base/own.h): every object is destroyed exactly
// once, when its last owner goes, and never while an owner remains. And
// PinGate (lib/base/pin_gate.h): nothing closes while pinned, nothing pins
// once closed, even when the two race on two threads.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "lib/base/own.h"
#include "lib/base/pin_gate.h"

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

TEST_CASE("PinGate: a pin keeps it open; a close refuses later pins until reopened")
{
    keel::PinGate gate;
    REQUIRE(gate.try_pin());
    CHECK(gate.pins() == 1);
    gate.pin_again(); // a holder's second pin (a listening socket's child)
    CHECK(gate.pins() == 2);
    gate.unpin();
    CHECK_FALSE(gate.try_close());
    CHECK_FALSE(gate.closed()); // a failed close leaves it open
    CHECK(gate.try_pin());
    gate.unpin();
    gate.unpin();
    REQUIRE(gate.try_close());
    CHECK(gate.closed());
    CHECK_FALSE(gate.try_pin());
    CHECK(gate.pins() == 0); // the refused pin took nothing
    gate.reopen();
    CHECK(gate.try_pin());
}

TEST_CASE("PinGate: a pin and a close racing never both succeed")
{
    // Two threads meet at a spinning barrier before each round, one
    // pinning and one closing that round's fresh gate; with the checks'
    // order or strength weakened, some round lets both through.
    constexpr int kRounds = 20000;
    std::vector<keel::PinGate> gates(kRounds);
    std::vector<char> pinned(kRounds), closed(kRounds);
    std::vector<int> arrived(kRounds);
    auto meet = [&](int round) {
        __atomic_add_fetch(&arrived[round], 1, __ATOMIC_ACQ_REL);
        while (__atomic_load_n(&arrived[round], __ATOMIC_ACQUIRE) < 2) { }
    };
    std::thread pinner([&] {
        for (int round = 0; round < kRounds; round++) {
            meet(round);
            pinned[round] = gates[round].try_pin();
        }
    });
    std::thread closer([&] {
        for (int round = 0; round < kRounds; round++) {
            meet(round);
            closed[round] = gates[round].try_close();
        }
    });
    pinner.join();
    closer.join();
    int both = 0;
    for (int round = 0; round < kRounds; round++) {
        both += pinned[round] && closed[round];
        CHECK(gates[round].pins() == (pinned[round] ? 1u : 0u));
    }
    CHECK(both == 0); // (both may lose: each saw the other and backed off)
}
