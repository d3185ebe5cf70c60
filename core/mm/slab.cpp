#include "mm/slab.h"

namespace keel {

namespace {

constexpr uint32_t kSlabMagic = 0x51ab51ab;
// Written into the first word of every free object. A live object may hold
// this value by chance, so a match is confirmed against the free list.
constexpr uint64_t kFreeMagic = 0xf4eef4eedeadbeefULL;

uintptr_t page_of(const void* ptr) { return align_down(reinterpret_cast<uintptr_t>(ptr), uintptr_t(kPageSize)); }

} // namespace

struct SlabCache::FreeObject {
    uint64_t magic;
    FreeObject* next;
};

struct SlabCache::SlabHeader {
    uint32_t magic;
    uint16_t in_use;
    uint16_t capacity;
    SlabCache* cache;
    FreeObject* free_list;
    SlabHeader* next; // partial list links
    SlabHeader* prev;
    bool on_partial_list;
};

SlabCache* SlabCache::cache_of(const void* object)
{
    auto* slab = reinterpret_cast<SlabHeader*>(page_of(object));
    if (reinterpret_cast<uintptr_t>(slab) == reinterpret_cast<uintptr_t>(object) || slab->magic != kSlabMagic)
        return nullptr;
    return slab->cache;
}

bool SlabCache::owns(const void* object) const
{
    if (!object || cache_of(object) != this)
        return false;
    uintptr_t offset = reinterpret_cast<uintptr_t>(object) - page_of(object);
    return offset >= kFirstObjectOffset && (offset - kFirstObjectOffset) % m_object_size == 0
        && (offset - kFirstObjectOffset) / m_object_size < m_objects_per_slab;
}

void SlabCache::push_partial(SlabHeader* slab)
{
    slab->prev = nullptr;
    slab->next = m_partial;
    if (m_partial)
        m_partial->prev = slab;
    m_partial = slab;
    slab->on_partial_list = true;
}

void SlabCache::unlink_partial(SlabHeader* slab)
{
    if (slab->prev)
        slab->prev->next = slab->next;
    else
        m_partial = slab->next;
    if (slab->next)
        slab->next->prev = slab->prev;
    slab->next = slab->prev = nullptr;
    slab->on_partial_list = false;
}

Result<SlabCache::SlabHeader*> SlabCache::grow()
{
    static_assert(sizeof(SlabHeader) <= kFirstObjectOffset);
    static_assert(kFirstObjectOffset % kAlignment == 0);
    if (m_objects_per_slab == 0)
        return Err(Error::EINVAL);
    void* page = TRY(m_source.alloc_pages(m_source.ctx, 0));
    if (page_of(page) != reinterpret_cast<uintptr_t>(page)) {
        // A broken page source; do not build a slab that free() cannot find.
        (void)m_source.free_pages(m_source.ctx, page);
        return Err(Error::EINVAL);
    }
    auto* slab = static_cast<SlabHeader*>(page);
    slab->magic = kSlabMagic;
    slab->in_use = 0;
    slab->capacity = static_cast<uint16_t>(m_objects_per_slab);
    slab->cache = this;
    slab->free_list = nullptr;
    // Thread the free list so that allocation goes upwards through the page.
    auto* base = static_cast<char*>(page) + kFirstObjectOffset;
    for (size_t i = m_objects_per_slab; i > 0; --i) {
        auto* object = reinterpret_cast<FreeObject*>(base + (i - 1) * m_object_size);
        object->magic = kFreeMagic;
        object->next = slab->free_list;
        slab->free_list = object;
    }
    push_partial(slab);
    ++m_slab_count;
    return slab;
}

Result<void*> SlabCache::alloc()
{
    SlabHeader* slab = m_partial;
    if (!slab)
        slab = TRY(grow());
    FreeObject* object = slab->free_list;
    slab->free_list = object->next;
    object->magic = 0;
    object->next = nullptr;
    ++slab->in_use;
    ++m_objects_in_use;
    if (!slab->free_list)
        unlink_partial(slab);
    return static_cast<void*>(object);
}

Result<void> SlabCache::free(void* ptr)
{
    if (!owns(ptr))
        return Err(Error::EINVAL);
    auto* slab = reinterpret_cast<SlabHeader*>(page_of(ptr));
    auto* object = static_cast<FreeObject*>(ptr);
    if (object->magic == kFreeMagic) {
        for (FreeObject* it = slab->free_list; it; it = it->next) {
            if (it == object)
                return Err(Error::EINVAL); // double free
        }
    }
    if (slab->in_use == 0)
        return Err(Error::EINVAL);

    object->magic = kFreeMagic;
    object->next = slab->free_list;
    slab->free_list = object;
    --slab->in_use;
    --m_objects_in_use;

    if (slab->in_use == 0) {
        // Give the page back straight away; an idle cache holds no memory.
        if (slab->on_partial_list)
            unlink_partial(slab);
        slab->magic = 0;
        --m_slab_count;
        (void)m_source.free_pages(m_source.ctx, slab);
    } else if (!slab->on_partial_list) {
        push_partial(slab);
    }
    return {};
}

namespace {
constexpr bool classes_are_powers_of_two()
{
    for (size_t i = 0; i < Heap::kClassCount; ++i) {
        if (Heap::kClassSizes[i] != Heap::kClassSizes[0] << i)
            return false;
    }
    return Heap::kClassSizes[0] == 16;
}
static_assert(classes_are_powers_of_two(), "class_index computes the class of a size");
} // namespace

int Heap::class_index(size_t size)
{
    if (size > kClassSizes[kClassCount - 1])
        return -1;
    if (size <= kClassSizes[0])
        return 0;
    return int(64 - __builtin_clzll(size - 1)) - 4; // log2 of the class size, less log2(16)
}

Result<void*> Heap::alloc(size_t size)
{
    int index = class_index(size);
    if (index >= 0) {
        void* object = TRY(m_caches[index].alloc());
        m_bytes_in_use += kClassSizes[index];
        return object;
    }
    size_t pages = size / kPageSize + (size % kPageSize != 0 ? 1 : 0);
    unsigned order = 0;
    while ((size_t(1) << order) < pages) {
        if (++order > kMaxLargeOrder)
            return Err(Error::ENOMEM);
    }
    void* block = TRY(m_source.alloc_pages(m_source.ctx, order));
    size_t block_pages = size_t(1) << order;
    m_bytes_in_use += block_pages * kPageSize;
    m_large_pages += block_pages;
    ++m_large_allocations;
    return block;
}

Result<void> Heap::free(void* ptr)
{
    if (!ptr)
        return {};
    if (page_of(ptr) == reinterpret_cast<uintptr_t>(ptr)) {
        unsigned order = TRY(m_source.block_order(m_source.ctx, ptr));
        TRY(m_source.free_pages(m_source.ctx, ptr));
        size_t block_pages = size_t(1) << order;
        m_bytes_in_use -= block_pages * kPageSize;
        m_large_pages -= block_pages;
        --m_large_allocations;
        return {};
    }
    // One of ours only if the slab names one of this heap's caches.
    SlabCache* cache = SlabCache::cache_of(ptr);
    auto index = uintptr_t(cache) - uintptr_t(&m_caches[0]);
    if (!cache || index >= sizeof(m_caches) || index % sizeof(SlabCache) != 0)
        return Err(Error::EINVAL);
    TRY(cache->free(ptr));
    m_bytes_in_use -= kClassSizes[index / sizeof(SlabCache)];
    return {};
}

size_t Heap::allocation_size(const void* ptr) const
{
    if (!ptr)
        return 0;
    if (page_of(ptr) == reinterpret_cast<uintptr_t>(ptr)) {
        auto order = m_source.block_order(m_source.ctx, const_cast<void*>(ptr));
        return order.is_ok() ? (size_t(1) << order.value()) * kPageSize : 0;
    }
    const SlabCache* cache = SlabCache::cache_of(ptr);
    for (size_t i = 0; i < kClassCount; ++i) {
        if (cache == &m_caches[i] && cache->owns(ptr))
            return kClassSizes[i];
    }
    return 0;
}

Heap::Stats Heap::stats() const
{
    Stats stats {};
    stats.bytes_in_use = m_bytes_in_use;
    stats.large_allocations = m_large_allocations;
    stats.large_pages = m_large_pages;
    for (size_t i = 0; i < kClassCount; ++i) {
        stats.class_objects[i] = m_caches[i].objects_in_use();
        stats.class_slabs[i] = m_caches[i].slab_count();
    }
    return stats;
}

} // namespace keel
