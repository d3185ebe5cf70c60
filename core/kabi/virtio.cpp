// KABI_VIRTIO_1.0: transports add virtio devices; drivers negotiate,
// read their configuration and run split virtqueues (core/device/virtio).
// KABI_VIRTIO_1.1: configuration-change notifications; negotiation that
// grants indirect descriptors to a driver asking for them.
// A keel_virtqueue* is the core's VirtioQueue*.
#include "device/virtio/virtio.h"
#include "kabi/errno.h"
#include "kabi/owner.h"
#include "kabi_impl.h"
#include "lib/virtio/features.h"
#include "loader/loader.h"
#include "log/log.h"

using namespace keel;

namespace {

Device* to_device(keel_device* device) { return reinterpret_cast<Device*>(device); }
VirtioQueue* to_queue(keel_virtqueue* queue) { return reinterpret_cast<VirtioQueue*>(queue); }

// A virtio device whose driver is probing or bound: the only one that may
// drive it.
Device* driven_virtio(keel_device* device)
{
    Device* d = to_device(device);
    if (!d || !is_virtio_device(*d))
        return nullptr;
    return d;
}

bool active(const Device& device) { return device.state == DeviceState::Probing || device.state == DeviceState::Bound; }

int32_t report(const Device& device, const char* what, Error error, const Diagnostic& problem)
{
    log_err("virtio: %s: %s: %s", device.name, what, problem.message);
    return kabi_error(error);
}

// A driver's call on its probing or bound virtio device: EINVAL for
// anything else, ENODEV once the binding is ending; a refusal is logged.
template<typename Call> int32_t on_driven_device(keel_device* device, const char* what, Call&& call)
{
    Device* d = driven_virtio(device);
    if (!d)
        return kabi_error(Error::EINVAL);
    if (!active(*d))
        return kabi_error(Error::ENODEV);
    Diagnostic problem;
    auto result = call(*d, problem);
    if (result.is_error())
        return report(*d, what, result.error(), problem);
    return 0;
}

} // namespace

extern "C" int32_t keel_virtio_device_add(keel_device* transport, const keel_virtio_transport_ops* ops, void* context,
    uint32_t device_type, uint32_t vendor, keel_device** out)
{
    if (!transport || !out)
        return kabi_error(Error::EINVAL);
    auto owned = module_owning_table(
        ops, KABI_TABLE_FUNCTION(ops, get_status), __builtin_return_address(0), "virtio transport");
    if (owned.is_error())
        return kabi_error(owned.error());
    Module* owner = owned.value();
    Diagnostic problem;
    if (validate_virtio_transport_ops(ops, kabi_owner_readable, owner, problem).is_error()) {
        log_err("virtio: %s: transport refused: %s", owner ? owner->name : "the core", problem.message);
        return kabi_error(Error::EINVAL);
    }
    DeviceLockAccess access;
    // keel_device* is the core's Device*: *out is written before a driver binds.
    auto added = virtio_device_add(*to_device(transport), make_virtio_transport(*ops, context), device_type, vendor,
        reinterpret_cast<Device**>(out), problem);
    if (added.is_error())
        return report(*to_device(transport), "cannot add a virtio device", added.error(), problem);
    return 0;
}

extern "C" void keel_virtio_device_remove(keel_device* device)
{
    Device* d = driven_virtio(device);
    if (!d)
        return;
    DeviceLockAccess access;
    // Only while the transport's binding lives: its driver is the caller.
    if (!d->parent || d->parent->state == DeviceState::Present) {
        log_err("virtio: %s: removal refused: its transport is not bound", d->name);
        return;
    }
    device_remove(*d);
}

extern "C" void keel_virtio_queue_interrupt(keel_device* device, uint32_t index)
{
    if (device)
        virtio_queue_interrupt(*to_device(device), index);
}

extern "C" void keel_virtio_config_interrupt(keel_device* device)
{
    if (device)
        virtio_config_interrupt(*to_device(device));
}

extern "C" int32_t keel_virtio_config_watch(keel_device* device, keel_virtio_config_changed_fn callback, void* arg)
{
    return on_driven_device(device, "configuration watch",
        [&](Device& d, Diagnostic& problem) { return virtio_config_watch(d, callback, arg, problem); });
}

