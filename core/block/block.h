// The block layer: disks that driver modules register (KABI_BLOCK_1.0,
// docs/devices.md), named by prefix and letter (vda, vdb, ...), with their
// MBR or GPT partitions (vda1, ...). Every disk and partition is a
// BlockDevice of the block cache's registry, so filesystems and the
// console open them by name. The layer queues requests up to the disk's
// queue depth, hands them to the driver and passes its completions on.
// Opening a disk or partition pins the driver's device (and so its
// module and its ancestors'); the disk belongs to the binding and is
// unregistered, with its partitions, when the binding ends.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <keel/keel.h>

#include "bcache/block_device.h"
#include "device/device.h"
#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel {

struct Disk;

inline constexpr uint32_t kDiskQueueDepthMax = 1024;
inline constexpr size_t kDiskPrefixMax = 8;
inline constexpr size_t kDiskPartitionsMax = 16;

// Checks `config` field by field (a module's table) and registers the disk
// on `device`, which must be probing or bound.
Result<Disk*> disk_register(Device& device, const keel_disk_config* config, Diagnostic& diagnostic);
void disk_complete(keel_block_request* request, int32_t status);
const char* disk_name(const Disk& disk);

// One request, synchronously: the console's and the partition reader's
// path to a BlockDevice without the cache. `data` is physically contiguous
// kernel memory of sectors * sector_size bytes (null for a flush).
Result<void> block_io(BlockDevice& device, BlockOp op, uint64_t sector, uint32_t sectors, void* data);

struct DiskInfo {
    const char* name;
    const char* device; // the driver's device ("virtio0", "0000:00:04.0")
    uint64_t sectors;
    uint32_t sector_size;
    uint32_t queue_depth;
    bool read_only;
    bool partition;
    uint64_t first_sector; // of a partition, on its disk
    uint64_t requests;     // submitted to the driver
    uint32_t in_flight;
    uint32_t waiting;
};
// Every disk, each followed by its partitions.
void disk_for_each(void (*visit)(const DiskInfo& info, void* arg), void* arg);

struct BlockStats {
    size_t disks;
    size_t partitions;
    size_t in_flight;
};
BlockStats block_stats();

} // namespace keel
