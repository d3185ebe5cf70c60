#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "mm/buddy.h"

using keel::BuddyAllocator;
using keel::Error;

namespace {

struct Fixture {
    Fixture(uint64_t base, size_t count)
        : metadata((BuddyAllocator::metadata_bytes(count) + 7) / 8)
    {
        // Not zeroed by init() beyond the flags: start from junk.
        std::fill(metadata.begin(), metadata.end(), 0xa5a5a5a5a5a5a5a5ull);
        buddy.init(base, count, metadata.data());
    }
    std::vector<uint64_t> metadata;
    BuddyAllocator buddy;
};

} // namespace

TEST_CASE("buddy: starts reserved", "[buddy]")
{
    Fixture f(0x100, 64);
    CHECK(f.buddy.free_pages() == 0);
    CHECK(f.buddy.total_pages() == 0);
    auto result = f.buddy.alloc(0);
    REQUIRE(result.is_error());
    CHECK(result.error() == Error::ENOMEM);
    CHECK(f.buddy.check_invariants());
}

TEST_CASE("buddy: free_range builds the largest aligned blocks", "[buddy]")
{
    Fixture f(0, 4096);
    CHECK(f.buddy.free_range(0, 4096) == 4096);
    CHECK(f.buddy.free_pages() == 4096);
    CHECK(f.buddy.total_pages() == 4096);
    CHECK(f.buddy.free_blocks(BuddyAllocator::kMaxOrder) == 4);
    for (unsigned order = 0; order < BuddyAllocator::kMaxOrder; ++order)
        CHECK(f.buddy.free_blocks(order) == 0);

    // An unaligned range: 3..12 becomes 3, 4-7, 8-11, 12.
    Fixture g(0, 64);
    CHECK(g.buddy.free_range(3, 10) == 10);
    CHECK(g.buddy.free_blocks(0) == 2);
    CHECK(g.buddy.free_blocks(2) == 2);
    CHECK(g.buddy.check_invariants());

    // Adjacent ranges handed over separately still merge.
    Fixture h(0, 64);
    h.buddy.free_range(0, 5);
    h.buddy.free_range(5, 27);
    CHECK(h.buddy.free_blocks(5) == 1);
    CHECK(h.buddy.free_pages() == 32);
    CHECK(h.buddy.check_invariants());
}

TEST_CASE("buddy: ranges are clipped and never added twice", "[buddy]")
{
    Fixture f(100, 100);
    CHECK(f.buddy.free_range(0, 110) == 10);
    CHECK(f.buddy.free_range(190, 1000) == 10);
    CHECK(f.buddy.free_range(105, 10) == 5); // 105..109 were already in
    CHECK(f.buddy.free_range(UINT64_MAX - 4, 100) == 0);
    CHECK(f.buddy.free_range(300, 10) == 0);
    CHECK(f.buddy.total_pages() == 25);
    CHECK(f.buddy.free_pages() == 25);
    CHECK(f.buddy.check_invariants());
}

TEST_CASE("buddy: a range over frames already in adds only the others", "[buddy]")
{
    // Frames already usable inside the eight- and 32-frame steps of the
    // marking, at their edges and in their middle, and a run ending mid-step.
    Fixture f(3, 700);
    size_t added = 0;
    for (uint64_t pfn : { 3, 10, 11, 40, 64, 95, 96, 200, 300, 301, 302, 303, 701 })
        added += f.buddy.free_range(pfn, 1);
    CHECK(added == 13);
    CHECK(f.buddy.free_range(250, 40) == 40);
    CHECK(f.buddy.free_range(0, 1000) == 700 - 13 - 40);
    CHECK(f.buddy.total_pages() == 700);
    CHECK(f.buddy.free_pages() == 700);
    CHECK(f.buddy.free_range(3, 700) == 0);
    CHECK(f.buddy.check_invariants());
}

TEST_CASE("buddy: alignment is absolute with an unaligned base", "[buddy]")
{
    Fixture f(1000, 3000); // 1000 is not a multiple of 1024
    f.buddy.free_range(1000, 3000);
    for (unsigned order = 0; order <= BuddyAllocator::kMaxOrder; ++order) {
        auto block = f.buddy.alloc(order);
        if (block.is_error())
            continue;
        CHECK(block.value() % (uint64_t(1) << order) == 0);
        CHECK(block.value() >= 1000);
        CHECK(block.value() + (uint64_t(1) << order) <= 4000);
    }
    CHECK(f.buddy.check_invariants());
}

