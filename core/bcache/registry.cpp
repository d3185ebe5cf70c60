// Block devices by name, and the handles filesystems open them with: who
// may open what (one writer, alone), the block size of the cached blocks,
// and the driver kept loaded while a handle is open.
#include "bcache/internal.h"
#include "lib/base/assert.h"
#include "lib/base/string.h"

namespace keel::bcache {

namespace {

IntrusiveList<BlockDevice, &BlockDevice::registry_node> g_devices GUARDED_BY(g_cache_lock);

bool valid_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
        || c == '.';
}

// 1 to kBlockDeviceNameMax of [A-Za-z0-9._-]; "." and ".." are not names.
bool valid_name(const char* name, size_t length)
{
    if (length == 0 || length > kBlockDeviceNameMax)
        return false;
    if (name[0] == '.' && (length == 1 || (length == 2 && name[1] == '.')))
        return false;
    for (size_t i = 0; i < length; i++) {
        if (!valid_name_char(name[i]))
            return false;
    }
    return true;
}

BlockDevice* find_device(const char* name, size_t length) REQUIRES(g_cache_lock)
{
    for (BlockDevice& device : g_devices) {
        if (strlen(device.name) == length && memcmp(device.name, name, length) == 0)
            return &device;
    }
    return nullptr;
}

} // namespace

IntrusiveList<BlockDevice, &BlockDevice::registry_node>& registered_devices() { return g_devices; }

void put_device(DeviceCache& device)
{
    BufferList victims;
    bool last;
    {
        CacheLockGuard guard;
        VERIFY(device.opens > 0);
        // The last close lets the driver go: read-ahead still in flight
        // lands first (an unregister right after must find none).
        while (device.opens == 1 && device.in_flight > 0)
            platform_wait();
        last = --device.opens == 0;
        if (last) {
            if (device.held > 0)
                platform_log("%s: closed with %zu block(s) still held", device.device->name, device.held);
            drop_device_buffers(device, false, victims);
        }
    }
    free_buffers(victims);
    BlockDevice& disk = *device.device;
    if (last && disk.ops->release)
        disk.ops->release(disk);
}

} // namespace keel::bcache

