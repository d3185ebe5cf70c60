// The cached blocks: lookup, reading (on demand and ahead), dirtying,
// write-back and reclaim. Every buffer's state is one of BufferState's
// (internal.h) and changes only under the cache lock; requests are
// submitted without it, since a device may complete them inline.
#include "bcache/internal.h"
#include "lib/base/assert.h"
#include "lib/base/string.h"

namespace keel::bcache {

namespace {

struct CacheState {
    Buffer** buckets = nullptr;
    size_t bucket_mask = 0;
    BufferList reclaimable; // oldest first
    size_t limit = 0;
    size_t bytes = 0;
    size_t buffers = 0;
    size_t held = 0;
    size_t dirty = 0;
    size_t in_flight = 0;
    uint64_t hits = 0, misses = 0, readahead = 0, writes = 0, reclaimed = 0;
    bool started = false;
};

CacheState g_cache GUARDED_BY(g_cache_lock);

Buffer* buffer_of(keel_buffer* pub) { return reinterpret_cast<Buffer*>(pub); }
static_assert(__builtin_offsetof(Buffer, pub) == 0);

size_t bucket_of(const DeviceCache& device, uint64_t block) REQUIRES(g_cache_lock)
{
    uint64_t key = (reinterpret_cast<uintptr_t>(&device) >> 4) ^ (block * 0x9e3779b97f4a7c15ull);
    key ^= key >> 32;
    return size_t(key) & g_cache.bucket_mask;
}

Buffer* lookup(DeviceCache& device, uint64_t block) REQUIRES(g_cache_lock)
{
    for (Buffer* buffer = g_cache.buckets[bucket_of(device, block)]; buffer; buffer = buffer->hash_next) {
        if (buffer->device == &device && buffer->pub.block == block)
            return buffer;
    }
    return nullptr;
}

void hash_insert(Buffer& buffer) REQUIRES(g_cache_lock)
{
    Buffer*& head = g_cache.buckets[bucket_of(*buffer.device, buffer.pub.block)];
    buffer.hash_next = head;
    head = &buffer;
    buffer.device->buffers++;
    g_cache.buffers++;
    g_cache.bytes += buffer.pub.size;
}

void hash_remove(Buffer& buffer) REQUIRES(g_cache_lock)
{
    Buffer** link = &g_cache.buckets[bucket_of(*buffer.device, buffer.pub.block)];
    while (*link != &buffer) {
        VERIFY(*link);
        link = &(*link)->hash_next;
    }
    *link = buffer.hash_next;
    buffer.hash_next = nullptr;
    buffer.device->buffers--;
    g_cache.buffers--;
    g_cache.bytes -= buffer.pub.size;
}

// Returns the bytes of block data this gave back: a run's memory goes with
// the last of its blocks.
size_t free_buffer(Buffer* buffer)
{
    if (!buffer)
        return 0;
    size_t freed = 0;
    if (!buffer->run) {
        platform_free(buffer->pub.data);
        freed = buffer->pub.size;
    } else if (__atomic_sub_fetch(&buffer->run->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        freed = size_t(buffer->run->count) * buffer->pub.size;
        platform_free(buffer->run->data);
        platform_free(buffer->run);
    }
    buffer->~Buffer();
    platform_free(buffer);
    return freed;
}

void take_victim(Buffer& buffer, size_t& taken, BufferList& victims) REQUIRES(g_cache_lock)
{
    g_cache.reclaimable.remove(buffer);
    hash_remove(buffer);
    taken += buffer.pub.size;
    g_cache.reclaimed++;
    victims.push_back(buffer);
}

// Oldest unheld clean blocks onto `victims` until `bytes` more fit under
// the limit (or `want` bytes were taken, when nonzero). A block read ahead
// in a run takes the run's other idle blocks with it: the run's memory is
// freed only with the last of them.
void evict(size_t bytes, size_t want, BufferList& victims) REQUIRES(g_cache_lock)
{
    size_t taken = 0;
    while (Buffer* buffer = g_cache.reclaimable.first()) {
        bool over = g_cache.bytes + bytes > g_cache.limit;
        if (want ? taken >= want : !over)
            break;
        take_victim(*buffer, taken, victims);
        if (Run* run = buffer->run) {
            uint64_t first = buffer->pub.block - uint64_t(buffer->pub.data - run->data) / buffer->pub.size;
            for (uint32_t i = 0; i < run->count; i++) {
                Buffer* sibling = lookup(*buffer->device, first + i);
                if (sibling && sibling->run == run && sibling->is_reclaimable())
                    take_victim(*sibling, taken, victims);
            }
        }
    }
}

void hold(Buffer& buffer) REQUIRES(g_cache_lock)
{
    if (buffer.is_reclaimable())
        g_cache.reclaimable.remove(buffer);
    buffer.refs++;
    buffer.device->held++;
    g_cache.held++;
}

void make_reclaimable_if_idle(Buffer& buffer) REQUIRES(g_cache_lock)
{
    if (buffer.is_reclaimable())
        g_cache.reclaimable.push_back(buffer);
}

void release(Buffer& buffer) REQUIRES(g_cache_lock)
{
    VERIFY(buffer.refs > 0 && buffer.device->held > 0);
    buffer.refs--;
    buffer.device->held--;
    g_cache.held--;
    make_reclaimable_if_idle(buffer);
}

void mark_dirty_locked(Buffer& buffer) REQUIRES(g_cache_lock)
{
    switch (buffer.state) {
    case BufferState::Empty:
    case BufferState::Clean:
    case BufferState::ReadFailed:
        buffer.state = BufferState::Dirty;
        buffer.device->dirty.push_back(buffer);
        g_cache.dirty++;
        return;
    case BufferState::Dirty:
    case BufferState::WriteFailed: return;
    case BufferState::Writing:
        // The write in flight may have taken the old bytes or the new:
        // write again once it is done.
        buffer.redirtied = true;
        return;
    case BufferState::Reading: break;
    }
    VERIFY_NOT_REACHED();
}

// ---- requests

void io_started(DeviceCache& device) REQUIRES(g_cache_lock)
{
    device.in_flight++;
    g_cache.in_flight++;
}

void io_finished(DeviceCache& device) REQUIRES(g_cache_lock)
{
    device.in_flight--;
    g_cache.in_flight--;
    platform_wake_all();
}

void read_done(BlockRequest& request)
{
    Buffer& buffer = *static_cast<Buffer*>(request.context);
    CacheLockGuard guard;
    buffer.state = request.status == kBlockOk ? BufferState::Clean : BufferState::ReadFailed;
    make_reclaimable_if_idle(buffer);
    io_finished(*buffer.device);
}

// A read-ahead run's one request (its first buffer's) for all its blocks.
// A failed run leaves each block ReadFailed, so a reader reads it again
// alone and only a block that is really unreadable fails.
void run_read_done(BlockRequest& request)
{
    Run& run = *static_cast<Buffer*>(request.context)->run;
    BufferState state = request.status == kBlockOk ? BufferState::Clean : BufferState::ReadFailed;
    CacheLockGuard guard;
    // A device that fails one (a bad sector: the block layer cuts a run to
    // what its driver takes) reads ahead a block at a time from now on, so
    // a bad stretch fails one block's request at a time, not a run's.
    if (state == BufferState::ReadFailed)
        run.buffers[0]->device->single_blocks = true;
    for (uint32_t i = 0; i < run.count; i++) {
        Buffer& buffer = *run.buffers[i];
        VERIFY(buffer.state == BufferState::Reading); // never dropped while read
        buffer.state = state;
        make_reclaimable_if_idle(buffer);
    }
    io_finished(*run.buffers[0]->device);
}

void write_done(BlockRequest& request)
{
    Buffer& buffer = *static_cast<Buffer*>(request.context);
    DeviceCache& device = *buffer.device;
    CacheLockGuard guard;
    buffer.refs--; // the write's own hold
    if (request.status != kBlockOk) {
        if (device.write_error == kBlockOk)
            device.write_error = request.status;
        buffer.state = BufferState::WriteFailed;
    } else if (buffer.redirtied) {
        buffer.state = BufferState::Dirty;
    } else {
        buffer.state = BufferState::Clean;
    }
    buffer.redirtied = false;
    if (buffer.is_dirty()) {
        device.dirty.push_back(buffer);
        g_cache.dirty++;
    }
    make_reclaimable_if_idle(buffer);
    io_finished(device);
}

// Called without the lock: the device may complete the request inline.
// `blocks` > 1: a read-ahead run, its blocks' data following the buffer's.
void submit(DeviceCache& device, Buffer& buffer, BlockOp op, BlockCompletion complete, uint32_t blocks = 1)
{
    BlockRequest& request = buffer.request;
    request.op = op;
    request.sectors = device.sectors_per_block * blocks;
    request.sector = buffer.pub.block * device.sectors_per_block;
    request.data = buffer.pub.data;
    request.complete = complete;
    request.context = &buffer;
    request.status = kBlockOk;
    device.device->ops->submit(*device.device, request);
}

// Starts writing every dirty block of the device; returns how many.
size_t write_back(DeviceCache& device)
{
    BufferList batch;
    {
        CacheLockGuard guard;
        while (Buffer* buffer = device.dirty.pop_front()) {
            buffer->state = BufferState::Writing;
            buffer->redirtied = false;
            buffer->refs++;
            g_cache.dirty--;
            g_cache.writes++;
            io_started(device);
            batch.push_back(*buffer);
        }
    }
    size_t count = 0;
    while (Buffer* buffer = batch.pop_front()) {
        submit(device, *buffer, BlockOp::Write, write_done);
        count++;
    }
    return count;
}

struct FlushWait {
    DeviceCache* device;
    bool done;
    BlockRequest request;
};

void flush_done(BlockRequest& request)
{
    auto* wait = static_cast<FlushWait*>(request.context);
    CacheLockGuard guard;
    wait->done = true;
    io_finished(*wait->device);
}

Error flush(DeviceCache& device)
{
    FlushWait wait { &device, false, {} };
    wait.request.op = BlockOp::Flush;
    wait.request.complete = flush_done;
    wait.request.context = &wait;
    {
        CacheLockGuard guard;
        io_started(device);
    }
    device.device->ops->submit(*device.device, wait.request);
    CacheLockGuard guard;
    while (!wait.done)
        platform_wait();
    return wait.request.status;
}

// Under pressure: write back every device that has dirty blocks, so that
// they become clean and can be dropped. Each device stays pinned while its
// blocks are written.
BlockDevice* next_dirty_device(BlockDevice* after) REQUIRES(g_cache_lock)
{
    BlockDevice* device = after ? registered_devices().next(*after) : registered_devices().first();
    while (device && (device->cache->dirty.is_empty() || device->cache->opens == 0))
        device = registered_devices().next(*device);
    if (device)
        device->cache->opens++;
    return device;
}

void write_back_everything()
{
    BlockDevice* device;
    {
        CacheLockGuard guard;
        device = next_dirty_device(nullptr);
    }
    while (device) {
        write_back(*device->cache);
        BlockDevice* next;
        {
            CacheLockGuard guard;
            wait_idle(*device->cache);
            next = next_dirty_device(device);
        }
        put_device(*device->cache);
        device = next;
    }
}

// Room for `bytes` more: drop clean blocks, and with `write_dirty` write
// dirty ones back first when that is not enough. The limit is soft: a
// cache full of held blocks still grows.
void make_room(size_t bytes, bool write_dirty)
{
    BufferList victims;
    bool still_over;
    bool dirty;
    {
        CacheLockGuard guard;
        evict(bytes, 0, victims);
        still_over = g_cache.bytes + bytes > g_cache.limit;
        dirty = g_cache.dirty > 0;
    }
    free_buffers(victims);
    if (!still_over || !dirty || !write_dirty)
        return;
    write_back_everything();
    {
        CacheLockGuard guard;
        evict(bytes, 0, victims);
    }
    free_buffers(victims);
}

Buffer* allocate_buffer(DeviceCache& device, uint32_t size)
{
    auto* memory = platform_alloc(sizeof(Buffer));
    auto* data = static_cast<uint8_t*>(platform_alloc(size));
    if (!memory || !data) {
        platform_free(memory);
        platform_free(data);
        return nullptr;
    }
    auto* buffer = new (memory) Buffer {};
    buffer->pub = { data, 0, size, 0 };
    buffer->device = &device;
    return buffer;
}

// `count` buffers of consecutive blocks whose data is one allocation (a
// run), so that one request reads them all; a single block gets a buffer
// of its own. False, with nothing allocated, when memory is short.
bool allocate_run(DeviceCache& device, uint32_t size, uint32_t count, Buffer** out)
{
    if (count == 1) {
        out[0] = allocate_buffer(device, size);
        return out[0] != nullptr;
    }
    auto* run = static_cast<Run*>(platform_alloc(sizeof(Run)));
    auto* data = static_cast<uint8_t*>(platform_alloc(size_t(size) * count));
    uint32_t made = 0;
    if (run && data) {
        *run = { data, count, count, {} };
        for (; made < count; made++) {
            void* memory = platform_alloc(sizeof(Buffer));
            if (!memory)
                break;
            out[made] = new (memory) Buffer {};
            out[made]->pub = { data + size_t(made) * size, 0, size, 0 };
            out[made]->device = &device;
            out[made]->run = run;
            run->buffers[made] = out[made];
        }
        if (made == count)
            return true;
    }
    platform_free(data);
    platform_free(run);
    for (uint32_t i = 0; i < made; i++) {
        out[i]->~Buffer();
        platform_free(out[i]);
    }
    return false;
}

Result<Buffer*> new_buffer(DeviceCache& device)
{
    uint32_t size;
    {
        CacheLockGuard guard;
        size = device.block_size;
    }
    make_room(size, true);
    if (Buffer* buffer = allocate_buffer(device, size))
        return buffer;
    // The heap ran dry: give it every clean block and try once more.
    bcache_reclaim(SIZE_MAX);
    if (Buffer* buffer = allocate_buffer(device, size))
        return buffer;
    return Err(Error::ENOMEM);
}

Result<keel_buffer*> get_block(BlockHandle& handle, uint64_t block, bool zero)
{
    DeviceCache& device = *handle.device;
    if (zero && !handle.writable)
        return Err(Error::EROFS);
    Buffer* fresh = nullptr;
    Buffer* buffer = nullptr;
    platform_lock();
    for (;;) {
        if (block >= device.block_count) {
            uint64_t count = device.block_count;
            platform_unlock();
            free_buffer(fresh);
            platform_log("%s: block %llu is past the end of the device (%llu blocks of %u bytes)", device.device->name,
                (unsigned long long)block, (unsigned long long)count, device.block_size);
            return Err(Error::EIO);
        }
        buffer = lookup(device, block);
        if (buffer) {
            g_cache.hits++;
            hold(*buffer);
            break;
        }
        if (fresh && fresh->pub.size == device.block_size) {
            buffer = exchange(fresh, nullptr);
            buffer->pub.block = block;
            hash_insert(*buffer);
            g_cache.misses++;
            hold(*buffer);
            break;
        }
        platform_unlock();
        free_buffer(fresh);
        auto allocated = new_buffer(device);
        if (allocated.is_error())
            return Err(allocated.error());
        fresh = allocated.value();
        platform_lock();
    }
    if (zero) {
        while (buffer->state == BufferState::Reading)
            platform_wait();
        memset(buffer->pub.data, 0, buffer->pub.size);
        mark_dirty_locked(*buffer);
        platform_unlock();
        free_buffer(fresh);
        return &buffer->pub;
    }
    bool read_once = false;
    for (;;) {
        switch (buffer->state) {
        case BufferState::Reading: platform_wait(); continue;
        case BufferState::Empty:
        case BufferState::ReadFailed:
            if (read_once) {
                release(*buffer);
                platform_unlock();
                free_buffer(fresh);
                platform_log("%s: reading block %llu failed", device.device->name, (unsigned long long)block);
                return Err(Error::EIO);
            }
            buffer->state = BufferState::Reading;
            io_started(device);
            platform_unlock();
            submit(device, *buffer, BlockOp::Read, read_done);
            read_once = true;
            platform_lock();
            continue;
        case BufferState::Clean:
        case BufferState::Dirty:
        case BufferState::Writing:
        case BufferState::WriteFailed: break;
        }
        break;
    }
    platform_unlock();
    free_buffer(fresh);
    return &buffer->pub;
}

} // namespace

// ---- for registry.cpp

void free_buffers(BufferList& list)
{
    while (Buffer* buffer = list.pop_front())
        free_buffer(buffer);
}

Result<void> ensure_started()
{
    {
        CacheLockGuard guard;
        if (g_cache.started)
            return {};
    }
    size_t limit = platform_default_limit();
    // About one bucket per two 4 KiB blocks the limit allows.
    size_t count = 256;
    while (count < 16384 && count * 8192 < limit)
        count *= 2;
    // NOLINTNEXTLINE(bugprone-sizeof-expression): the buckets are pointers, by design
    auto** buckets = static_cast<Buffer**>(platform_alloc(count * sizeof(Buffer*)));
    if (!buckets)
        return Err(Error::ENOMEM);
    // NOLINTNEXTLINE(bugprone-sizeof-expression): as above
    memset(buckets, 0, count * sizeof(Buffer*));
    {
        CacheLockGuard guard;
        if (!g_cache.started) {
            g_cache.buckets = exchange(buckets, nullptr);
            g_cache.bucket_mask = count - 1;
            if (g_cache.limit == 0)
                g_cache.limit = limit;
            g_cache.started = true;
        }
    }
    if (buckets) {
        platform_free(buckets);
        return {};
    }
    platform_started();
    return {};
}

void wait_idle(DeviceCache& device)
{
    while (device.in_flight > 0)
        platform_wait();
}

void set_geometry(DeviceCache& device, uint32_t block_size)
{
    BlockDevice& disk = *device.device;
    device.block_size = block_size;
    device.block_shift = __builtin_ctz(block_size);
    device.sectors_per_block = block_size / disk.sector_size;
    device.block_count = disk.sector_count / device.sectors_per_block;
}

Result<void> sync_device(DeviceCache& device)
{
    write_back(device);
    bool has_writers;
    {
        CacheLockGuard guard;
        wait_idle(device);
        has_writers = device.writers > 0;
    }
    Error flushed = kBlockOk;
    if (has_writers && !device.device->read_only)
        flushed = flush(device);
    CacheLockGuard guard;
    Error error = device.write_error != kBlockOk ? device.write_error : flushed;
    device.write_error = kBlockOk;
    if (error != kBlockOk) {
        size_t left = 0;
        for (Buffer& buffer : device.dirty)
            left += buffer.state == BufferState::WriteFailed;
        platform_log(
            "%s: write-back failed (%s); %zu block(s) stay dirty", device.device->name, error_name(error), left);
        return Err(error);
    }
    return {};
}

void drop_device_buffers(DeviceCache& device, bool discard_dirty, BufferList& victims, size_t* discarded)
{
    size_t lost = 0;
    for (size_t i = 0; g_cache.buckets && i <= g_cache.bucket_mask; i++) {
        for (Buffer* buffer = g_cache.buckets[i]; buffer;) {
            Buffer* next = buffer->hash_next;
            bool droppable = buffer->device == &device && buffer->refs == 0
                && (buffer->is_reclaimable() || (discard_dirty && buffer->is_dirty()));
            if (droppable) {
                if (buffer->is_dirty()) {
                    lost++;
                    g_cache.dirty--;
                }
                buffer->list_node.unlink();
                hash_remove(*buffer);
                victims.push_back(*buffer);
            }
            buffer = next;
        }
    }
    if (discarded)
        *discarded = lost;
}

} // namespace keel::bcache

namespace keel {

using namespace bcache;

Result<keel_buffer*> bcache_read(BlockHandle& handle, uint64_t block) { return get_block(handle, block, false); }

Result<keel_buffer*> bcache_zero(BlockHandle& handle, uint64_t block) { return get_block(handle, block, true); }

void bcache_put(keel_buffer* pub)
{
    if (!pub)
        return;
    BufferList victims;
    {
        CacheLockGuard guard;
        release(*buffer_of(pub));
        // Stay within the limit even when no one asks for new blocks.
        evict(0, 0, victims);
    }
    free_buffers(victims);
}

void bcache_mark_dirty(keel_buffer* pub)
{
    Buffer& buffer = *buffer_of(pub);
    CacheLockGuard guard;
    VERIFY(buffer.refs > 0);
    if (buffer.device->writers == 0) {
        platform_log("%s: block %llu marked dirty on a device not open for writing; ignored",
            buffer.device->device->name, (unsigned long long)buffer.pub.block);
        return;
    }
    mark_dirty_locked(buffer);
}

void bcache_readahead(BlockHandle& handle, uint64_t block, uint32_t count)
{
    DeviceCache& device = *handle.device;
    if (count > kReadaheadMax)
        count = kReadaheadMax;
    uint64_t end = block + count;
    for (uint64_t number = block; number < end;) {
        uint32_t size;
        uint32_t run = 0;
        {
            CacheLockGuard guard;
            if (end > device.block_count)
                end = device.block_count;
            while (number < end && lookup(device, number))
                number++;
            uint32_t most = device.single_blocks ? 1 : kRunMaxBlocks;
            while (run < most && number + run < end && !lookup(device, number + run))
                run++;
            size = device.block_size;
        }
        if (run == 0)
            return;
        while (run & (run - 1)) // a power of two: the heap rounds up to one
            run &= run - 1;
        // Read-ahead only takes memory that is free or clean, and a
        // shorter run what a whole one would not fit in.
        make_room(size_t(size) * run, false);
        {
            CacheLockGuard guard;
            while (run > 1 && g_cache.bytes + size_t(size) * run > g_cache.limit)
                run /= 2;
            if (g_cache.bytes + size > g_cache.limit)
                return;
        }
        Buffer* buffers[kRunMaxBlocks];
        while (!allocate_run(device, size, run, buffers)) {
            if (run == 1)
                return;
            run /= 2; // no room for that much in one piece: a shorter run
        }
        bool raced = false;
        {
            CacheLockGuard guard;
            for (uint32_t i = 0; i < run && !raced; i++)
                raced = lookup(device, number + i) || device.block_size != size;
            for (uint32_t i = 0; i < run && !raced; i++) {
                buffers[i]->pub.block = number + i;
                buffers[i]->state = BufferState::Reading;
                hash_insert(*buffers[i]);
                g_cache.readahead++;
            }
            if (!raced)
                io_started(device);
        }
        if (raced) {
            // Someone else reads (or resized) them meanwhile: leave them.
            for (uint32_t i = 0; i < run; i++)
                free_buffer(buffers[i]);
            number++;
            continue;
        }
        submit(device, *buffers[0], BlockOp::Read, run == 1 ? read_done : run_read_done, run);
        number += run;
    }
}

Result<void> bcache_sync(BlockHandle& handle) { return sync_device(*handle.device); }

void bcache_set_limit(size_t bytes)
{
    BufferList victims;
    {
        CacheLockGuard guard;
        g_cache.limit = bytes;
        evict(0, 0, victims);
    }
    free_buffers(victims);
}

size_t bcache_reclaim(size_t bytes)
{
    BufferList victims;
    if (!platform_try_lock())
        return 0;
    evict(0, bytes ? bytes : 1, victims);
    platform_unlock();
    size_t freed = 0;
    while (Buffer* buffer = victims.pop_front())
        freed += free_buffer(buffer);
    return freed;
}

BcacheStats bcache_stats()
{
    CacheLockGuard guard;
    return { g_cache.limit, g_cache.bytes, g_cache.buffers, g_cache.dirty, g_cache.in_flight, g_cache.held,
        g_cache.hits, g_cache.misses, g_cache.readahead, g_cache.writes, g_cache.reclaimed };
}

} // namespace keel