TEST_CASE("buddy: split and coalesce", "[buddy]")
{
    Fixture f(0, 1024);
    f.buddy.free_range(0, 1024);
    auto a = f.buddy.alloc(0);
    REQUIRE(a.is_ok());
    CHECK(a.value() == 0);
    for (unsigned order = 0; order < BuddyAllocator::kMaxOrder; ++order)
        CHECK(f.buddy.free_blocks(order) == 1);
    CHECK(f.buddy.free_pages() == 1023);
    CHECK(f.buddy.allocated_order(0).value() == 0);
    REQUIRE(f.buddy.free(0).is_ok());
    CHECK(f.buddy.free_blocks(BuddyAllocator::kMaxOrder) == 1);
    CHECK(f.buddy.free_pages() == 1024);
    CHECK(f.buddy.check_invariants());
}

TEST_CASE("buddy: bad frees are rejected without damage", "[buddy]")
{
    Fixture f(0, 64);
    f.buddy.free_range(0, 64);
    auto block = f.buddy.alloc(2);
    REQUIRE(block.is_ok());
    uint64_t pfn = block.value();

    CHECK(f.buddy.free(pfn + 1).error() == Error::EINVAL); // interior page
    CHECK(f.buddy.free(1000).error() == Error::EINVAL);    // outside span
    CHECK(f.buddy.allocated_order(pfn + 1).is_error());
    CHECK(f.buddy.check_invariants());
    CHECK(f.buddy.free_pages() == 60);

    REQUIRE(f.buddy.free(pfn).is_ok());
    CHECK(f.buddy.free(pfn).error() == Error::EINVAL);     // double free
    CHECK(f.buddy.free(pfn + 4).error() == Error::EINVAL); // free, never allocated
    CHECK(f.buddy.free_pages() == 64);
    CHECK(f.buddy.check_invariants());
}

TEST_CASE("buddy: order limits and exhaustion", "[buddy]")
{
    Fixture f(0, 2048);
    f.buddy.free_range(0, 2048);
    CHECK(f.buddy.alloc(BuddyAllocator::kMaxOrder + 1).error() == Error::EINVAL);
    CHECK(f.buddy.alloc(1000).error() == Error::EINVAL);

    std::vector<uint64_t> blocks;
    for (;;) {
        auto block = f.buddy.alloc(3);
        if (block.is_error()) {
            CHECK(block.error() == Error::ENOMEM);
            break;
        }
        blocks.push_back(block.value());
    }
    CHECK(blocks.size() == 2048 / 8);
    CHECK(f.buddy.free_pages() == 0);
    CHECK(f.buddy.alloc(0).error() == Error::ENOMEM);
    for (uint64_t pfn : blocks)
        REQUIRE(f.buddy.free(pfn).is_ok());
    CHECK(f.buddy.free_pages() == 2048);
    CHECK(f.buddy.free_blocks(BuddyAllocator::kMaxOrder) == 2);
}

TEST_CASE("buddy: cold blocks are handed out after every other", "[buddy]")
{
    Fixture f(0, 64);
    f.buddy.free_range(0, 64);
    std::vector<uint64_t> taken;
    for (int i = 0; i < 8; ++i)
        taken.push_back(f.buddy.alloc(0).value());
    // Pages 0 and 1 (buddies) and 4 go back cold, 2 warm.
    REQUIRE(taken[0] == 0);
    REQUIRE(f.buddy.free(0, true).is_ok());
    REQUIRE(f.buddy.free(1, true).is_ok());
    REQUIRE(f.buddy.free(4, true).is_ok());
    REQUIRE(f.buddy.free(2).is_ok());
    CHECK(f.buddy.check_invariants());
    // 0-1 merged into a cold order-1 block (both halves cold); 4 is a cold
    // order-0 block, not merged with anything.
    CHECK(f.buddy.free_blocks(1) == 1);
    // Warm first: page 2, then pages 8.. (split from the warm 8-15 block),
    // never 0, 1 or 4 while warm pages remain.
    CHECK(f.buddy.alloc(0).value() == 2);
    for (int i = 0; i < 56; ++i) {
        uint64_t pfn = f.buddy.alloc(0).value();
        CHECK(pfn != 0);
        CHECK(pfn != 1);
        CHECK(pfn != 4);
    }
    CHECK(f.buddy.check_invariants());
    // Only the cold ones are left, and they are still handed out.
    CHECK(f.buddy.free_pages() == 3);
    std::vector<uint64_t> last;
    for (int i = 0; i < 3; ++i)
        last.push_back(f.buddy.alloc(0).value());
    std::sort(last.begin(), last.end());
    CHECK(last == std::vector<uint64_t> { 0, 1, 4 });
    CHECK(f.buddy.alloc(0).error() == Error::ENOMEM);
    // A warm free goes first.
    REQUIRE(f.buddy.free(4, true).is_ok());
    REQUIRE(f.buddy.free(20).is_ok());
    CHECK(f.buddy.alloc(0).value() == 20);
    CHECK(f.buddy.alloc(0).value() == 4);
    CHECK(f.buddy.check_invariants());
    // A cold block and a warm buddy stay apart (4 cold, 5 warm), so the
    // warm one is handed out first...
    REQUIRE(f.buddy.free(4, true).is_ok());
    REQUIRE(f.buddy.free(5).is_ok());
    CHECK(f.buddy.free_blocks(0) == 2);
    CHECK(f.buddy.free_blocks(1) == 0);
    CHECK(f.buddy.check_invariants());
    CHECK(f.buddy.alloc(0).value() == 5);
    // ...and a request nothing free is large enough for thaws them: 4-5
    // (4 cold, 5 warm) serves an order-1 request once they merge.
    REQUIRE(f.buddy.free(5).is_ok());
    CHECK(f.buddy.alloc(1).value() == 4);
    CHECK(f.buddy.check_invariants());
    CHECK(f.buddy.free_pages() == 0);
}