namespace keel {

using namespace bcache;

Result<void> block_device_register(BlockDevice& device, Diagnostic* diagnostic)
{
    size_t length = strnlen(device.name, sizeof(device.name));
    if (length == sizeof(device.name) || !valid_name(device.name, length)) {
        diagnose(diagnostic, "name \"%.*s\" is not 1 to %zu of [A-Za-z0-9._-]", int(length), device.name,
            kBlockDeviceNameMax);
        return Err(Error::EINVAL);
    }
    if (!is_power_of_two(device.sector_size) || device.sector_size < kSectorSizeMin
        || device.sector_size > kSectorSizeMax) {
        diagnose(diagnostic, "%s: sector size %u is not a power of two from %u to %u", device.name, device.sector_size,
            kSectorSizeMin, kSectorSizeMax);
        return Err(Error::EINVAL);
    }
    if (device.sector_count == 0 || device.sector_count > (UINT64_MAX >> 12)) {
        diagnose(
            diagnostic, "%s: sector count %llu is out of range", device.name, (unsigned long long)device.sector_count);
        return Err(Error::EINVAL);
    }
    if (!device.ops || !device.ops->submit) {
        diagnose(diagnostic, "%s: no submit operation", device.name);
        return Err(Error::EINVAL);
    }
    TRY(ensure_started());
    auto* memory = platform_alloc(sizeof(DeviceCache));
    if (!memory)
        return Err(Error::ENOMEM);
    auto* cache = new (memory) DeviceCache {};
    cache->device = &device;
    bool taken;
    {
        CacheLockGuard guard;
        taken = find_device(device.name, length) || device.cache;
        if (!taken) {
            device.cache = cache;
            set_geometry(*cache, device.sector_size > 1024 ? device.sector_size : 1024);
            g_devices.push_back(device);
        }
    }
    if (taken) {
        cache->~DeviceCache();
        platform_free(cache);
        diagnose(diagnostic, "%s: a block device of that name is registered", device.name);
        return Err(Error::EEXIST);
    }
    return {};
}

Result<void> block_device_unregister(BlockDevice& device)
{
    BufferList victims;
    size_t lost = 0;
    DeviceCache* cache;
    {
        CacheLockGuard guard;
        cache = device.cache;
        if (!cache || !g_devices.contains(device))
            return Err(Error::ENOENT);
        if (cache->opens > 0 || cache->held > 0)
            return Err(Error::EBUSY);
        VERIFY(cache->in_flight == 0);
        drop_device_buffers(*cache, true, victims, &lost);
        g_devices.remove(device);
        device.cache = nullptr;
    }
    free_buffers(victims);
    if (lost)
        platform_log("%s: removed with %zu dirty block(s) its writes had failed for; they are lost", device.name, lost);
    cache->~DeviceCache();
    platform_free(cache);
    return {};
}

void block_device_for_each(void (*visit)(const BlockDevice& device, uint32_t opens, void* arg), void* arg)
{
    CacheLockGuard guard;
    for (BlockDevice& device : g_devices)
        visit(device, device.cache->opens, arg);
}

size_t block_device_names(BlockDeviceName* names, size_t max)
{
    CacheLockGuard guard;
    size_t count = 0;
    for (BlockDevice& device : g_devices) {
        if (count == max)
            break;
        memcpy(names[count++], device.name, sizeof(BlockDeviceName));
    }
    return count;
}

Result<BlockHandle*> bcache_open(const char* name, uint32_t flags)
{
    if (!name || (flags & ~(kBlockOpenWrite | kBlockOpenShared))
        || (flags & (kBlockOpenWrite | kBlockOpenShared)) == (kBlockOpenWrite | kBlockOpenShared))
        return Err(Error::EINVAL);
    if (strncmp(name, "/dev/", 5) == 0)
        name += 5;
    size_t length = strnlen(name, kBlockDeviceNameMax + 1);
    if (!valid_name(name, length))
        return Err(length == 0 ? Error::EINVAL : Error::ENXIO);
    TRY(ensure_started());
    auto* memory = platform_alloc(sizeof(BlockHandle));
    if (!memory)
        return Err(Error::ENOMEM);
    bool writable = flags & kBlockOpenWrite;
    auto* handle = new (memory) BlockHandle { nullptr, writable };
    bool first;
    BlockDevice* device;
    Error refused = kBlockOk;
    {
        CacheLockGuard guard;
        device = find_device(name, length);
        if (!device)
            refused = Error::ENXIO;
        else if (writable && device->read_only)
            refused = Error::EROFS;
        else if ((device->cache->writers > 0 && !(flags & kBlockOpenShared)) || (writable && device->cache->opens > 0))
            refused = Error::EBUSY;
        if (refused == kBlockOk) {
            first = device->cache->opens++ == 0;
            device->cache->writers += writable;
            handle->device = device->cache;
        }
    }
    if (refused != kBlockOk) {
        platform_free(handle);
        return Err(refused);
    }
    if (first && device->ops->open) {
        auto opened = device->ops->open(*device);
        if (opened.is_error()) {
            {
                CacheLockGuard guard;
                device->cache->opens--;
                device->cache->writers -= writable;
            }
            platform_free(handle);
            return Err(opened.error());
        }
    }
    return handle;
}

Result<void> bcache_close(BlockHandle* handle)
{
    if (!handle)
        return {};
    DeviceCache& device = *handle->device;
    Result<void> synced = handle->writable ? sync_device(device) : Result<void> {};
    {
        CacheLockGuard guard;
        device.writers -= handle->writable;
    }
    put_device(device);
    platform_free(handle);
    return synced;
}

BlockHandleInfo bcache_info(const BlockHandle& handle)
{
    const DeviceCache& device = *handle.device;
    const BlockDevice& disk = *device.device;
    CacheLockGuard guard;
    return { disk.name, disk.sector_count * disk.sector_size, disk.sector_size, device.block_size, disk.read_only,
        handle.writable };
}

Result<void> bcache_set_block_size(BlockHandle& handle, uint32_t size)
{
    DeviceCache& device = *handle.device;
    if (!is_power_of_two(size) || size < kCacheBlockMin || size > kCacheBlockMax || size < device.device->sector_size)
        return Err(Error::EINVAL);
    {
        CacheLockGuard guard;
        if (device.block_size == size)
            return {};
        if (device.opens > 1 || device.held > 0)
            return Err(Error::EBUSY);
    }
    // Blocks of the old size must reach the device before any of the new
    // size can be read over them.
    if (handle.writable)
        TRY(sync_device(device));
    BufferList victims;
    Result<void> result = {};
    {
        CacheLockGuard guard;
        // Read-ahead still in flight lands in blocks of the old size: let
        // it, so that none of them is left behind to be found as new.
        wait_idle(device);
        if (device.opens > 1 || device.held > 0)
            result = Err(Error::EBUSY);
        else if (!device.dirty.is_empty())
            result = Err(Error::EIO);
        else {
            drop_device_buffers(device, false, victims);
            set_geometry(device, size);
        }
    }
    free_buffers(victims);
    return result;
}

Result<void> bcache_sync_all()
{
    Result<void> first_error = {};
    BlockDevice* device;
    {
        CacheLockGuard guard;
        device = g_devices.first();
        while (device && device->cache->opens == 0)
            device = g_devices.next(*device);
        if (device)
            device->cache->opens++;
    }
    while (device) {
        auto synced = sync_device(*device->cache);
        if (synced.is_error() && first_error.is_ok())
            first_error = Err(synced.error());
        BlockDevice* next;
        {
            CacheLockGuard guard;
            next = g_devices.next(*device);
            while (next && next->cache->opens == 0)
                next = g_devices.next(*next);
            if (next)
                next->cache->opens++;
        }
        put_device(*device->cache);
        device = next;
    }
    return first_error;
}

} // namespace keel
