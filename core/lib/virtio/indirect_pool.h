// Indirect descriptor tables for a split virtqueue (VIRTIO_F_INDIRECT_DESC):
// one table of kIndirectMax descriptors per ring descriptor, in memory the
// caller allocated where the device can read it, and one record per table
// standing for a chain in flight. A chain of 2 to kIndirectMax segments
// goes into a free table and takes a single ring descriptor; a chain of
// one segment, or a longer one, goes into the ring directly. Either way the
// queue is handed the record as its token, so pop_used knows which table
// (if any) the chain held and returns the caller's own token.
//
// There are as many records as ring descriptors, so a record is free
// whenever the ring has room for a chain. Not thread-safe: the caller
// serialises, as for the queue itself.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/virtio/split_queue.h"

namespace keel::virtio {

constexpr uint32_t kIndirectMax = 16; // descriptors in one table
constexpr size_t kIndirectTableBytes = kIndirectMax * kDescriptorSize;

// The caller's memory for one record; never looked inside.
struct IndirectRecord {
    void* token;
    uint32_t next_free;
};

// Bytes of table memory a queue of `size` descriptors needs.
constexpr size_t indirect_pool_bytes(uint32_t size) { return size_t(size) * kIndirectTableBytes; }

class IndirectPool {
public:
    IndirectPool() = default;
    // `records`: `count` of them (the queue's size); `tables`: count *
    // kIndirectTableBytes, 16-byte aligned (EINVAL otherwise).
    static Result<IndirectPool> create(
        IndirectRecord* records, uint32_t count, const QueueArea& tables, Diagnostic* diagnostic = nullptr);

    // As SplitQueue::add, through a table when the chain fits one.
    Result<void> add(SplitQueue& queue, const BufferSegment* out, uint32_t out_count, const BufferSegment* in,
        uint32_t in_count, void* token, Diagnostic* diagnostic = nullptr);
    // As SplitQueue::pop_used, with the caller's token; the table is free again.
    Result<UsedBuffer> pop_used(SplitQueue& queue, Diagnostic* diagnostic = nullptr);

    uint32_t free_records() const { return m_free_count; }
    // Chains added through a table (the rest went into the ring directly).
    uint64_t indirect_chains() const { return m_indirect_chains; }

private:
    IndirectRecord* take();
    void give(IndirectRecord* record);
    IndirectTable table_of(const IndirectRecord* record) const;

    IndirectRecord* m_records = nullptr;
    uint32_t m_count = 0;
    uint32_t m_free_head = 0;
    uint32_t m_free_count = 0;
    QueueArea m_tables;
    uint64_t m_indirect_chains = 0;
};

} // namespace keel::virtio
