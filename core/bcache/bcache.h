// The block cache: blocks of block devices in memory, shared by every
// filesystem (docs/block-cache.md). Reads are cached and can be started
// ahead of need; writes stay in memory, dirty, until a sync, the handle's
// close, power off, or the cache needing room writes them back. A dirty
// block is never dropped: only clean blocks that no one holds are
// reclaimed, to stay within the size limit or when the heap runs dry.
//
//     BlockHandle* disk = TRY(bcache_open("vda1", kBlockOpenWrite));
//     TRY(bcache_set_block_size(*disk, 4096));
//     keel_buffer* block = TRY(bcache_read(*disk, 17));
//     block->data[0] = 1;
//     bcache_mark_dirty(block);
//     bcache_put(block);
//     TRY(bcache_sync(*disk));
//     bcache_close(disk);
//
// Every function may sleep waiting for I/O; none may be called with a
// spinlock held. The cache's lock ranks after the VFS lock (filesystem
// operations call in with it held) and is taken by completions in
// interrupt handlers.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <keel/keel.h>

#include "bcache/block_device.h"
#include "lib/fsprobe/fsprobe.h"

namespace keel {

inline constexpr uint32_t kBlockOpenWrite = 1; // KEEL_BDEV_WRITE
// The core's own: read-only, allowed beside a writer (to look at a mounted
// device: lsblk -f). Such a handle cannot change the block size.
inline constexpr uint32_t kBlockOpenShared = 2;
inline constexpr uint32_t kCacheBlockMin = 512;
inline constexpr uint32_t kCacheBlockMax = 4096;
// Blocks one read-ahead call considers.
inline constexpr uint32_t kReadaheadMax = 256;
// The most blocks one read-ahead request reads: consecutive blocks not
// cached are read in runs of a power of two up to this, each run one
// request into one allocation its blocks share.
inline constexpr uint32_t kRunMaxBlocks = 32;

// An open device (keel_bdev in the ABI).
struct BlockHandle;

// `name` is a device name or "/dev/NAME". ENXIO (no such device), ENODEV
// (going away), EROFS (writing a read-only device), EBUSY (a writer and
// another opener), EINVAL, ENOMEM.
Result<BlockHandle*> bcache_open(const char* name, uint32_t flags);
// Writes back, flushes and closes; returns the write-back's error (the
// handle is closed regardless).
Result<void> bcache_close(BlockHandle* handle);

struct BlockHandleInfo {
    const char* name;
    uint64_t size; // bytes
    uint32_t sector_size;
    uint32_t block_size;
    bool read_only;
    bool writable; // opened for writing
};
BlockHandleInfo bcache_info(const BlockHandle& handle);
Result<void> bcache_set_block_size(BlockHandle& handle, uint32_t size);

Result<keel_buffer*> bcache_read(BlockHandle& handle, uint64_t block);

// The filesystem `name` holds (type, label, UUID), as blkid says; false
// when it cannot be read or holds none the probe knows.
bool bcache_identify(const char* name, fsprobe::Identity& out);

Result<keel_buffer*> bcache_zero(BlockHandle& handle, uint64_t block);
void bcache_put(keel_buffer* buffer);
void bcache_mark_dirty(keel_buffer* buffer);
void bcache_readahead(BlockHandle& handle, uint64_t block, uint32_t count);
Result<void> bcache_sync(BlockHandle& handle);
// Every device with dirty blocks (the console's sync, power off). Returns
// the first error; every device is attempted.
Result<void> bcache_sync_all();

// The limit on cached bytes (block data). Blocks someone holds, and dirty
// ones until written, may take the cache over it for a while.
void bcache_set_limit(size_t bytes);
// Drops up to `bytes` of clean blocks no one holds, oldest first; returns
// how many bytes it freed. The heap calls it when it runs dry.
size_t bcache_reclaim(size_t bytes);

struct BcacheStats {
    size_t limit;     // bytes
    size_t bytes;     // of block data cached
    size_t buffers;   // cached blocks
    size_t dirty;     // of them dirty (or written while being written)
    size_t in_flight; // requests submitted and not completed
    size_t held;      // buffers someone holds
    uint64_t hits, misses, readahead, writes, reclaimed;
};
BcacheStats bcache_stats();

} // namespace keel
