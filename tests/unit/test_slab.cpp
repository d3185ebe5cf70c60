#include <catch2/catch.hpp>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <random>
#include <vector>

#include "mm/slab.h"

using keel::Error;
using keel::Heap;
using keel::kPageSize;
using keel::PageSource;
using keel::Result;
using keel::SlabCache;

namespace {

// Pages from aligned_alloc, with the books the tests check: pages out now,
// and a cap to force exhaustion.
struct FakePages {
    std::map<void*, unsigned> blocks; // pointer -> order
    size_t pages_out = 0;
    size_t limit = SIZE_MAX;
    size_t bad_frees = 0;

    PageSource source() { return PageSource { alloc_pages, free_pages, block_order, this }; }

    static Result<void*> alloc_pages(void* ctx, unsigned order)
    {
        auto* self = static_cast<FakePages*>(ctx);
        size_t pages = size_t(1) << order;
        if (order > 12 || self->pages_out + pages > self->limit)
            return keel::Err(Error::ENOMEM);
        void* block = aligned_alloc(kPageSize, pages * kPageSize);
        REQUIRE(block);
        memset(block, 0xa5, pages * kPageSize); // the heap must not rely on zeroed pages
        self->blocks[block] = order;
        self->pages_out += pages;
        return block;
    }

    static Result<void> free_pages(void* ctx, void* block)
    {
        auto* self = static_cast<FakePages*>(ctx);
        auto it = self->blocks.find(block);
        if (it == self->blocks.end()) {
            ++self->bad_frees;
            return keel::Err(Error::EINVAL);
        }
        self->pages_out -= size_t(1) << it->second;
        self->blocks.erase(it);
        ::free(block);
        return {};
    }

    static Result<unsigned> block_order(void* ctx, void* block)
    {
        auto* self = static_cast<FakePages*>(ctx);
        auto it = self->blocks.find(block);
        if (it == self->blocks.end())
            return keel::Err(Error::EINVAL);
        return it->second;
    }

    ~FakePages()
    {
        for (auto& [block, order] : blocks)
            ::free(block);
    }
};

} // namespace

TEST_CASE("slab cache: geometry and alignment", "[slab]")
{
    FakePages pages;
    SlabCache cache(24, pages.source());
    CHECK(cache.object_size() == 32);
    CHECK(cache.objects_per_slab() > 100);

    std::vector<void*> objects;
    for (size_t i = 0; i < cache.objects_per_slab() + 1; ++i) {
        auto object = cache.alloc();
        REQUIRE(object.is_ok());
        CHECK(reinterpret_cast<uintptr_t>(object.value()) % 16 == 0);
        CHECK(reinterpret_cast<uintptr_t>(object.value()) % kPageSize != 0);
        CHECK(cache.owns(object.value()));
        objects.push_back(object.value());
    }
    CHECK(cache.slab_count() == 2);
    CHECK(pages.pages_out == 2);
    for (void* object : objects)
        REQUIRE(cache.free(object).is_ok());
    CHECK(cache.slab_count() == 0);
    CHECK(pages.pages_out == 0);
}

TEST_CASE("slab cache: double free and foreign pointers", "[slab]")
{
    FakePages pages;
    SlabCache cache(64, pages.source());
    SlabCache other(64, pages.source());
    void* a = cache.alloc().value();
    void* b = cache.alloc().value(); // keeps the slab alive after a is freed
    void* c = other.alloc().value();

    REQUIRE(cache.free(a).is_ok());
    CHECK(cache.free(a).error() == Error::EINVAL);
    CHECK(cache.free(static_cast<char*>(b) + 16).error() == Error::EINVAL); // not an object start
    CHECK(cache.free(c).error() == Error::EINVAL);                          // another cache's
    CHECK(cache.objects_in_use() == 1);

    // A live object that happens to start with the free magic is still freed.
    auto* words = static_cast<uint64_t*>(b);
    words[0] = 0xf4eef4eedeadbeefULL;
    CHECK(cache.free(b).is_ok());
    CHECK(other.free(c).is_ok());
    CHECK(pages.pages_out == 0);
}

TEST_CASE("heap: size classes, large allocations and allocation_size", "[slab]")
{
    FakePages pages;
    Heap heap(pages.source());

    struct Case {
        size_t request;
        size_t expected;
    } cases[] = { { 0, 16 }, { 1, 16 }, { 16, 16 }, { 17, 32 }, { 100, 128 }, { 512, 512 }, { 513, 1024 },
        { 1024, 1024 }, { 1025, 4096 }, { 2048, 4096 }, { 4096, 4096 }, { 4097, 8192 }, { 20000, 32768 } };
    std::vector<void*> live;
    size_t expected_bytes = 0;
    for (auto [request, expected] : cases) {
        auto ptr = heap.alloc(request);
        REQUIRE(ptr.is_ok());
        auto address = reinterpret_cast<uintptr_t>(ptr.value());
        INFO("request " << request);
        CHECK(address % 16 == 0);
        CHECK((address % kPageSize == 0) == (request > Heap::kMaxSlabSize));
        CHECK(heap.allocation_size(ptr.value()) == expected);
        memset(ptr.value(), 0x5a, request);
        expected_bytes += expected;
        CHECK(heap.bytes_in_use() == expected_bytes);
        live.push_back(ptr.value());
    }
    auto stats = heap.stats();
    CHECK(stats.large_allocations == 5);
    CHECK(stats.large_pages == 1 + 1 + 1 + 2 + 8);
    CHECK(stats.class_objects[0] == 3);

    // Zero-size allocations are distinct.
    void* z1 = heap.alloc(0).value();
    void* z2 = heap.alloc(0).value();
    CHECK(z1 != z2);
    REQUIRE(heap.free(z1).is_ok());
    REQUIRE(heap.free(z2).is_ok());

    CHECK(heap.free(nullptr).is_ok());
    CHECK(heap.allocation_size(nullptr) == 0);
    for (void* ptr : live)
        REQUIRE(heap.free(ptr).is_ok());
    CHECK(heap.bytes_in_use() == 0);
    CHECK(pages.pages_out == 0);
}

