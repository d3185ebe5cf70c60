// Disks: registration from a driver's keel_disk_config (checked field by
// field, as every table a module hands the core), naming, the request
// queue with its depth, completions, pins while open, and the release
// when the binding ends.
#include "block/internal.h"
#include "block/request_cut.h"
#include "debug/stress.h"
#include "device/resources.h"
#include "lib/base/format.h"
#include "lib/base/new.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "log/log.h"
#include "mm/heap.h"
#include "sched/thread.h"

namespace keel {

namespace {

constexpr LockClass kQueueLockClass { "disk queue", LockRank::BlockQueue, false };
// What every config needs: up to and including submit.
constexpr size_t kMinimumConfigSize = offsetof(keel_disk_config, submit) + sizeof(keel_disk_submit_fn);

IntrusiveList<Disk, &Disk::node> g_disks GUARDED_BY(g_device_lock);
size_t g_disk_count = 0;
size_t g_partition_count = 0;

Volume& volume_of(BlockDevice& device) { return *static_cast<Volume*>(device.driver); }

// Fills `slot` from `piece` of `request` of `volume`; false when the
// buffer is not one the device can reach.
bool fill_slot(DiskRequest& slot, Volume& volume, BlockRequest& request, RequestPiece piece)
{
    Disk& disk = *volume.disk;
    slot.origin = &request;
    slot.pub = {};
    slot.pub.op = request.op == BlockOp::Read ? KEEL_BLOCK_READ
        : request.op == BlockOp::Write        ? KEEL_BLOCK_WRITE
                                              : KEEL_BLOCK_FLUSH;
    if (request.op == BlockOp::Flush)
        return true;
    uint8_t* data = request.data + size_t(piece.offset) * disk.config.sector_size;
    slot.pub.sectors = piece.sectors;
    slot.pub.sector = request.sector + piece.offset + volume.first_sector;
    slot.pub.data = data;
    slot.pub.dma = dma_direct_address(*disk.device, data, uint64_t(piece.sectors) * disk.config.sector_size);
    return slot.pub.dma != 0;
}

void fail_request(BlockRequest& request, Error error)
{
    request.status = error;
    request.complete(request);
}

// One piece to hand to the driver: its slot, and where it comes from.
struct Handout {
    DiskRequest* slot = nullptr;
    Volume* volume = nullptr;
    BlockRequest* request = nullptr;
    RequestPiece piece {};
};

// The next piece of a waiting request and a free slot for it, or false.
// Takes the slot; a request leaves its volume's queue with its last piece.
bool take_waiting(Disk& disk, Handout& out) REQUIRES(disk.lock)
{
    if (!disk.free_slots || disk.waiting == 0)
        return false;
    size_t volumes = disk.part_count + 1;
    for (size_t i = 0; i < volumes; i++) {
        size_t index = (disk.next_volume + i) % volumes;
        Volume& candidate = index == 0 ? disk.whole : disk.parts[index - 1];
        if (candidate.waiting.is_empty())
            continue;
        disk.next_volume = index + 1;
        out.slot = disk.free_slots;
        disk.free_slots = out.slot->next_free;
        disk.in_flight++;
        out.volume = &candidate;
        out.request = candidate.waiting.first();
        out.piece = cut_next(*out.request, disk.config.max_sectors);
        if (cut_all_handed(*out.request)) {
            candidate.waiting.pop_front();
            disk.waiting--;
        }
        return true;
    }
    return false;
}

// Hands pieces to the driver while there are waiting requests and free
// slots. Any number of callers may do it at once (each piece goes to one),
// but never one inside another on the same thread: a completion from
// inside the driver's submit (a driver that completes at once), or from an
// interrupt taken while this thread is handing a piece over, only asks
// the caller below it to look again. So submit never nests in submit,
// however many pieces a request has, and a completion in any other
// context refills the queue at once, as ever.
void dispatch(Disk& disk)
{
    Dispatcher self { current_thread(), false, false, nullptr };
    bool joined = false;
    for (;;) {
        Handout next;
        {
            SpinlockGuard guard(disk.lock);
            for (Dispatcher* caller = disk.dispatchers; caller && !joined; caller = caller->next) {
                if (caller->thread == self.thread) { // the innermost of this thread
                    if (!caller->handing)
                        break;
                    caller->again = true;
                    return;
                }
            }
            if (!joined) {
                self.next = disk.dispatchers;
                disk.dispatchers = &self;
                joined = true;
            }
            self.handing = false;
            if (!take_waiting(disk, next)) {
                if (!self.again) {
                    for (Dispatcher** link = &disk.dispatchers; *link; link = &(*link)->next) {
                        if (*link == &self) {
                            *link = self.next;
                            break;
                        }
                    }
                    return;
                }
                self.again = false;
                continue;
            }
            self.handing = true;
        }
        debug::stress_point();
        __atomic_add_fetch(&disk.requests, 1, __ATOMIC_RELAXED);
        if (fill_slot(*next.slot, *next.volume, *next.request, next.piece)) {
            disk.config.submit(disk.config.context, &next.slot->pub);
        } else {
            // Not reachable by the device: ends here, and the slot is free again.
            disk_complete(&next.slot->pub, -KEEL_EINVAL);
        }
    }
}

void volume_submit(BlockDevice& device, BlockRequest& request)
{
    Volume& volume = volume_of(device);
    Disk& disk = *volume.disk;
    if (request.op != BlockOp::Flush) {
        bool inside = request.sectors > 0 && request.sector <= device.sector_count
            && request.sectors <= device.sector_count - request.sector;
        if (!inside || !request.data)
            return fail_request(request, Error::EIO);
        if (request.op == BlockOp::Write && device.read_only)
            return fail_request(request, Error::EROFS);
    }
    cut_start(request);
    {
        SpinlockGuard guard(disk.lock);
        volume.waiting.push_back(request);
        disk.waiting++;
    }
    dispatch(disk);
}

Result<void> volume_open(BlockDevice& device)
{
    Volume& volume = volume_of(device);
    char holder[DevicePin::kHolderSize];
    format(holder, sizeof(holder), "block device %s (open)", device.name);
    Diagnostic problem;
    auto pin = device_pin(*volume.disk->device, holder, problem);
    if (pin.is_error())
        return Err(Error::ENODEV);
    volume.pin = pin.value();
    return {};
}

void volume_release(BlockDevice& device)
{
    Volume& volume = volume_of(device);
    device_unpin(volume.pin);
    volume.pin = nullptr;
}

bool valid_prefix(const char* prefix)
{
    size_t length = strnlen(prefix, kDiskPrefixMax + 1);
    if (length == 0 || length > kDiskPrefixMax)
        return false;
    for (size_t i = 0; i < length; i++) {
        if (prefix[i] < 'a' || prefix[i] > 'z')
            return false;
    }
    return true;
}

Result<void> validate_config(const keel_disk_config* config, Diagnostic& diagnostic)
{
    if (!config)
        return diagnostic.fail(Error::EINVAL, "config is NULL");
    if (config->version == 0 || config->version > KEEL_DISK_CONFIG_VERSION)
        return diagnostic.fail(
            Error::EINVAL, "version %u is not supported (1..%u)", config->version, KEEL_DISK_CONFIG_VERSION);
    if (config->size < kMinimumConfigSize || config->size % sizeof(void*) != 0)
        return diagnostic.fail(Error::EINVAL, "size %u is too small or misaligned (at least %zu, a multiple of %zu)",
            config->size, kMinimumConfigSize, sizeof(void*));
    if (!config->prefix || !valid_prefix(config->prefix))
        return diagnostic.fail(Error::EINVAL, "prefix is not 1 to %zu of [a-z]", kDiskPrefixMax);
    uint32_t sector_size = config->sector_size;
    if (sector_size < kSectorSizeMin || sector_size > kSectorSizeMax || (sector_size & (sector_size - 1)) != 0)
        return diagnostic.fail(Error::EINVAL, "sector_size %u is not 512, 1024, 2048 or 4096", sector_size);
    if (config->sector_count == 0 || config->sector_count > UINT64_MAX / sector_size)
        return diagnostic.fail(Error::EINVAL, "sector_count %llu is 0 or too large for %u-byte sectors",
            (unsigned long long)config->sector_count, sector_size);
    if (config->queue_depth == 0 || config->queue_depth > kDiskQueueDepthMax)
        return diagnostic.fail(
            Error::EINVAL, "queue_depth %u is outside 1..%u", config->queue_depth, kDiskQueueDepthMax);
    if (config->flags & ~KEEL_DISK_READ_ONLY)
        return diagnostic.fail(Error::EINVAL, "flags 0x%x: only KEEL_DISK_READ_ONLY (0x1) is defined", config->flags);
    if (!config->submit)
        return diagnostic.fail(Error::EINVAL, "required operation submit is NULL");
    return {};
}

bool name_taken(const char* name)
{
    struct Search {
        const char* name;
        bool found;
    } search { name, false };
    block_device_for_each(
        [](const BlockDevice& device, uint32_t, void* arg) {
            auto* search = static_cast<Search*>(arg);
            search->found |= strcmp(device.name, search->name) == 0;
        },
        &search);
    return search.found;
}

void setup_volume(Volume& volume, Disk& disk, uint64_t first, uint64_t sectors)
{
    volume.disk = &disk;
    volume.first_sector = first;
    volume.block.sector_size = disk.config.sector_size;
    volume.block.sector_count = sectors;
    volume.block.read_only = disk.config.flags & KEEL_DISK_READ_ONLY;
    volume.block.ops = &kVolumeOps;
    volume.block.driver = &volume;
}

void unregister_volume(Volume& volume)
{
    if (!volume.registered)
        return;
    // Opening pins the device, and a pinned device is not unbound: nothing
    // has the volume open now.
    auto removed = block_device_unregister(volume.block);
    VERIFY(removed.is_ok());
    volume.registered = false;
}

void destroy_disk(Disk* disk)
{
    kfree(disk->slots);
    disk->~Disk();
    kfree(disk);
}

// The binding ends (after remove()): the volumes go, then the disk.
void release_disk(Devres& resource)
{
    Disk* disk = reinterpret_cast<Disk*>(&resource); // devres is the first member
    for (size_t i = disk->part_count; i > 0; i--)
        unregister_volume(disk->parts[i - 1]);
    unregister_volume(disk->whole);
    {
        DeviceLockAccess access;
        disk->node.unlink();
    }
    {
        SpinlockGuard guard(disk->lock);
        VERIFY(disk->in_flight == 0 && disk->waiting == 0);
    }
    log_info("block: %s: disk removed", disk->whole.block.name);
    __atomic_sub_fetch(&g_partition_count, disk->part_count, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&g_disk_count, 1, __ATOMIC_RELAXED);
    destroy_disk(disk);
}

} // namespace

const BlockDeviceOps kVolumeOps { volume_submit, volume_open, volume_release };

Disk::Disk()
    : lock(kQueueLockClass)
{
}

Result<Disk*> disk_register(Device& device, const keel_disk_config* config, Diagnostic& diagnostic)
{
    diagnostic.clear();
    TRY(validate_config(config, diagnostic));
    if (device.state != DeviceState::Probing && device.state != DeviceState::Bound)
        return diagnostic.fail(Error::ENODEV, "%s is %s", device.name, device_state_name(device.state));
    void* memory = kzalloc(sizeof(Disk));
    if (!memory)
        return diagnostic.fail(Error::ENOMEM, "out of memory");
    Disk* disk = new (memory) Disk();
    memcpy(&disk->config, config, min<size_t>(config->size, sizeof(disk->config)));
    disk->device = &device;
    disk->slots = static_cast<DiskRequest*>(kzalloc(sizeof(DiskRequest) * config->queue_depth));
    if (!disk->slots) {
        destroy_disk(disk);
        return diagnostic.fail(Error::ENOMEM, "out of memory for %u request slots", config->queue_depth);
    }
    for (uint32_t i = 0; i < config->queue_depth; i++) {
        disk->slots[i].disk = disk;
        disk->slots[i].next_free = i + 1 < config->queue_depth ? &disk->slots[i + 1] : nullptr;
    }
    {
        SpinlockGuard guard(disk->lock);
        disk->free_slots = &disk->slots[0];
    }

    char name[kBlockDeviceNameMax + 1] = {};
    for (char letter = 'a'; letter <= 'z' && !name[0]; letter++) {
        char candidate[kBlockDeviceNameMax + 1];
        format(candidate, sizeof(candidate), "%s%c", config->prefix, letter);
        if (!name_taken(candidate))
            memcpy(name, candidate, sizeof(name));
    }
    if (!name[0]) {
        destroy_disk(disk);
        return diagnostic.fail(Error::ENOSPC, "every name from %sa to %sz is taken", config->prefix, config->prefix);
    }
    setup_volume(disk->whole, *disk, 0, config->sector_count);
    memcpy(disk->whole.block.name, name, sizeof(name));

    // The partition table is read through the driver before anything can
    // open the disk, so the volumes are final once they are visible.
    scan_partitions(*disk);
    for (size_t i = 0; i < disk->part_count; i++)
        setup_volume(disk->parts[i], *disk, disk->parts[i].first_sector, disk->parts[i].block.sector_count);

    Diagnostic problem;
    if (block_device_register(disk->whole.block, &problem).is_error()) {
        destroy_disk(disk);
        return diagnostic.fail(Error::EEXIST, "%s: %s", name, problem.message);
    }
    disk->whole.registered = true;
    for (size_t i = 0; i < disk->part_count; i++) {
        if (block_device_register(disk->parts[i].block, &problem).is_ok())
            disk->parts[i].registered = true;
        else
            log_warn("block: %s: %s", disk->parts[i].block.name, problem.message);
    }
    {
        DeviceLockAccess access;
        g_disks.push_back(*disk);
    }
    __atomic_add_fetch(&g_disk_count, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&g_partition_count, disk->part_count, __ATOMIC_RELAXED);
    if (auto added = devres_add(device, disk->devres, release_disk, "disk"); added.is_error()) {
        release_disk(disk->devres);
        return diagnostic.fail(added.error(), "%s is no longer bound", device.name);
    }
    log_info("block: %s: %llu sectors of %u bytes (%llu MiB)%s, queue depth %u, %zu partition(s), on %s", name,
        (unsigned long long)config->sector_count, config->sector_size,
        (unsigned long long)(config->sector_count * config->sector_size >> 20),
        (config->flags & KEEL_DISK_READ_ONLY) ? ", read-only" : "", config->queue_depth, disk->part_count, device.name);
    return disk;
}

void disk_complete(keel_block_request* request, int32_t status)
{
    auto* slot = reinterpret_cast<DiskRequest*>(request);
    Disk& disk = *slot->disk;
    BlockRequest* origin = slot->origin;
    // A driver's status is a negative errno; anything else is a failed transfer.
    Error error = status == 0 ? kBlockOk : (status < 0 && status > -4096 ? Error(-status) : Error::EIO);
    bool done;
    {
        SpinlockGuard guard(disk.lock);
        slot->origin = nullptr;
        slot->next_free = disk.free_slots;
        disk.free_slots = slot;
        disk.in_flight--;
        done = cut_piece_done(*origin, error);
    }
    if (done)
        origin->complete(*origin);
    dispatch(disk);
}

const char* disk_name(const Disk& disk) { return disk.whole.block.name; }

void disk_for_each(void (*visit)(const DiskInfo& info, void* arg), void* arg)
{
    DeviceLockAccess access;
    for (Disk& disk : g_disks) {
        DiskInfo info {};
        {
            SpinlockGuard guard(disk.lock);
            info.in_flight = disk.in_flight;
            info.waiting = disk.waiting;
        }
        info.device = disk.device->name;
        info.queue_depth = disk.config.queue_depth;
        info.requests = __atomic_load_n(&disk.requests, __ATOMIC_RELAXED);
        for (size_t i = 0; i <= disk.part_count; i++) {
            const Volume& volume = i == 0 ? disk.whole : disk.parts[i - 1];
            info.name = volume.block.name;
            info.sectors = volume.block.sector_count;
            info.sector_size = volume.block.sector_size;
            info.read_only = volume.block.read_only;
            info.partition = i > 0;
            info.first_sector = volume.first_sector;
            visit(info, arg);
        }
    }
}

BlockStats block_stats()
{
    BlockStats stats {};
    stats.disks = __atomic_load_n(&g_disk_count, __ATOMIC_RELAXED);
    stats.partitions = __atomic_load_n(&g_partition_count, __ATOMIC_RELAXED);
    DeviceLockAccess access;
    for (Disk& disk : g_disks) {
        SpinlockGuard guard(disk.lock);
        stats.in_flight += disk.in_flight;
    }
    return stats;
}

} // namespace keel
