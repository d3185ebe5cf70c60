// RAM disks: the sectors live in one large allocation; reads and writes
// are copies, done before submit returns.
#include "bcache/ramdisk.h"

#include "bcache/platform.h"
#include "lib/base/new.h"
#include "lib/base/string.h"

namespace keel {

namespace {

struct Ramdisk {
    BlockDevice device;
    uint8_t* sectors;
};

Ramdisk* ramdisk_of(BlockDevice& device) { return static_cast<Ramdisk*>(device.driver); }

void ramdisk_submit(BlockDevice& device, BlockRequest& request)
{
    Ramdisk& disk = *ramdisk_of(device);
    request.status = kBlockOk;
    if (request.op != BlockOp::Flush) {
        bool inside = request.sector <= device.sector_count && request.sectors <= device.sector_count - request.sector;
        if (!inside || (request.op == BlockOp::Write && device.read_only)) {
            request.status = Error::EIO;
        } else {
            uint8_t* at = disk.sectors + request.sector * kRamdiskSectorSize;
            size_t bytes = size_t(request.sectors) * kRamdiskSectorSize;
            if (request.op == BlockOp::Read)
                memcpy(request.data, at, bytes);
            else
                memcpy(at, request.data, bytes);
        }
    }
    request.complete(request);
}

const BlockDeviceOps kRamdiskOps { ramdisk_submit, nullptr, nullptr };

// Registered RAM disks are found through the block device registry; this
// list only says which registered devices are RAM disks.
Ramdisk* find_ramdisk(const char* name)
{
    struct Search {
        const char* name;
        Ramdisk* found;
    } search { name, nullptr };
    block_device_for_each(
        [](const BlockDevice& device, uint32_t, void* arg) {
            auto* search = static_cast<Search*>(arg);
            if (device.ops == &kRamdiskOps && strcmp(device.name, search->name) == 0)
                search->found = static_cast<Ramdisk*>(device.driver);
        },
        &search);
    return search.found;
}

} // namespace

Result<BlockDevice*> ramdisk_create(const char* name, uint64_t bytes, bool read_only, Diagnostic* diagnostic)
{
    uint64_t sectors = (bytes + kRamdiskSectorSize - 1) / kRamdiskSectorSize;
    if (!name || strlen(name) > kBlockDeviceNameMax || sectors == 0 || sectors > (SIZE_MAX >> 10)) {
        diagnose(diagnostic, "a RAM disk needs a name of 1 to %zu characters and a size", kBlockDeviceNameMax);
        return Err(Error::EINVAL);
    }
    auto* memory = bcache::platform_alloc(sizeof(Ramdisk));
    if (!memory)
        return Err(Error::ENOMEM);
    auto* disk = new (memory) Ramdisk {};
    disk->sectors = static_cast<uint8_t*>(bcache::platform_alloc_large(size_t(sectors) * kRamdiskSectorSize));
    if (!disk->sectors) {
        bcache::platform_free(disk);
        return Err(Error::ENOMEM);
    }
    BlockDevice& device = disk->device;
    memcpy(device.name, name, strlen(name) + 1);
    device.sector_size = kRamdiskSectorSize;
    device.sector_count = sectors;
    device.read_only = read_only;
    device.ops = &kRamdiskOps;
    device.driver = disk;
    if (auto registered = block_device_register(device, diagnostic); registered.is_error()) {
        bcache::platform_free_large(disk->sectors);
        bcache::platform_free(disk);
        return Err(registered.error());
    }
    return &device;
}

uint8_t* ramdisk_data(BlockDevice& device)
{
    return device.ops == &kRamdiskOps ? ramdisk_of(device)->sectors : nullptr;
}

BlockDevice* ramdisk_find(const char* name)
{
    Ramdisk* disk = name ? find_ramdisk(name) : nullptr;
    return disk ? &disk->device : nullptr;
}

Result<void> ramdisk_destroy(const char* name)
{
    Ramdisk* disk = name ? find_ramdisk(name) : nullptr;
    if (!disk)
        return Err(Error::ENOENT);
    TRY(block_device_unregister(disk->device));
    bcache::platform_free_large(disk->sectors);
    bcache::platform_free(disk);
    return {};
}

} // namespace keel
