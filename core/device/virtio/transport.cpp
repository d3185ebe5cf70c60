// The transport table's checks and the library's status sequence and
// configuration reads over it (transport.h).
#include "device/virtio/transport.h"

#include "lib/base/string.h"
#include "lib/base/utility.h"

namespace keel {

namespace {

struct Operation {
    const char* name;
    const void* address;
};

} // namespace

Result<void> validate_virtio_transport_ops(const keel_virtio_transport_ops* ops,
    bool (*readable)(const void* address, size_t size, void* owner), void* owner, Diagnostic& diagnostic)
{
    diagnostic.clear();
    if (!ops)
        return diagnostic.fail(Error::EINVAL, "the table is NULL");
    // The header first: only then is `size` known to be readable.
    if (!readable(ops, 2 * sizeof(uint32_t), owner))
        return diagnostic.fail(
            Error::EINVAL, "the table at %p does not lie in the module", static_cast<const void*>(ops));
    if (ops->size < offsetof(keel_virtio_transport_ops, notify) + sizeof(ops->notify))
        return diagnostic.fail(Error::EINVAL, "size %u is smaller than a version-1 table (%zu bytes)", ops->size,
            offsetof(keel_virtio_transport_ops, notify) + sizeof(ops->notify));
    if (!readable(ops, ops->size, owner))
        return diagnostic.fail(Error::EINVAL, "the table's %u bytes do not lie in the module", ops->size);
    if (ops->version < 1 || ops->version > KEEL_VIRTIO_TRANSPORT_OPS_VERSION)
        return diagnostic.fail(
            Error::EINVAL, "version %u is not 1 to %u", ops->version, unsigned(KEEL_VIRTIO_TRANSPORT_OPS_VERSION));
    if (ops->flags != 0)
        return diagnostic.fail(
            Error::EINVAL, "flags %#llx: none are defined in version 1", static_cast<unsigned long long>(ops->flags));
    const Operation operations[] = {
        { "get_status", reinterpret_cast<const void*>(ops->get_status) },
        { "set_status", reinterpret_cast<const void*>(ops->set_status) },
        { "get_features", reinterpret_cast<const void*>(ops->get_features) },
        { "set_features", reinterpret_cast<const void*>(ops->set_features) },
        { "config_generation", reinterpret_cast<const void*>(ops->config_generation) },
        { "config_read", reinterpret_cast<const void*>(ops->config_read) },
        { "queue_max_size", reinterpret_cast<const void*>(ops->queue_max_size) },
        { "queue_setup", reinterpret_cast<const void*>(ops->queue_setup) },
        { "notify", reinterpret_cast<const void*>(ops->notify) },
    };
    for (const Operation& operation : operations) {
        if (!operation.address)
            return diagnostic.fail(Error::EINVAL, "required operation %s is NULL", operation.name);
        if (!readable(operation.address, 1, owner))
            return diagnostic.fail(
                Error::EINVAL, "operation %s at %p does not lie in the module", operation.name, operation.address);
    }
    return {};
}

VirtioTransport make_virtio_transport(const keel_virtio_transport_ops& ops, void* context)
{
    VirtioTransport transport;
    memcpy(&transport.ops, &ops, min<size_t>(ops.size, sizeof(transport.ops)));
    transport.context = context;
    return transport;
}

namespace {

const VirtioTransport& transport_of(void* context) { return *static_cast<const VirtioTransport*>(context); }

uint8_t read_status(void* context)
{
    const VirtioTransport& t = transport_of(context);
    return t.ops.get_status(t.context);
}

void write_status(void* context, uint8_t status)
{
    const VirtioTransport& t = transport_of(context);
    t.ops.set_status(t.context, status);
}

uint32_t read_device_features(void* context, uint32_t select)
{
    const VirtioTransport& t = transport_of(context);
    return t.ops.get_features(t.context, select);
}

void write_driver_features(void* context, uint32_t select, uint32_t value)
{
    const VirtioTransport& t = transport_of(context);
    t.ops.set_features(t.context, select, value);
}

uint8_t read_config_generation(void* context)
{
    const VirtioTransport& t = transport_of(context);
    return t.ops.config_generation(t.context);
}

} // namespace

virtio::DeviceAccess VirtioTransport::access() const
{
    virtio::DeviceAccess access;
    access.context = const_cast<VirtioTransport*>(this);
    access.read_status = read_status;
    access.write_status = write_status;
    access.read_device_features = read_device_features;
    access.write_driver_features = write_driver_features;
    access.read_config_generation = read_config_generation;
    return access;
}

Result<uint64_t> virtio_negotiate(virtio::DeviceStatus& status, uint64_t wanted, Diagnostic& diagnostic)
{
    TRY(status.reset(&diagnostic));
    virtio::FeatureRequest request;
    request.wanted = wanted & ~virtio::kTransportFeatureMask;
    request.transport = virtio::kSplitQueueTransportFeatures;
    if (!(wanted & virtio::feature_bit(virtio::VIRTIO_F_INDIRECT_DESC)))
        request.transport &= ~virtio::feature_bit(virtio::VIRTIO_F_INDIRECT_DESC);
    return status.negotiate(request, &diagnostic);
}

Result<void> virtio_config_read(
    const VirtioTransport& transport, uint32_t offset, void* buffer, uint32_t length, Diagnostic& diagnostic)
{
    if (length == 0 || length > kVirtioConfigReadMax)
        return diagnostic.fail(
            Error::EINVAL, "a configuration read of %u bytes (1 to %u)", length, unsigned(kVirtioConfigReadMax));
    int32_t status = 0;
    auto read_fields = [&] { status = transport.ops.config_read(transport.context, offset, buffer, length); };
    TRY(virtio::read_config(transport.access(), read_fields, &diagnostic));
    if (status < 0)
        return diagnostic.fail(Error::EINVAL, "the transport refused %u bytes at offset %#x of the configuration (%d)",
            length, offset, status);
    return {};
}

} // namespace keel
