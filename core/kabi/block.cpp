// KABI_BLOCK_1.0: disks for drivers (core/block). A keel_disk* is the
// core's Disk*, a keel_block_request* the first member of its queue slot.
#include "block/block.h"
#include "kabi/errno.h"
#include "kabi_impl.h"
#include "log/log.h"

using namespace keel;

extern "C" int32_t keel_disk_register(keel_device* device, const keel_disk_config* config, keel_disk** disk_out)
{
    if (!device || !disk_out)
        return kabi_error(Error::EINVAL);
    Diagnostic problem;
    auto disk = disk_register(*reinterpret_cast<Device*>(device), config, problem);
    if (disk.is_error()) {
        log_err("block: %s: disk refused: %s", reinterpret_cast<Device*>(device)->name, problem.message);
        return kabi_error(disk.error());
    }
    *disk_out = reinterpret_cast<keel_disk*>(disk.value());
    return 0;
}

extern "C" void keel_disk_complete(keel_block_request* request, int32_t status)
{
    if (request)
        disk_complete(request, status);
}

extern "C" const char* keel_disk_name(const keel_disk* disk)
{
    return disk ? keel::disk_name(*reinterpret_cast<const Disk*>(disk)) : "";
}