TEST_CASE("buddy: hot pages are taken back first and merged before anything fails", "[buddy]")
{
    Fixture f(0, 64);
    f.buddy.free_range(0, 64);
    f.buddy.set_hot_capacity(2);
    uint64_t a = f.buddy.alloc(0).value();
    uint64_t b = f.buddy.alloc(0).value();
    uint64_t c = f.buddy.alloc(0).value();
    REQUIRE(f.buddy.free(a).is_ok());
    REQUIRE(f.buddy.free(b).is_ok());
    REQUIRE(f.buddy.free(c).is_ok()); // the stack is full: c merges
    CHECK(f.buddy.hot_pages() == 2);
    CHECK(f.buddy.free_pages() == 64);
    CHECK(f.buddy.check_invariants());
    // Hot pages are free, not allocated: a second free and allocated_order
    // refuse them.
    CHECK(f.buddy.free(a).error() == Error::EINVAL);
    CHECK(f.buddy.allocated_order(b).is_error());
    // The last freed comes back first, without a split.
    size_t order0_blocks = f.buddy.free_blocks(0);
    CHECK(f.buddy.alloc(0).value() == b);
    CHECK(f.buddy.free_blocks(0) == order0_blocks);
    CHECK(f.buddy.free_pages() == 63);
    REQUIRE(f.buddy.free(b).is_ok());
    // A cold free never goes hot, even with room on the stack.
    uint64_t d = f.buddy.alloc(0).value();
    CHECK(f.buddy.hot_pages() == 1);
    REQUIRE(f.buddy.free(d, true).is_ok());
    CHECK(f.buddy.hot_pages() == 1);
    CHECK(f.buddy.check_invariants());
    // Nothing but hot pages keeps the whole span from being one block: an
    // allocation of all of it merges them back and succeeds.
    auto all = f.buddy.alloc(6);
    REQUIRE(all.is_ok());
    CHECK(f.buddy.hot_pages() == 0);
    CHECK(f.buddy.free_pages() == 0);
    REQUIRE(f.buddy.free(all.value()).is_ok());
    CHECK(f.buddy.free_blocks(6) == 1);
    CHECK(f.buddy.check_invariants());
}

TEST_CASE("buddy: a hot page below a limit serves alloc_below", "[buddy]")
{
    Fixture f(0, 64);
    f.buddy.free_range(0, 64);
    f.buddy.set_hot_capacity(4);
    uint64_t low = f.buddy.alloc_below(0, 1).value();
    CHECK(low == 0);
    REQUIRE(f.buddy.free(low).is_ok());
    CHECK(f.buddy.hot_pages() == 1);
    CHECK(f.buddy.alloc_below(0, 1).value() == 0);
    CHECK(f.buddy.hot_pages() == 0);
    CHECK(f.buddy.check_invariants());
}

TEST_CASE("buddy: alloc_below passes over hot pages at or above the limit", "[buddy]")
{
    Fixture f(0, 64);
    f.buddy.free_range(0, 64);
    f.buddy.set_hot_capacity(4);
    std::vector<uint64_t> pages;
    for (int i = 0; i < 9; ++i)
        pages.push_back(f.buddy.alloc(0).value());
    REQUIRE(pages[8] == 8);
    REQUIRE(f.buddy.free(8).is_ok()); // hot, exactly at the limit below
    REQUIRE(f.buddy.free(7).is_ok()); // hot, below it
    CHECK(f.buddy.hot_pages() == 2);
    CHECK(f.buddy.alloc_below(0, 8).value() == 7);
    // Page 8 is the only hot one left and is not below 8: the lists serve
    // (pages 0-6 are taken, so nothing below 8 is free: ENOMEM, honestly).
    auto none = f.buddy.alloc_below(0, 8);
    REQUIRE(none.is_error());
    CHECK(none.error() == Error::ENOMEM);
    CHECK(f.buddy.alloc_below(0, 64).is_ok());
    CHECK(f.buddy.check_invariants());
}

