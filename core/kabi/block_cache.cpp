// KABI_BLOCK_CACHE_1.0: the block cache for filesystem modules
// (docs/block-cache.md). keel_bdev is the core's BlockHandle and
// keel_buffer the first member of a cached block, so these are thin.
#include "bcache/bcache.h"
#include "kabi/errno.h"
#include "kabi_impl.h"
#include "lib/base/string.h"

namespace {

keel::BlockHandle* handle_of(keel_bdev* bdev) { return reinterpret_cast<keel::BlockHandle*>(bdev); }

template<typename T> int32_t out_or_error(keel::Result<T*> result, T** out)
{
    if (result.is_error())
        return keel::kabi_error(result.error());
    *out = result.value();
    return 0;
}

} // namespace

extern "C" int32_t keel_bdev_open(const char* name, uint32_t flags, keel_bdev** bdev_out)
{
    if (!bdev_out)
        return keel::kabi_error(keel::Error::EINVAL);
    if (flags & ~keel::kBlockOpenWrite)
        return keel::kabi_error(keel::Error::EINVAL);
    auto handle = keel::bcache_open(name, flags);
    if (handle.is_error())
        return keel::kabi_error(handle.error());
    *bdev_out = reinterpret_cast<keel_bdev*>(handle.value());
    return 0;
}

extern "C" int32_t keel_bdev_close(keel_bdev* bdev)
{
    auto closed = keel::bcache_close(handle_of(bdev));
    return closed.is_error() ? keel::kabi_error(closed.error()) : 0;
}

extern "C" int32_t keel_bdev_get_info(keel_bdev* bdev, keel_bdev_info* out)
{
    keel::BlockHandleInfo info = keel::bcache_info(*handle_of(bdev));
    memset(out, 0, sizeof(*out));
    out->size = info.size;
    out->sector_size = info.sector_size;
    out->block_size = info.block_size;
    out->read_only = info.read_only;
    size_t length = strnlen(info.name, sizeof(out->name) - 1);
    memcpy(out->name, info.name, length);
    return 0;
}

extern "C" int32_t keel_bdev_set_block_size(keel_bdev* bdev, uint32_t size)
{
    auto set = keel::bcache_set_block_size(*handle_of(bdev), size);
    return set.is_error() ? keel::kabi_error(set.error()) : 0;
}

extern "C" int32_t keel_bcache_read(keel_bdev* bdev, uint64_t block, keel_buffer** buffer_out)
{
    return out_or_error(keel::bcache_read(*handle_of(bdev), block), buffer_out);
}

extern "C" int32_t keel_bcache_zero(keel_bdev* bdev, uint64_t block, keel_buffer** buffer_out)
{
    return out_or_error(keel::bcache_zero(*handle_of(bdev), block), buffer_out);
}

extern "C" void keel_bcache_put(keel_buffer* buffer) { keel::bcache_put(buffer); }

extern "C" void keel_bcache_dirty(keel_buffer* buffer) { keel::bcache_mark_dirty(buffer); }

extern "C" int32_t keel_bcache_sync(keel_bdev* bdev)
{
    auto synced = keel::bcache_sync(*handle_of(bdev));
    return synced.is_error() ? keel::kabi_error(synced.error()) : 0;
}

extern "C" void keel_bcache_readahead(keel_bdev* bdev, uint64_t block, uint32_t count)
{
    keel::bcache_readahead(*handle_of(bdev), block, count);
}