TEST_CASE("heap: bad frees are reported", "[slab]")
{
    FakePages pages;
    Heap heap(pages.source());
    void* keep = heap.alloc(100).value();
    void* small = heap.alloc(100).value();
    void* large = heap.alloc(10000).value();

    REQUIRE(heap.free(small).is_ok());
    CHECK(heap.free(small).error() == Error::EINVAL);
    REQUIRE(heap.free(large).is_ok());
    CHECK(heap.free(large).error() == Error::EINVAL);
    CHECK(heap.free(static_cast<char*>(keep) + 8).error() == Error::EINVAL);
    CHECK(heap.allocation_size(large) == 0);
    CHECK(heap.bytes_in_use() == 128);
    REQUIRE(heap.free(keep).is_ok());
    CHECK(pages.pages_out == 0);
}

TEST_CASE("heap: huge requests fail cleanly", "[slab]")
{
    FakePages pages;
    Heap heap(pages.source());
    CHECK(heap.alloc(SIZE_MAX).error() == Error::ENOMEM);
    CHECK(heap.alloc(SIZE_MAX / 2).error() == Error::ENOMEM);
    CHECK(heap.alloc(size_t(1) << 40).error() == Error::ENOMEM);
    CHECK(pages.pages_out == 0);
}

TEST_CASE("heap: exhaustion and return to baseline", "[slab]")
{
    FakePages pages;
    pages.limit = 64;
    Heap heap(pages.source());
    size_t size = GENERATE(16u, 48u, 200u, 2048u, 3000u);
    std::vector<void*> live;
    for (;;) {
        auto ptr = heap.alloc(size);
        if (ptr.is_error()) {
            CHECK(ptr.error() == Error::ENOMEM);
            break;
        }
        live.push_back(ptr.value());
    }
    CHECK(pages.pages_out == 64);
    CHECK(!live.empty());
    for (void* ptr : live)
        REQUIRE(heap.free(ptr).is_ok());
    CHECK(pages.pages_out == 0);
    CHECK(heap.bytes_in_use() == 0);
}

TEST_CASE("heap: randomised against a model", "[slab]")
{
    uint64_t seed = GENERATE(11u, 22u, 33u, 44u);
    std::mt19937_64 rng(seed);
    FakePages pages;
    pages.limit = 400; // low enough that exhaustion happens on the way
    Heap heap(pages.source());

    struct Live {
        size_t size;
        unsigned char fill;
    };
    std::map<uintptr_t, Live> live; // start -> request
    size_t expected_bytes = 0;
    bool saw_enomem = false;

    auto check_no_overlap = [&](uintptr_t start, size_t length) {
        auto next = live.lower_bound(start);
        if (next != live.end())
            REQUIRE(start + length <= next->first);
        if (next != live.begin()) {
            auto prev = std::prev(next);
            REQUIRE(prev->first + heap.allocation_size(reinterpret_cast<void*>(prev->first)) <= start);
        }
    };

    for (int step = 0; step < 8000; ++step) {
        if (live.empty() || rng() % 100 < 55) {
            size_t size;
            switch (rng() % 8) {
            case 0: size = 2049 + rng() % 20000; break;
            case 1: size = rng() % 3; break;
            default: size = 1 + rng() % 2048; break;
            }
            auto ptr = heap.alloc(size);
            if (ptr.is_error()) {
                REQUIRE(ptr.error() == Error::ENOMEM);
                saw_enomem = true;
                continue;
            }
            auto start = reinterpret_cast<uintptr_t>(ptr.value());
            size_t usable = heap.allocation_size(ptr.value());
            REQUIRE(start % 16 == 0);
            REQUIRE(usable >= size);
            REQUIRE(usable >= 16);
            check_no_overlap(start, usable);
            auto fill = static_cast<unsigned char>(rng());
            memset(ptr.value(), fill, usable); // all of it is usable
            live[start] = Live { size, fill };
            expected_bytes += usable;
        } else {
            auto it = live.begin();
            std::advance(it, rng() % live.size());
            auto* bytes = reinterpret_cast<unsigned char*>(it->first);
            size_t usable = heap.allocation_size(bytes);
            // Contents survived other allocations and frees.
            for (size_t i = 0; i < usable; i += 7)
                REQUIRE(bytes[i] == it->second.fill);
            REQUIRE(heap.free(bytes).is_ok());
            expected_bytes -= usable;
            live.erase(it);
        }
        REQUIRE(heap.bytes_in_use() == expected_bytes);
    }
    CHECK(saw_enomem);
    for (auto& [start, entry] : live)
        REQUIRE(heap.free(reinterpret_cast<void*>(start)).is_ok());
    CHECK(heap.bytes_in_use() == 0);
    CHECK(pages.pages_out == 0);
    CHECK(pages.bad_frees == 0);
    auto stats = heap.stats();
    for (size_t i = 0; i < Heap::kClassCount; ++i) {
        CHECK(stats.class_objects[i] == 0);
        CHECK(stats.class_slabs[i] == 0);
    }
}