TEST_CASE("buddy: randomised against a model", "[buddy]")
{
    // Holes in the span (reserved ranges) and an unaligned base exercise
    // the clipping and alignment paths; half the runs keep hot pages.
    uint64_t seed = GENERATE(1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u);
    std::mt19937_64 rng(seed);
    const uint64_t base = 4096 + (rng() % 3) * 7;
    const size_t count = 6000 + rng() % 3000;
    Fixture f(base, count);
    f.buddy.set_hot_capacity(seed % 2 ? BuddyAllocator::kHotCapacity : 0);

    std::vector<bool> usable(count, false);
    size_t handed = 0;
    for (int i = 0; i < 12; ++i) {
        uint64_t start = base + rng() % count;
        size_t length = rng() % 1500;
        handed += f.buddy.free_range(start, length);
        for (uint64_t p = start; p < start + length && p < base + count; ++p)
            usable[p - base] = true;
    }
    size_t usable_count = 0;
    for (bool u : usable)
        usable_count += u;
    REQUIRE(handed == usable_count);
    REQUIRE(f.buddy.total_pages() == usable_count);
    REQUIRE(f.buddy.free_pages() == usable_count);
    REQUIRE(f.buddy.check_invariants());

    std::map<uint64_t, unsigned> live; // pfn -> order
    std::vector<int> owner(count, -1); // model: which page is taken
    size_t allocated_pages = 0;

    for (int step = 0; step < 6000; ++step) {
        bool do_alloc = live.empty() || rng() % 100 < 55;
        if (do_alloc) {
            unsigned order = static_cast<unsigned>(rng() % 6 == 0 ? rng() % 11 : rng() % 3);
            auto block = f.buddy.alloc(order);
            if (block.is_error()) {
                REQUIRE(block.error() == Error::ENOMEM);
                // ENOMEM must be honest: no free block of that order or above.
                for (unsigned o = order; o <= BuddyAllocator::kMaxOrder; ++o)
                    REQUIRE(f.buddy.free_blocks(o) == 0);
                continue;
            }
            uint64_t pfn = block.value();
            uint64_t size = uint64_t(1) << order;
            REQUIRE(pfn % size == 0);
            REQUIRE(pfn >= base);
            REQUIRE(pfn + size <= base + count);
            for (uint64_t p = pfn; p < pfn + size; ++p) {
                REQUIRE(usable[p - base]);
                REQUIRE(owner[p - base] == -1); // no overlap
                owner[p - base] = step;
            }
            live[pfn] = order;
            allocated_pages += size;
        } else {
            auto it = live.begin();
            std::advance(it, rng() % live.size());
            uint64_t pfn = it->first;
            uint64_t size = uint64_t(1) << it->second;
            REQUIRE(f.buddy.allocated_order(pfn).value() == it->second);
            REQUIRE(f.buddy.free(pfn, rng() % 3 == 0).is_ok()); // some cold
            if (rng() % 10 == 0)
                REQUIRE(f.buddy.free(pfn).error() == Error::EINVAL);
            for (uint64_t p = pfn; p < pfn + size; ++p)
                owner[p - base] = -1;
            live.erase(it);
            allocated_pages -= size;
        }
        REQUIRE(f.buddy.free_pages() == usable_count - allocated_pages);
        if (step % 500 == 0)
            REQUIRE(f.buddy.check_invariants());
    }
    for (auto& [pfn, order] : live)
        REQUIRE(f.buddy.free(pfn).is_ok());
    CHECK(f.buddy.free_pages() == usable_count);
    CHECK(f.buddy.total_pages() == usable_count);
    CHECK(f.buddy.check_invariants());

    // Fully coalesced again once the hot pages are merged and the cold
    // blocks thawed (a cold block and a warm buddy stay apart until then):
    // as many max-order blocks as handing the same ranges to a fresh
    // allocator gives.
    f.buddy.drain_hot();
    f.buddy.thaw();
    CHECK(f.buddy.check_invariants());
    Fixture fresh(base, count);
    size_t start = 0;
    while (start < count) {
        if (!usable[start]) {
            ++start;
            continue;
        }
        size_t end = start;
        while (end < count && usable[end])
            ++end;
        fresh.buddy.free_range(base + start, end - start);
        start = end;
    }
    for (unsigned order = 0; order <= BuddyAllocator::kMaxOrder; ++order)
        CHECK(f.buddy.free_blocks(order) == fresh.buddy.free_blocks(order));
}
