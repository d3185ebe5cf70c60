#include "lib/virtio/features.h"

#include "lib/base/format.h"

namespace keel::virtio {

namespace {

unsigned lowest_bit(uint64_t bits) { return unsigned(__builtin_ctzll(bits)); }

// "VIRTIO_F_RING_PACKED (bit 34)" or "bit 45".
struct BitName {
    char text[48];
    explicit BitName(unsigned bit)
    {
        if (const char* name = transport_feature_name(bit))
            format(text, sizeof(text), "%s (bit %u)", name, bit);
        else
            format(text, sizeof(text), "bit %u", bit);
    }
};

} // namespace

Result<uint64_t> negotiate_features(uint64_t offered, const FeatureRequest& request, Diagnostic* diagnostic)
{
    if (uint64_t stray = request.wanted & kTransportFeatureMask) {
        diagnose(diagnostic, "driver asks for %s among its device features; transport bits go in the transport mask",
            BitName(lowest_bit(stray)).text);
        return Err(Error::EINVAL);
    }
    if (!has_feature(request.transport, VIRTIO_F_VERSION_1)) {
        diagnose(diagnostic, "transport mask 0x%016llx lacks VIRTIO_F_VERSION_1 (bit 32): only virtio 1.x is driven",
            static_cast<unsigned long long>(request.transport));
        return Err(Error::EINVAL);
    }
    if (!has_feature(offered, VIRTIO_F_VERSION_1)) {
        diagnose(diagnostic,
            "device offers features 0x%016llx without VIRTIO_F_VERSION_1 (bit 32): a legacy-only device",
            static_cast<unsigned long long>(offered));
        return Err(Error::ENODEV);
    }
    if (request.require_access_platform && !has_feature(offered, VIRTIO_F_ACCESS_PLATFORM)) {
        diagnose(diagnostic,
            "device offers features 0x%016llx without VIRTIO_F_ACCESS_PLATFORM (bit 33), which this platform's "
            "restricted DMA requires",
            static_cast<unsigned long long>(offered));
        return Err(Error::ENODEV);
    }
    uint64_t device_bits = offered & request.wanted & ~kTransportFeatureMask;
    uint64_t transport_bits = offered & request.transport & kTransportFeatureMask;
    return device_bits | transport_bits;
}

void DeviceStatus::add_status(uint8_t bits)
{
    m_status |= bits;
    m_access.write_status(m_access.context, m_status);
}

Result<uint8_t> DeviceStatus::read_checked(Diagnostic* diagnostic, const char* when)
{
    uint8_t status = m_access.read_status(m_access.context);
    // A PCI read from a device that left the bus returns all ones; no
    // device sets every bit.
    if (status == 0xff) {
        diagnose(diagnostic, "device status reads 0xff %s: the device is gone", when);
        return Err(Error::ENODEV);
    }
    if (status & VIRTIO_CONFIG_S_NEEDS_RESET) {
        diagnose(diagnostic, "device status 0x%02x %s: DEVICE_NEEDS_RESET is set", status, when);
        return Err(Error::EIO);
    }
    return status;
}

Result<void> DeviceStatus::reset(Diagnostic* diagnostic, unsigned polls)
{
    m_access.write_status(m_access.context, 0);
    m_status = 0;
    m_offered = 0;
    m_accepted = 0;
    uint8_t status = 0;
    for (unsigned i = 0; i < polls; ++i) {
        status = m_access.read_status(m_access.context);
        if (status == 0) {
            m_step = Step::Reset;
            return {};
        }
        if (status == 0xff) {
            m_step = Step::Unknown;
            diagnose(diagnostic, "device status reads 0xff during the reset: the device is gone");
            return Err(Error::ENODEV);
        }
        if (m_access.wait)
            m_access.wait(m_access.context);
    }
    m_step = Step::Unknown;
    diagnose(diagnostic, "device status still 0x%02x after %u reads following a reset (writing 0)", status, polls);
    return Err(Error::ETIMEDOUT);
}

Result<uint64_t> DeviceStatus::negotiate(const FeatureRequest& request, Diagnostic* diagnostic)
{
    if (m_step != Step::Reset) {
        diagnose(diagnostic, "feature negotiation needs a freshly reset device");
        return Err(Error::EINVAL);
    }
    add_status(VIRTIO_CONFIG_S_ACKNOWLEDGE);
    add_status(VIRTIO_CONFIG_S_DRIVER);
    uint32_t low = m_access.read_device_features(m_access.context, 0);
    uint32_t high = m_access.read_device_features(m_access.context, 1);
    m_offered = features_from_words(low, high);

    auto accepted = negotiate_features(m_offered, request, diagnostic);
    if (accepted.is_error()) {
        fail();
        return Err(accepted.error());
    }
    m_accepted = accepted.value();
    m_access.write_driver_features(m_access.context, 0, feature_word(m_accepted, 0));
    m_access.write_driver_features(m_access.context, 1, feature_word(m_accepted, 1));
    add_status(VIRTIO_CONFIG_S_FEATURES_OK);

    // "Device Initialization", step 6: the device clears FEATURES_OK if it cannot
    // work with the subset the driver accepted.
    auto status = read_checked(diagnostic, "after FEATURES_OK was written");
    if (status.is_error()) {
        fail();
        return Err(status.error());
    }
    if (!(status.value() & VIRTIO_CONFIG_S_FEATURES_OK)) {
        diagnose(diagnostic,
            "device refused the features: status 0x%02x after writing 0x%02x (FEATURES_OK not kept); accepted "
            "0x%016llx of offered 0x%016llx",
            status.value(), m_status, static_cast<unsigned long long>(m_accepted),
            static_cast<unsigned long long>(m_offered));
        fail();
        return Err(Error::ENODEV);
    }
    m_step = Step::FeaturesOk;
    return m_accepted;
}

Result<void> DeviceStatus::driver_ok(Diagnostic* diagnostic)
{
    if (m_step != Step::FeaturesOk) {
        diagnose(diagnostic, "DRIVER_OK before the features were negotiated");
        return Err(Error::EINVAL);
    }
    add_status(VIRTIO_CONFIG_S_DRIVER_OK);
    auto status = read_checked(diagnostic, "after DRIVER_OK was written");
    if (status.is_error()) {
        fail();
        return Err(status.error());
    }
    m_step = Step::DriverOk;
    return {};
}

void DeviceStatus::fail()
{
    add_status(VIRTIO_CONFIG_S_FAILED);
    m_step = Step::Failed;
}

Result<uint8_t> DeviceStatus::check(Diagnostic* diagnostic) { return read_checked(diagnostic, "now"); }

Result<void> read_config(const DeviceAccess& access, void (*read_fields)(void* context), void* context,
    Diagnostic* diagnostic, unsigned attempts)
{
    uint8_t before = 0;
    uint8_t after = 0;
    for (unsigned i = 0; i < attempts; ++i) {
        before = access.read_config_generation(access.context);
        read_fields(context);
        after = access.read_config_generation(access.context);
        if (before == after)
            return {};
    }
    diagnose(diagnostic, "configuration generation kept changing: %u attempts, the last read 0x%02x then 0x%02x",
        attempts, before, after);
    return Err(Error::EAGAIN);
}

} // namespace keel::virtio
