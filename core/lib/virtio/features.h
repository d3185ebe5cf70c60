// Bringing a virtio device up (virtio 1.x, "Device Initialization"): which features
// to accept, the device-status sequence, and consistent reads of the
// device's configuration. Pure logic over an accessor the transport
// provides (virtio_pci writes the common configuration registers; a test
// provides a fake device), so every refusal a device can make is testable.
//
//   DeviceStatus status(access);
//   TRY(status.reset(&diagnostic));
//   FeatureRequest request;
//   request.wanted = feature_bit(VIRTIO_BLK_F_FLUSH) | ...;
//   uint64_t features = TRY(status.negotiate(request, &diagnostic));
//   ... set up the queues; on any failure status.fail() ...
//   TRY(status.driver_ok(&diagnostic));
//
// Refusals, each with a message in the Diagnostic:
//   ENODEV     the device offers no VIRTIO_F_VERSION_1 (legacy only),
//              lacks VIRTIO_F_ACCESS_PLATFORM the platform requires, drops
//              FEATURES_OK (it refused the accepted features), or reads
//              status 0xff (gone from the bus)
//   EIO        the device set DEVICE_NEEDS_RESET
//   ETIMEDOUT  a reset that never reads back 0
//   EAGAIN     the configuration generation kept changing
//   EINVAL     steps out of order, or a request asking for transport bits
//              as device bits
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/base/utility.h"
#include "lib/virtio/virtio.h"

namespace keel::virtio {

// 64-bit feature sets travel in 32-bit words: device_feature_select or
// driver_feature_select 0 for bits 0-31, 1 for bits 32-63.
constexpr uint32_t feature_word(uint64_t features, uint32_t select)
{
    return select == 0 ? uint32_t(features) : select == 1 ? uint32_t(features >> 32) : 0;
}
constexpr uint64_t features_from_words(uint32_t low, uint32_t high) { return uint64_t(high) << 32 | low; }
constexpr bool has_feature(uint64_t features, unsigned bit) { return bit < 64 && (features >> bit) & 1; }

// The transport features the split queue and virtio_pci implement.
constexpr uint64_t kSplitQueueTransportFeatures = feature_bit(VIRTIO_F_VERSION_1)
    | feature_bit(VIRTIO_F_ACCESS_PLATFORM) | feature_bit(VIRTIO_F_EVENT_IDX) | feature_bit(VIRTIO_F_INDIRECT_DESC);

struct FeatureRequest {
    // Device-type bits (0-23, 50-63) the driver understands; a bit the
    // device does not offer is simply not accepted.
    uint64_t wanted = 0;
    // Transport bits (24-49) the transport and queues implement, accepted
    // whenever the device offers them. Must hold VIRTIO_F_VERSION_1; a
    // driver that does not want event indices or indirect descriptors
    // clears them here.
    uint64_t transport = kSplitQueueTransportFeatures;
    // The platform only lets devices reach memory through its DMA
    // translation (an IOMMU, encrypted guest memory): a device that does
    // not offer VIRTIO_F_ACCESS_PLATFORM cannot be driven.
    bool require_access_platform = false;
};

// The features to accept of those `offered` (no device access): the
// device bits both want, the transport bits both implement. ENODEV or
// EINVAL as above.
Result<uint64_t> negotiate_features(uint64_t offered, const FeatureRequest& request, Diagnostic* diagnostic);

// What the transport reaches in the device. Every function is required
// except wait.
struct DeviceAccess {
    void* context = nullptr;
    uint8_t (*read_status)(void* context) = nullptr;
    void (*write_status)(void* context, uint8_t status) = nullptr;
    // Writes device_feature_select, reads device_feature.
    uint32_t (*read_device_features)(void* context, uint32_t select) = nullptr;
    // Writes driver_feature_select, then driver_feature.
    void (*write_driver_features)(void* context, uint32_t select, uint32_t value) = nullptr;
    uint8_t (*read_config_generation)(void* context) = nullptr;
    // Called between reads of the status while a reset completes (a short
    // delay); may be null.
    void (*wait)(void* context) = nullptr;
};

// Reads of the status after writing 0, before reset() gives up.
constexpr unsigned kResetPolls = 1000;
// Attempts read_config makes before giving up with EAGAIN.
constexpr unsigned kConfigReadAttempts = 16;

// The status byte's sequence: reset, ACKNOWLEDGE, DRIVER, features,
// FEATURES_OK and its re-read check, DRIVER_OK; FAILED on the way out.
class DeviceStatus {
public:
    enum class Step { Unknown, Reset, FeaturesOk, DriverOk, Failed };

    explicit DeviceStatus(const DeviceAccess& access)
        : m_access(access)
    {
    }

    // Writes 0 and waits (at most `polls` reads) until the device reads 0.
    Result<void> reset(Diagnostic* diagnostic, unsigned polls = kResetPolls);
    // After reset(): ACKNOWLEDGE, DRIVER, reads the offered features,
    // writes the accepted ones, sets FEATURES_OK and reads it back.
    // Returns the accepted features. A refusal sets FAILED.
    Result<uint64_t> negotiate(const FeatureRequest& request, Diagnostic* diagnostic);
    // After negotiate() and the queues' setup: DRIVER_OK, read back.
    Result<void> driver_ok(Diagnostic* diagnostic);
    // Tells the device the driver gave up (FAILED); it stays so until reset.
    void fail();
    // The device's status now: EIO if it needs a reset, ENODEV if gone.
    Result<uint8_t> check(Diagnostic* diagnostic);

    Step step() const { return m_step; }
    uint64_t offered() const { return m_offered; }
    uint64_t accepted() const { return m_accepted; }

private:
    void add_status(uint8_t bits);
    Result<uint8_t> read_checked(Diagnostic* diagnostic, const char* when);

    DeviceAccess m_access;
    Step m_step = Step::Unknown;
    uint8_t m_status = 0; // the bits written since the reset
    uint64_t m_offered = 0;
    uint64_t m_accepted = 0;
};

// Device configuration fields can change while they are read ("Device
// Configuration Space"): read the generation, the fields, the generation again, and
// repeat while it changed, at most `attempts` times (EAGAIN after, naming
// the last two generations). `read_fields` may run several times.
Result<void> read_config(const DeviceAccess& access, void (*read_fields)(void* context), void* context,
    Diagnostic* diagnostic, unsigned attempts = kConfigReadAttempts);

template<typename ReadFields>
Result<void> read_config(const DeviceAccess& access, ReadFields&& read_fields, Diagnostic* diagnostic,
    unsigned attempts = kConfigReadAttempts)
{
    using Callable = RemoveReferenceT<ReadFields>;
    return read_config(
        access, [](void* context) { (*static_cast<Callable*>(context))(); }, &read_fields, diagnostic, attempts);
}

} // namespace keel::virtio
