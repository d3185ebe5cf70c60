#include "lib/virtio/indirect_pool.h"

namespace keel::virtio {

namespace {
constexpr uint32_t kNone = 0xffffffffu;
}

Result<IndirectPool> IndirectPool::create(
    IndirectRecord* records, uint32_t count, const QueueArea& tables, Diagnostic* diagnostic)
{
    auto misaligned = [](uint64_t address) { return address % kDescriptorAlign != 0; };
    if (!records || count == 0 || !tables.address || misaligned(reinterpret_cast<uintptr_t>(tables.address))
        || misaligned(tables.device_address)) {
        if (diagnostic)
            diagnostic->fail(Error::EINVAL, "indirect pool: %u records, tables at %p (device 0x%llx), 16-byte aligned",
                count, tables.address, static_cast<unsigned long long>(tables.device_address));
        return Err(Error::EINVAL);
    }
    IndirectPool pool;
    pool.m_records = records;
    pool.m_count = count;
    pool.m_tables = tables;
    for (uint32_t i = 0; i < count; i++)
        records[i] = { nullptr, i + 1 < count ? i + 1 : kNone };
    pool.m_free_head = 0;
    pool.m_free_count = count;
    return pool;
}

IndirectRecord* IndirectPool::take()
{
    if (m_free_count == 0)
        return nullptr;
    IndirectRecord* record = &m_records[m_free_head];
    m_free_head = record->next_free;
    m_free_count--;
    return record;
}

void IndirectPool::give(IndirectRecord* record)
{
    record->token = nullptr;
    record->next_free = m_free_count ? m_free_head : kNone;
    m_free_head = uint32_t(record - m_records);
    m_free_count++;
}

IndirectTable IndirectPool::table_of(const IndirectRecord* record) const
{
    size_t offset = size_t(record - m_records) * kIndirectTableBytes;
    return { static_cast<uint8_t*>(m_tables.address) + offset, m_tables.device_address + offset, kIndirectMax };
}

Result<void> IndirectPool::add(SplitQueue& queue, const BufferSegment* out, uint32_t out_count, const BufferSegment* in,
    uint32_t in_count, void* token, Diagnostic* diagnostic)
{
    // The queue refuses a null token itself, but the record would hide it.
    if (!token) {
        if (diagnostic)
            diagnostic->fail(Error::EINVAL, "a chain needs a token");
        return Err(Error::EINVAL);
    }
    IndirectRecord* record = take();
    if (!record) {
        if (diagnostic)
            diagnostic->fail(Error::ENOSPC, "queue full: every indirect record is in flight");
        return Err(Error::ENOSPC);
    }
    record->token = token;
    uint32_t count = out_count + in_count;
    bool indirect = count >= 2 && count <= kIndirectMax;
    auto added = indirect ? queue.add_indirect(out, out_count, in, in_count, table_of(record), record, diagnostic)
                          : queue.add(out, out_count, in, in_count, record, diagnostic);
    if (added.is_error()) {
        give(record);
        return added;
    }
    m_indirect_chains += indirect;
    return {};
}

Result<UsedBuffer> IndirectPool::pop_used(SplitQueue& queue, Diagnostic* diagnostic)
{
    UsedBuffer used = TRY(queue.pop_used(diagnostic));
    // The token comes from the queue's private slots, which the device
    // cannot reach: it is one of our records.
    auto* record = static_cast<IndirectRecord*>(used.token);
    used.token = record->token;
    give(record);
    return used;
}

} // namespace keel::virtio
