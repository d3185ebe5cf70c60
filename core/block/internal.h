// The block layer's objects, shared by its files (block.h is the API).
#pragma once

#include "block/block.h"
#include "sync/spinlock.h"

namespace keel {

// The disk itself or one of its partitions: a BlockDevice of the cache's
// registry whose requests go to the disk's queue, `first_sector` on.
struct Volume {
    BlockDevice block {};
    Disk* disk = nullptr;
    uint64_t first_sector = 0;
    bool registered = false;
    DevicePin* pin = nullptr; // while open
    // Requests waiting for a slot of the disk's queue, oldest first.
    IntrusiveList<BlockRequest, &BlockRequest::node> waiting;
};

// One slot of the disk's queue: what the driver sees, and where it came from.
struct DiskRequest {
    keel_block_request pub {}; // first: the driver's pointer is ours
    BlockRequest* origin = nullptr;
    Disk* disk = nullptr;
    DiskRequest* next_free = nullptr;
};

struct Thread;

// A caller of the disk's dispatch, on its stack while it hands pieces to
// the driver (disk.cpp).
struct Dispatcher {
    Thread* thread;
    bool handing; // from taking a piece (through the driver's submit) until it looks for the next
    bool again;   // a completion came meanwhile: look for work once more
    Dispatcher* next;
};

struct Disk {
    Devres devres {}; // on the binding of `device`
    Device* device = nullptr;
    keel_disk_config config {};
    Volume whole;
    Volume parts[kDiskPartitionsMax];
    size_t part_count = 0;
    Spinlock lock;
    DiskRequest* slots = nullptr; // config.queue_depth of them
    DiskRequest* free_slots GUARDED_BY(lock) = nullptr;
    uint32_t in_flight GUARDED_BY(lock) = 0;
    uint32_t waiting GUARDED_BY(lock) = 0;
    size_t next_volume GUARDED_BY(lock) = 0;            // where the next waiting request is looked for
    Dispatcher* dispatchers GUARDED_BY(lock) = nullptr; // who is handing pieces to the driver, innermost first
    uint64_t requests = 0;
    IntrusiveListNode node;

    Disk();
};

extern const BlockDeviceOps kVolumeOps;

// Reads the disk's partition table and fills disk.parts (not registered).
void scan_partitions(Disk& disk);

} // namespace keel
