// Which filesystem a block device holds (lib/fsprobe), read through the
// cache: for lsblk -f and root=LABEL=/UUID=. A device in use keeps its
// block size; the superblock is gathered from whatever blocks cover it.
#include "bcache/bcache.h"
#include "lib/base/string.h"

namespace keel {

bool bcache_identify(const char* name, fsprobe::Identity& out)
{
    auto handle = bcache_open(name, kBlockOpenShared);
    if (handle.is_error())
        return false;
    BlockHandle& device = *handle.value();
    (void)bcache_set_block_size(device, 1024); // refused while someone else has it open
    BlockHandleInfo info = bcache_info(device);
    uint8_t super[fsprobe::kExtSuperblockBytes];
    constexpr uint64_t kStart = fsprobe::kExtSuperblockOffset;
    constexpr uint64_t kEnd = kStart + sizeof(super);
    bool complete = info.block_size > 0 && info.size >= kEnd;
    for (uint64_t offset = kStart; complete && offset < kEnd;) {
        auto block = bcache_read(device, offset / info.block_size);
        if (block.is_error()) {
            complete = false;
            break;
        }
        uint64_t within = offset % info.block_size;
        uint64_t count = info.block_size - within < kEnd - offset ? info.block_size - within : kEnd - offset;
        memcpy(super + (offset - kStart), block.value()->data + within, count);
        bcache_put(block.value());
        offset += count;
    }
    (void)bcache_close(&device);
    return complete && fsprobe::probe_ext(super, sizeof(super), out);
}

} // namespace keel
