// A block device as the block cache sees it: a name, a geometry and a way
// to submit requests that complete later. This is the whole contract
// between the cache and whatever stores the blocks: the block layer
// implements it for real disks (virtio-blk, partitions), ramdisk.cpp for
// memory, and host tests for files. docs/block-cache.md says what an
// implementation must guarantee.
//
//     static const BlockDeviceOps ops { .submit = my_submit };
//     BlockDevice disk {};
//     set_name(disk, "vda");  disk.sector_size = 512;  disk.sector_count = n;  disk.ops = &ops;
//     TRY(block_device_register(disk));
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/intrusive_list.h"
#include "lib/base/result.h"

namespace keel {

// KEEL_BDEV_NAME_MAX: "vda1", "ram0".
inline constexpr size_t kBlockDeviceNameMax = 31;
inline constexpr uint32_t kSectorSizeMin = 512;
inline constexpr uint32_t kSectorSizeMax = 4096;
// A request's status when it succeeded.
inline constexpr Error kBlockOk = Error(0);

enum class BlockOp : uint8_t {
    Read,
    Write,
    Flush, // make every completed write durable (a volatile write cache)
};

struct BlockDevice;
struct BlockRequest;

// Called exactly once per request when it is done, with `status` set:
// from inside submit, from another thread, or from an interrupt handler
// (so it never sleeps or allocates). The submitter owns the request again
// once this is called.
using BlockCompletion = void (*)(BlockRequest& request);

struct BlockRequest {
    BlockOp op;
    uint32_t sectors; // Read/Write: how many, from `sector`
    uint64_t sector;
    uint8_t* data; // sectors * sector_size bytes of kernel memory
    BlockCompletion complete;
    void* context; // the submitter's
    Error status = kBlockOk;
    // The device's while it holds the request: its list node, and how the
    // block layer cuts it to its driver's limit (block/request_cut.h).
    IntrusiveListNode node;
    uint32_t cut_handed = 0; // sectors handed to the driver so far
    uint32_t cut_pieces = 0; // pieces handed so far
    uint32_t cut_out = 0;    // pieces the driver has not completed
};

struct BlockDeviceOps {
    // Starts `request`; errors come back through its completion (EIO for
    // a failed transfer, ENODEV once the device is gone). Called without
    // any spinlock held but possibly with the VFS lock held (a filesystem
    // reading its disk): it must not take a lock ranked before the VFS's.
    void (*submit)(BlockDevice& device, BlockRequest& request);
    // Optional: the first open and the last close, where the block layer
    // pins and unpins the driver. Runs under the VFS lock too; a failure
    // (ENODEV: the device is going) fails the open.
    Result<void> (*open)(BlockDevice& device);
    void (*release)(BlockDevice& device);
};

namespace bcache {
struct DeviceCache;
}

struct BlockDevice {
    // Set by the implementation before block_device_register.
    char name[kBlockDeviceNameMax + 1];
    uint32_t sector_size; // a power of two, kSectorSizeMin..kSectorSizeMax
    uint64_t sector_count;
    bool read_only;
    const BlockDeviceOps* ops;
    void* driver; // the implementation's

    // The cache's, from block_device_register on.
    bcache::DeviceCache* cache;
    IntrusiveListNode registry_node;
};

// Makes the device openable by name. EINVAL (a bad name or geometry, said
// in `diagnostic`), EEXIST (the name is taken), ENOMEM.
Result<void> block_device_register(BlockDevice& device, Diagnostic* diagnostic = nullptr);
// Takes it away again: EBUSY while it is open. Cached blocks are dropped;
// dirty ones were written back when the last opener closed it (those whose
// write failed are lost now, and logged).
Result<void> block_device_unregister(BlockDevice& device);
// Calls `visit` for every registered device, in registration order, with
// how many handles have it open.
void block_device_for_each(void (*visit)(const BlockDevice& device, uint32_t opens, void* arg), void* arg);
// The names of the first `max` registered devices, in registration order,
// copied out so that the caller may open them (no device may be opened
// under block_device_for_each's lock). Returns how many it copied.
using BlockDeviceName = char[kBlockDeviceNameMax + 1];
size_t block_device_names(BlockDeviceName* names, size_t max);

} // namespace keel
