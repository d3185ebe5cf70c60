// The virtio bus's view of a transport (KABI_VIRTIO_1.0): the checks of the
// keel_virtio_transport_ops table a module hands the core, and the
// library's device-status sequence and consistent configuration reads
// (core/lib/virtio/features.h) run over that table. Host-tested: a test
// gives a synthetic transport, including one that refuses FEATURES_OK.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <keel/keel.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/virtio/features.h"

namespace keel {

// The largest device configuration read keel_virtio_config_read takes.
inline constexpr uint32_t kVirtioConfigReadMax = 256;

// Checks a module's table as keel_driver_ops is checked: size and version,
// flags 0, every operation present and inside the owner's image
// (`readable`). The message names the field and its value.
Result<void> validate_virtio_transport_ops(const keel_virtio_transport_ops* ops,
    bool (*readable)(const void* address, size_t size, void* owner), void* owner, Diagnostic& diagnostic);

// A transport the core talks to: a copy of its (checked) table and context.
struct VirtioTransport {
    keel_virtio_transport_ops ops {};
    void* context = nullptr;

    // The library's accessor over this transport; `this` must outlive it.
    virtio::DeviceAccess access() const;
};

// Copies the checked table: an older, smaller one is accepted (there is
// only version 1 yet, whose operations are all required).
VirtioTransport make_virtio_transport(const keel_virtio_transport_ops& ops, void* context);

// Reset, ACKNOWLEDGE, DRIVER, the features, FEATURES_OK read back: the
// accepted features. `wanted` holds device-type bits; transport bits in it
// are ignored (the core decides those), but for VIRTIO_F_INDIRECT_DESC:
// a driver that asks for it (KABI_VIRTIO_1.1) gets it when offered, and
// its queues then put chains into indirect tables (queue.cpp).
Result<uint64_t> virtio_negotiate(virtio::DeviceStatus& status, uint64_t wanted, Diagnostic& diagnostic);

// `length` bytes at `offset` of the device configuration, repeated while
// the generation changes. EINVAL for a length of 0 or above
// kVirtioConfigReadMax, or when the transport refuses the range.
Result<void> virtio_config_read(
    const VirtioTransport& transport, uint32_t offset, void* buffer, uint32_t length, Diagnostic& diagnostic);

} // namespace keel
