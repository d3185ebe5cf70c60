// The block cache's own objects, shared by its files; guarded by the
// cache lock (platform.h).
//
//   DeviceCache  a registered device: its geometry in blocks, who has it
//                open, its dirty blocks and requests in flight
//   Buffer       one cached block; `pub` is what modules see
//   BlockHandle  one open of a device (keel_bdev)
#pragma once

#include <keel/keel.h>

#include "bcache/bcache.h"
#include "bcache/platform.h"
#include "lib/base/intrusive_list.h"

namespace keel::bcache {

// Every state a cached block can be in, and what may happen next:
//
//   Empty -> Reading -> Clean | ReadFailed     (a read; ReadFailed reads again)
//   Clean -> Dirty                              (marked dirty)
//   Dirty | WriteFailed -> Writing -> Clean     (write-back)
//   Writing -> Dirty (redirtied meanwhile) | WriteFailed (the write failed)
//
// Dirty and WriteFailed blocks hold data the device does not have: they
// are never dropped. Clean, ReadFailed and Empty blocks no one holds are
// on the reclaim list (oldest first) and may be dropped at any time.
enum class BufferState : uint8_t { Empty, Reading, Clean, Dirty, Writing, ReadFailed, WriteFailed };

struct DeviceCache;

struct Buffer;

// Blocks read ahead together in one request: the memory their buffers
// share, freed with the last of them, and the buffers themselves (for the
// request's completion; they may be gone after it).
struct Run {
    uint8_t* data;
    uint32_t refs; // buffers still using it (atomic: they are freed without the lock)
    uint32_t count;
    Buffer* buffers[kRunMaxBlocks];
};

struct Buffer {
    keel_buffer pub; // first: a keel_buffer* is a Buffer*
    DeviceCache* device;
    Run* run = nullptr; // pub.data lies in it; else pub.data is the buffer's own
    BufferState state = BufferState::Empty;
    bool redirtied = false; // marked dirty while its write was in flight
    uint32_t refs = 0;      // holders, plus one while a write is in flight
    Buffer* hash_next = nullptr;
    // On the reclaim list (not held; Clean, ReadFailed or Empty), on its
    // device's dirty list (Dirty, WriteFailed), or on a write-back batch.
    IntrusiveListNode list_node;
    BlockRequest request;

    bool is_dirty() const { return state == BufferState::Dirty || state == BufferState::WriteFailed; }
    bool is_reclaimable() const
    {
        return refs == 0
            && (state == BufferState::Clean || state == BufferState::ReadFailed || state == BufferState::Empty);
    }
};

using BufferList = IntrusiveList<Buffer, &Buffer::list_node>;

struct DeviceCache {
    BlockDevice* device;
    uint32_t block_size;
    uint32_t block_shift;
    uint32_t sectors_per_block;
    uint64_t block_count;
    uint32_t opens = 0;         // handles, plus syncs in progress
    uint32_t writers = 0;       // handles opened for writing
    size_t buffers = 0;         // cached blocks of this device
    size_t held = 0;            // holds on them
    size_t in_flight = 0;       // requests submitted, not completed
    bool single_blocks = false; // a read-ahead run failed: no more runs
    // The first write or flush error since the last sync reported one.
    Error write_error = kBlockOk;
    BufferList dirty;
};

} // namespace keel::bcache

namespace keel {

struct BlockHandle {
    bcache::DeviceCache* device;
    bool writable;
};

} // namespace keel

namespace keel::bcache {

// ---- cache.cpp, for registry.cpp
// Allocates the hash table and the limit on first use.
Result<void> ensure_started();
// Writes back every dirty block of the device, waits for every request in
// flight, flushes; returns the first error since the last sync.
Result<void> sync_device(DeviceCache& device);
// Moves every buffer of the device no one holds onto `victims`; dirty
// ones only with `discard_dirty` (the device is going), counting them in
// `discarded`.
void drop_device_buffers(DeviceCache& device, bool discard_dirty, BufferList& victims, size_t* discarded = nullptr)
    REQUIRES(g_cache_lock);
// Frees buffers taken off the cache (without the lock).
void free_buffers(BufferList& list);
void set_geometry(DeviceCache& device, uint32_t block_size) REQUIRES(g_cache_lock);
// Waits (releasing the lock meanwhile) until no request of the device is in flight.
void wait_idle(DeviceCache& device) REQUIRES(g_cache_lock);

// ---- registry.cpp, for cache.cpp
IntrusiveList<BlockDevice, &BlockDevice::registry_node>& registered_devices() REQUIRES(g_cache_lock);
// Gives back a reference taken with `opens++` (a handle, or a sync that
// pinned the device); the last one drops the device's clean blocks and
// lets the driver go.
void put_device(DeviceCache& device);

} // namespace keel::bcache
