#include "lib/virtio/virtio.h"

namespace keel::virtio {

const char* device_type_name(uint32_t type)
{
    switch (type) {
    case VIRTIO_ID_NET: return "network card";
    case VIRTIO_ID_BLOCK: return "block device";
    case VIRTIO_ID_CONSOLE: return "console";
    case VIRTIO_ID_RNG: return "entropy source";
    case VIRTIO_ID_BALLOON: return "memory balloon";
    case VIRTIO_ID_SCSI: return "SCSI host";
    case VIRTIO_ID_9P: return "9P transport";
    case VIRTIO_ID_GPU: return "GPU device";
    case VIRTIO_ID_INPUT: return "input device";
    case VIRTIO_ID_VSOCK: return "socket device";
    case VIRTIO_ID_CRYPTO: return "crypto device";
    case VIRTIO_ID_IOMMU: return "IOMMU device";
    case VIRTIO_ID_MEM: return "memory device";
    case VIRTIO_ID_SOUND: return "sound device";
    case VIRTIO_ID_FS: return "file system device";
    case VIRTIO_ID_PMEM: return "PMEM device";
    }
    return "unknown";
}

const char* transport_feature_name(unsigned bit)
{
    switch (bit) {
    case VIRTIO_F_NOTIFY_ON_EMPTY: return "VIRTIO_F_NOTIFY_ON_EMPTY";
    case VIRTIO_F_ANY_LAYOUT: return "VIRTIO_F_ANY_LAYOUT";
    case VIRTIO_F_INDIRECT_DESC: return "VIRTIO_F_INDIRECT_DESC";
    case VIRTIO_F_EVENT_IDX: return "VIRTIO_F_EVENT_IDX";
    case VIRTIO_F_VERSION_1: return "VIRTIO_F_VERSION_1";
    case VIRTIO_F_ACCESS_PLATFORM: return "VIRTIO_F_ACCESS_PLATFORM";
    case VIRTIO_F_RING_PACKED: return "VIRTIO_F_RING_PACKED";
    case VIRTIO_F_IN_ORDER: return "VIRTIO_F_IN_ORDER";
    case VIRTIO_F_ORDER_PLATFORM: return "VIRTIO_F_ORDER_PLATFORM";
    case VIRTIO_F_SR_IOV: return "VIRTIO_F_SR_IOV";
    case VIRTIO_F_NOTIFICATION_DATA: return "VIRTIO_F_NOTIFICATION_DATA";
    case VIRTIO_F_NOTIF_CONFIG_DATA: return "VIRTIO_F_NOTIF_CONFIG_DATA";
    case VIRTIO_F_RING_RESET: return "VIRTIO_F_RING_RESET";
    }
    return nullptr;
}

} // namespace keel::virtio
