#include "mm/buddy.h"

#include "lib/base/string.h"

namespace keel {

void BuddyAllocator::init(uint64_t base_pfn, size_t page_count, void* metadata)
{
    m_base_pfn = base_pfn;
    m_page_count = min(page_count, kMaxPages);
    m_flags = static_cast<uint8_t*>(metadata);
    m_pages = reinterpret_cast<PageInfo*>(m_flags + flags_bytes(m_page_count));
    // Every page starts reserved: no flags. Its PageInfo means something
    // only once it heads a block (push_free and take_block write it), so
    // only the flags are cleared: one byte a page, where clearing whole
    // 12-byte entries was most of the page allocator's set-up at boot
    // (65,000 pages at 256 MiB).
    memset(m_flags, 0, flags_bytes(m_page_count));
    for (unsigned order = 0; order < kOrderCount; ++order) {
        m_free_heads[order] = kNoPage;
        m_free_tails[order] = kNoPage;
        m_free_counts[order] = 0;
    }
    m_free_pages = 0;
    m_total_pages = 0;
    m_hot_count = 0;
}

// Warm blocks go to the head of their list, cold ones to its end: a list
// is its warm blocks, then its cold ones.
void BuddyAllocator::push_free(uint64_t pfn, unsigned order, bool cold)
{
    auto index = static_cast<uint32_t>(pfn - m_base_pfn);
    PageInfo& page = m_pages[index];
    page.order = static_cast<uint8_t>(order);
    m_flags[index] = static_cast<uint8_t>((m_flags[index] & ~(kAllocHead | kCold)) | kFreeHead | (cold ? kCold : 0));
    // The same steps at either end, with next and prev swapped.
    uint32_t PageInfo::*outward = cold ? &PageInfo::next : &PageInfo::prev;
    uint32_t PageInfo::*inward = cold ? &PageInfo::prev : &PageInfo::next;
    uint32_t& end = cold ? m_free_tails[order] : m_free_heads[order];
    uint32_t& other_end = cold ? m_free_heads[order] : m_free_tails[order];
    page.*outward = kNoPage;
    page.*inward = end;
    if (end != kNoPage)
        m_pages[end].*outward = index;
    else
        other_end = index;
    end = index;
    ++m_free_counts[order];
}

void BuddyAllocator::remove_free(uint64_t pfn, unsigned order)
{
    auto index = static_cast<uint32_t>(pfn - m_base_pfn);
    PageInfo& page = m_pages[index];
    if (page.prev != kNoPage)
        m_pages[page.prev].next = page.next;
    else
        m_free_heads[order] = page.next;
    if (page.next != kNoPage)
        m_pages[page.next].prev = page.prev;
    else
        m_free_tails[order] = page.prev;
    page.next = page.prev = kNoPage;
    m_flags[index] = static_cast<uint8_t>(m_flags[index] & ~(kFreeHead | kCold));
    --m_free_counts[order];
}

// Puts a block on the free lists, merging it with its buddy for as long as
// the buddy is a whole free block of the same order and temperature: a warm
// block and a cold one stay apart, so that neither a device's buffers freed
// warm are held back for the pages beside them that held code, nor those
// pages handed out warm (alloc() thaws everything before it would fail).
void BuddyAllocator::free_block(uint64_t pfn, unsigned order, bool cold)
{
    while (order < kMaxOrder) {
        uint64_t buddy = pfn ^ (uint64_t(1) << order);
        if (!contains(buddy))
            break;
        uint8_t buddy_flags = flags(buddy);
        if (!(buddy_flags & kFreeHead) || info(buddy).order != order || bool(buddy_flags & kCold) != cold)
            break;
        remove_free(buddy, order);
        pfn = min(pfn, buddy);
        ++order;
    }
    push_free(pfn, order, cold);
}

size_t BuddyAllocator::free_range(uint64_t pfn, size_t count)
{
    // Clip to the span first (carefully: pfn + count may overflow).
    uint64_t span_end = m_base_pfn + m_page_count;
    uint64_t end = pfn + count < pfn ? UINT64_MAX : pfn + count;
    uint64_t begin = max(pfn, m_base_pfn);
    end = min(end, span_end);

    size_t added = 0;
    uint64_t cursor = begin;
    while (cursor < end) {
        // Frames handed over before are skipped, so overlapping calls (a
        // sloppy memory map) cannot put a frame on a free list twice.
        if (flags(cursor) & kUsable) {
            ++cursor;
            continue;
        }
        uint64_t run_end = cursor;
        mark_usable(run_end, end);
        added += run_end - cursor;
        m_free_pages += run_end - cursor;

        while (cursor < run_end) {
            unsigned order = 0;
            while (order < kMaxOrder) {
                uint64_t size = uint64_t(1) << (order + 1);
                if ((cursor & (size - 1)) != 0 || run_end - cursor < size)
                    break;
                ++order;
            }
            free_block(cursor, order);
            cursor += uint64_t(1) << order;
        }
    }
    m_total_pages += added;
    return added;
}

// Marks frames usable from `run_end` on, up to `end` or the first one that
// already is; `run_end` ends past the last marked. 32 flags a step where
// they are 8-byte aligned and none is usable (a fresh range, the usual
// case: four loads and four stores for 32 pages), singly at either end,
// where the run may stop.
void BuddyAllocator::mark_usable(uint64_t& run_end, uint64_t end)
{
    constexpr uint64_t kEveryUsable = 0x0101010101010101ull * kUsable;
    size_t index = run_end - m_base_pfn;
    size_t last = end - m_base_pfn;
    while (index < last && (index & 7) != 0 && !(m_flags[index] & kUsable))
        m_flags[index++] = kUsable;
    if ((index & 7) == 0) {
        while (last - index >= 32) {
            uint64_t words[4];
            memcpy(words, m_flags + index, sizeof(words));
            if ((words[0] | words[1] | words[2] | words[3]) & kEveryUsable)
                break;
            const uint64_t marked[4] = { kEveryUsable, kEveryUsable, kEveryUsable, kEveryUsable };
            memcpy(m_flags + index, marked, sizeof(marked));
            index += 32;
        }
        while (index < last && !(m_flags[index] & kUsable))
            m_flags[index++] = kUsable;
    }
    run_end = m_base_pfn + index;
}

void BuddyAllocator::set_hot_capacity(size_t capacity)
{
    m_hot_capacity = min(capacity, kHotCapacity);
    while (m_hot_count > m_hot_capacity) {
        uint64_t pfn = m_base_pfn + m_hot[--m_hot_count];
        flags(pfn) = static_cast<uint8_t>(flags(pfn) & ~kHot);
        free_block(pfn, 0);
    }
}

size_t BuddyAllocator::drain_hot()
{
    size_t drained = m_hot_count;
    size_t capacity = m_hot_capacity;
    set_hot_capacity(0);
    m_hot_capacity = capacity;
    return drained;
}

// Hot page `slot` off the stack (the last one moved into its place),
// allocated.
uint64_t BuddyAllocator::take_hot(size_t slot)
{
    uint32_t index = m_hot[slot];
    m_hot[slot] = m_hot[--m_hot_count];
    m_pages[index].order = 0;
    m_flags[index] = static_cast<uint8_t>((m_flags[index] & ~kHot) | kAllocHead);
    --m_free_pages;
    return m_base_pfn + index;
}

Result<uint64_t> BuddyAllocator::alloc(unsigned order)
{
    if (order > kMaxOrder)
        return Err(Error::EINVAL);
    if (order == 0 && m_hot_count)
        return take_hot(m_hot_count - 1);
    unsigned found = find_order(order);
    // Nothing that large: hot pages and the warm and cold halves of a
    // larger block may still lie apart.
    if (found == kOrderCount && drain_hot() + thaw())
        found = find_order(order);
    if (found == kOrderCount)
        return Err(Error::ENOMEM);

    return take_block(m_base_pfn + m_free_heads[found], found, order);
}

// The smallest order from `order` up whose list has a block that is not
// cold (a list whose head is cold has only cold blocks); failing that, the
// smallest with a cold one; kOrderCount when every list is empty.
unsigned BuddyAllocator::find_order(unsigned order) const
{
    unsigned found = kOrderCount;
    for (unsigned candidate = order; candidate < kOrderCount; ++candidate) {
        uint32_t head = m_free_heads[candidate];
        if (head == kNoPage)
            continue;
        if (!(m_flags[head] & kCold))
            return candidate;
        if (found == kOrderCount)
            found = candidate;
    }
    return found;
}

size_t BuddyAllocator::thaw()
{
    size_t thawed = 0;
    for (unsigned order = 0; order < kOrderCount; ++order) {
        // Warm blocks (and merged ones, of a higher order) go to the head:
        // the tail is cold until no cold block of this order is left.
        while (m_free_tails[order] != kNoPage && (m_flags[m_free_tails[order]] & kCold)) {
            uint64_t pfn = m_base_pfn + m_free_tails[order];
            remove_free(pfn, order);
            free_block(pfn, order, false);
            ++thawed;
        }
    }
    return thawed;
}

Result<uint64_t> BuddyAllocator::alloc_below(unsigned order, uint64_t limit_pfn)
{
    if (order > kMaxOrder)
        return Err(Error::EINVAL);
    // The lower part of a block is what take_block keeps, so a block of
    // any larger order starting low enough serves. Once more after a thaw,
    // as alloc() does.
    if (order == 0) {
        for (size_t slot = m_hot_count; slot-- > 0;) {
            if (m_base_pfn + m_hot[slot] < limit_pfn)
                return take_hot(slot);
        }
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
        for (unsigned found = order; found < kOrderCount; ++found) {
            for (uint32_t index = m_free_heads[found]; index != kNoPage; index = m_pages[index].next) {
                uint64_t pfn = m_base_pfn + index;
                if (pfn + (uint64_t(1) << order) <= limit_pfn)
                    return take_block(pfn, found, order);
            }
        }
        if (attempt == 0 && drain_hot() + thaw() == 0)
            break;
    }
    return Err(Error::ENOMEM);
}

// Takes the free block `pfn` of order `found` off its list, splitting it
// down to `order`: the lower half is kept, the upper halves go back.
uint64_t BuddyAllocator::take_block(uint64_t pfn, unsigned found, unsigned order)
{
    bool cold = flags(pfn) & kCold;
    remove_free(pfn, found);
    while (found > order) {
        --found;
        push_free(pfn + (uint64_t(1) << found), found, cold);
    }
    info(pfn).order = static_cast<uint8_t>(order);
    flags(pfn) = static_cast<uint8_t>(flags(pfn) | kAllocHead);
    m_free_pages -= size_t(1) << order;
    return pfn;
}

Result<void> BuddyAllocator::free(uint64_t pfn, bool cold)
{
    if (!contains(pfn) || !(flags(pfn) & kAllocHead))
        return Err(Error::EINVAL);
    unsigned order = info(pfn).order;
    flags(pfn) = static_cast<uint8_t>(flags(pfn) & ~kAllocHead);
    m_free_pages += size_t(1) << order;
    if (order == 0 && !cold && m_hot_count < m_hot_capacity) {
        flags(pfn) = static_cast<uint8_t>(flags(pfn) | kHot);
        m_hot[m_hot_count++] = static_cast<uint32_t>(pfn - m_base_pfn);
        return {};
    }
    free_block(pfn, order, cold);
    return {};
}

Result<unsigned> BuddyAllocator::allocated_order(uint64_t pfn) const
{
    if (!contains(pfn) || !(flags(pfn) & kAllocHead))
        return Err(Error::EINVAL);
    return unsigned(info(pfn).order);
}

size_t BuddyAllocator::free_blocks(unsigned order) const { return order < kOrderCount ? m_free_counts[order] : 0; }

bool BuddyAllocator::check_invariants() const
{
    size_t free_heads_seen = 0;
    size_t free_pages = 0;
    for (unsigned order = 0; order < kOrderCount; ++order) {
        size_t count = 0;
        uint32_t prev = kNoPage;
        bool cold_seen = false;
        for (uint32_t index = m_free_heads[order]; index != kNoPage; index = m_pages[index].next) {
            if (index >= m_page_count || ++count > m_page_count)
                return false;
            const PageInfo& page = m_pages[index];
            uint8_t page_flags = m_flags[index];
            uint64_t pfn = m_base_pfn + index;
            uint64_t size = uint64_t(1) << order;
            if (page.prev != prev || page.order != order || (page_flags & kAllocHead) || !(page_flags & kFreeHead)
                || (pfn & (size - 1)) != 0 || index + size > m_page_count)
                return false;
            // Warm blocks first, then cold ones.
            if (cold_seen && !(page_flags & kCold))
                return false;
            cold_seen = page_flags & kCold;
            for (uint64_t i = 0; i < size; ++i) {
                uint8_t member = m_flags[index + i];
                if (!(member & kUsable) || (i > 0 && (member & (kFreeHead | kAllocHead | kCold | kHot))))
                    return false;
            }
            prev = index;
        }
        if (prev != m_free_tails[order] || count != m_free_counts[order])
            return false;
        free_heads_seen += count;
        free_pages += count << order;
    }
    if (m_hot_count > m_hot_capacity)
        return false;
    for (size_t slot = 0; slot < m_hot_count; ++slot) {
        if (m_hot[slot] >= m_page_count)
            return false;
        if ((m_flags[m_hot[slot]] & (kUsable | kHot | kFreeHead | kAllocHead | kCold)) != (kUsable | kHot))
            return false;
    }
    size_t heads = 0;
    size_t usable = 0;
    size_t hot = 0;
    for (size_t i = 0; i < m_page_count; ++i) {
        if ((m_flags[i] & kCold) && !(m_flags[i] & kFreeHead))
            return false;
        heads += (m_flags[i] & kFreeHead) ? 1 : 0;
        usable += (m_flags[i] & kUsable) ? 1 : 0;
        hot += (m_flags[i] & kHot) ? 1 : 0;
    }
    return heads == free_heads_seen && hot == m_hot_count && free_pages + hot == m_free_pages
        && usable == m_total_pages;
}

} // namespace keel