extern "C" int32_t keel_virtio_negotiate(keel_device* device, uint64_t wanted, uint64_t* accepted)
{
    if (!accepted)
        return kabi_error(Error::EINVAL);
    return on_driven_device(device, "feature negotiation failed", [&](Device& d, Diagnostic& problem) -> Result<void> {
        *accepted = TRY(virtio_device_negotiate(d, wanted, problem));
        return {};
    });
}

// KABI_VIRTIO_1.0's contract: transport bits in `wanted` are ignored, so a
// driver built against 1.0 never gets indirect descriptors.
extern "C" int32_t keel_virtio_negotiate_v1_0(keel_device* device, uint64_t wanted, uint64_t* accepted)
{
    return keel_virtio_negotiate(device, wanted & ~virtio::feature_bit(virtio::VIRTIO_F_INDIRECT_DESC), accepted);
}

extern "C" uint64_t keel_virtio_features(const keel_device* device)
{
    auto* d = reinterpret_cast<const Device*>(device);
    return d && is_virtio_device(*d) ? virtio_device(*d).features : 0;
}

extern "C" int32_t keel_virtio_config_read(keel_device* device, uint32_t offset, void* buffer, uint32_t length)
{
    if (!buffer)
        return kabi_error(Error::EINVAL);
    return on_driven_device(device, "configuration read", [&](Device& d, Diagnostic& problem) {
        return virtio_config_read(virtio_device(d).transport, offset, buffer, length, problem);
    });
}

extern "C" int32_t keel_virtio_queue_create(keel_device* device, uint32_t index, uint32_t max_size,
    keel_virtqueue_callback_fn callback, void* arg, keel_virtqueue** out)
{
    if (!out)
        return kabi_error(Error::EINVAL);
    return on_driven_device(device, "queue setup", [&](Device& d, Diagnostic& problem) -> Result<void> {
        *out = reinterpret_cast<keel_virtqueue*>(TRY(virtio_queue_create(d, index, max_size, callback, arg, problem)));
        return {};
    });
}

extern "C" int32_t keel_virtio_driver_ok(keel_device* device)
{
    return on_driven_device(
        device, "DRIVER_OK", [](Device& d, Diagnostic& problem) { return virtio_device_driver_ok(d, problem); });
}

extern "C" int32_t keel_virtio_reset(keel_device* device)
{
    Device* d = driven_virtio(device);
    if (!d)
        return kabi_error(Error::EINVAL);
    Diagnostic problem;
    auto reset = virtio_device_reset(*d, problem);
    if (reset.is_error())
        return report(*d, "reset", reset.error(), problem);
    return 0;
}

extern "C" uint32_t keel_virtqueue_size(const keel_virtqueue* queue)
{
    return queue ? virtio_queue_size(*reinterpret_cast<const VirtioQueue*>(queue)) : 0;
}

extern "C" int32_t keel_virtqueue_add(
    keel_virtqueue* queue, const keel_virtio_segment* segments, uint32_t out_count, uint32_t in_count, void* token)
{
    if (!queue || !segments)
        return kabi_error(Error::EINVAL);
    Diagnostic problem;
    auto added = virtio_queue_add(*to_queue(queue), segments, out_count, in_count, token, problem);
    if (added.is_error() && added.error() == Error::EIO)
        log_err("virtio: queue broken: %s", problem.message);
    return added.is_ok() ? 0 : kabi_error(added.error());
}

extern "C" void keel_virtqueue_kick(keel_virtqueue* queue)
{
    if (queue)
        virtio_queue_kick(*to_queue(queue));
}

extern "C" int32_t keel_virtqueue_get_used(keel_virtqueue* queue, void** token, uint32_t* written)
{
    if (!queue || !token || !written)
        return kabi_error(Error::EINVAL);
    Diagnostic problem;
    auto used = virtio_queue_get_used(*to_queue(queue), token, written, problem);
    if (used.is_error() && used.error() == Error::EIO && problem.message[0])
        log_err("virtio: the device broke the queue: %s", problem.message); // once: when it broke
    return used.is_ok() ? 0 : kabi_error(used.error());
}

extern "C" void keel_virtqueue_disable_callbacks(keel_virtqueue* queue)
{
    if (queue)
        virtio_queue_disable_callbacks(*to_queue(queue));
}

extern "C" bool keel_virtqueue_enable_callbacks(keel_virtqueue* queue)
{
    return queue ? virtio_queue_enable_callbacks(*to_queue(queue)) : true;
}
