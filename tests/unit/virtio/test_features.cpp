// Feature negotiation, the status sequence and configuration reads
// against a fake device: what is accepted, a device that refuses
// FEATURES_OK, one that needs a reset, one that is gone, a reset that never
// completes, and a configuration generation that keeps moving.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lib/virtio/features.h"

using keel::Diagnostic;
using keel::Error;
using namespace keel::virtio;

namespace {

struct FakeDevice {
    uint64_t offered = feature_bit(VIRTIO_F_VERSION_1);
    uint64_t driver_features = 0;
    uint8_t status = 0x0f; // left over from an earlier driver
    std::vector<uint8_t> writes;
    unsigned reset_reads = 0;       // reads of a non-zero status before a reset shows
    bool keep_features_ok = true;   // false: clears FEATURES_OK (refuses the features)
    uint8_t set_after_features = 0; // bits the device sets when FEATURES_OK is written
    bool gone = false;              // reads all ones
    unsigned waits = 0;
    unsigned status_reads = 0;
    // Configuration generation: changes on each of its first `unstable` reads.
    uint8_t generation = 0x10;
    unsigned unstable = 0;
    unsigned generation_reads = 0;

    DeviceAccess access()
    {
        DeviceAccess a;
        a.context = this;
        a.read_status = [](void* c) -> uint8_t {
            auto* d = static_cast<FakeDevice*>(c);
            ++d->status_reads;
            if (d->gone)
                return 0xff;
            if (d->status == 0 && d->reset_reads > 0) {
                --d->reset_reads;
                return 0x01;
            }
            return d->status;
        };
        a.write_status = [](void* c, uint8_t value) {
            auto* d = static_cast<FakeDevice*>(c);
            d->writes.push_back(value);
            d->status = value;
            if (value & VIRTIO_CONFIG_S_FEATURES_OK) {
                if (!d->keep_features_ok)
                    d->status &= uint8_t(~VIRTIO_CONFIG_S_FEATURES_OK);
                d->status |= d->set_after_features;
            }
        };
        a.read_device_features = [](void* c, uint32_t select) -> uint32_t {
            return feature_word(static_cast<FakeDevice*>(c)->offered, select);
        };
        a.write_driver_features = [](void* c, uint32_t select, uint32_t value) {
            auto* d = static_cast<FakeDevice*>(c);
            if (select == 0)
                d->driver_features = (d->driver_features & ~uint64_t(0xffffffff)) | value;
            else
                d->driver_features = (d->driver_features & 0xffffffff) | uint64_t(value) << 32;
        };
        a.read_config_generation = [](void* c) -> uint8_t {
            auto* d = static_cast<FakeDevice*>(c);
            ++d->generation_reads;
            if (d->unstable > 0) {
                --d->unstable;
                return d->generation++;
            }
            return d->generation;
        };
        a.wait = [](void* c) { ++static_cast<FakeDevice*>(c)->waits; };
        return a;
    }
};

constexpr uint64_t bit(unsigned n) { return feature_bit(n); }

} // namespace

TEST_CASE("feature words")
{
    CHECK(feature_word(0x1122334455667788, 0) == 0x55667788);
    CHECK(feature_word(0x1122334455667788, 1) == 0x11223344);
    CHECK(feature_word(0x1122334455667788, 2) == 0);
    CHECK(features_from_words(0x55667788, 0x11223344) == 0x1122334455667788);
    CHECK(has_feature(bit(VIRTIO_F_VERSION_1), 32));
    CHECK_FALSE(has_feature(bit(VIRTIO_F_VERSION_1), 31));
    CHECK_FALSE(has_feature(~uint64_t(0), 64));
    CHECK(kTransportFeatureMask == 0x0003'ffff'ff00'0000);
}

TEST_CASE("negotiate_features: both sides' device bits, the implemented transport bits")
{
    Diagnostic diagnostic;
    uint64_t offered = bit(0) | bit(5) | bit(23) | bit(50) | bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_F_EVENT_IDX)
        | bit(VIRTIO_F_INDIRECT_DESC) | bit(VIRTIO_F_RING_PACKED) | bit(VIRTIO_F_ACCESS_PLATFORM)
        | bit(VIRTIO_F_IN_ORDER) | bit(VIRTIO_F_NOTIFY_ON_EMPTY);
    FeatureRequest request;
    request.wanted = bit(0) | bit(9) | bit(50);
    auto accepted = negotiate_features(offered, request, &diagnostic);
    REQUIRE(accepted.is_ok());
    CHECK(accepted.value()
        == (bit(0) | bit(50) | bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_F_EVENT_IDX) | bit(VIRTIO_F_INDIRECT_DESC)
            | bit(VIRTIO_F_ACCESS_PLATFORM)));

    // A driver that declines event indices.
    request.transport &= ~bit(VIRTIO_F_EVENT_IDX);
    CHECK_FALSE(has_feature(negotiate_features(offered, request, &diagnostic).value(), VIRTIO_F_EVENT_IDX));

    // Refusals.
    FeatureRequest plain;
    auto legacy = negotiate_features(bit(0) | bit(VIRTIO_F_EVENT_IDX), plain, &diagnostic);
    CHECK(legacy.error() == Error::ENODEV);
    CHECK(std::string(diagnostic.message)
        == "device offers features 0x0000000020000001 without VIRTIO_F_VERSION_1 (bit 32): a legacy-only device");

    FeatureRequest restricted;
    restricted.require_access_platform = true;
    CHECK(negotiate_features(bit(VIRTIO_F_VERSION_1), restricted, &diagnostic).error() == Error::ENODEV);
    CHECK(std::string(diagnostic.message)
        == "device offers features 0x0000000100000000 without VIRTIO_F_ACCESS_PLATFORM (bit 33), which this "
           "platform's restricted DMA requires");
    CHECK(negotiate_features(bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_F_ACCESS_PLATFORM), restricted, &diagnostic).value()
        == (bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_F_ACCESS_PLATFORM)));

    FeatureRequest stray;
    stray.wanted = bit(1) | bit(VIRTIO_F_RING_PACKED);
    CHECK(negotiate_features(offered, stray, &diagnostic).error() == Error::EINVAL);
    CHECK(std::string(diagnostic.message)
        == "driver asks for VIRTIO_F_RING_PACKED (bit 34) among its device features; transport bits go in the "
           "transport mask");
    stray.wanted = bit(45);
    CHECK(negotiate_features(offered, stray, &diagnostic).error() == Error::EINVAL);
    CHECK(std::string(diagnostic.message)
        == "driver asks for bit 45 among its device features; transport bits go in the transport mask");

    FeatureRequest no_version;
    no_version.transport = bit(VIRTIO_F_EVENT_IDX);
    CHECK(negotiate_features(offered, no_version, &diagnostic).error() == Error::EINVAL);
}

TEST_CASE("the status sequence of a device that accepts")
{
    FakeDevice device;
    device.offered = bit(3) | bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_F_EVENT_IDX) | bit(VIRTIO_F_RING_RESET);
    device.reset_reads = 3;
    DeviceAccess access = device.access();
    DeviceStatus status(access);
    Diagnostic diagnostic;

    REQUIRE(status.reset(&diagnostic).is_ok());
    CHECK(status.step() == DeviceStatus::Step::Reset);
    CHECK(device.waits == 3);
    FeatureRequest request;
    request.wanted = bit(3) | bit(4);
    auto features = status.negotiate(request, &diagnostic);
    INFO(diagnostic.message);
    REQUIRE(features.is_ok());
    CHECK(features.value() == (bit(3) | bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_F_EVENT_IDX)));
    CHECK(device.driver_features == features.value());
    CHECK(status.offered() == device.offered);
    CHECK(status.accepted() == features.value());
    CHECK(status.step() == DeviceStatus::Step::FeaturesOk);
    REQUIRE(status.driver_ok(&diagnostic).is_ok());
    CHECK(status.step() == DeviceStatus::Step::DriverOk);
    CHECK(device.writes == std::vector<uint8_t> { 0x00, 0x01, 0x03, 0x0b, 0x0f });
    CHECK(status.check(&diagnostic).value() == 0x0f);

    // Later the device asks for a reset.
    device.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    CHECK(status.check(&diagnostic).error() == Error::EIO);
    CHECK(std::string(diagnostic.message) == "device status 0x4f now: DEVICE_NEEDS_RESET is set");

    // And a reset starts over.
    REQUIRE(status.reset(&diagnostic).is_ok());
    CHECK(status.accepted() == 0);
    REQUIRE(status.negotiate(request, &diagnostic).is_ok());
}

TEST_CASE("a device that refuses FEATURES_OK")
{
    FakeDevice device;
    device.offered = bit(1) | bit(VIRTIO_F_VERSION_1);
    device.keep_features_ok = false;
    DeviceAccess access = device.access();
    DeviceStatus status(access);
    Diagnostic diagnostic;
    REQUIRE(status.reset(&diagnostic).is_ok());
    FeatureRequest request;
    request.wanted = bit(1);
    auto features = status.negotiate(request, &diagnostic);
    REQUIRE(features.is_error());
    CHECK(features.error() == Error::ENODEV);
    CHECK(std::string(diagnostic.message)
        == "device refused the features: status 0x03 after writing 0x0b (FEATURES_OK not kept); accepted "
           "0x0000000100000002 of offered 0x0000000100000002");
    CHECK(status.step() == DeviceStatus::Step::Failed);
    CHECK(device.writes.back() == (0x0b | VIRTIO_CONFIG_S_FAILED));
    CHECK(status.driver_ok(&diagnostic).error() == Error::EINVAL);
    CHECK(std::string(diagnostic.message) == "DRIVER_OK before the features were negotiated");
}

TEST_CASE("devices that fail in other ways")
{
    Diagnostic diagnostic;
    FeatureRequest request;
    SECTION("legacy only: FAILED is set")
    {
        FakeDevice device;
        device.offered = bit(0);
        DeviceAccess access = device.access();
        DeviceStatus status(access);
        REQUIRE(status.reset(&diagnostic).is_ok());
        CHECK(status.negotiate(request, &diagnostic).error() == Error::ENODEV);
        CHECK(device.writes == std::vector<uint8_t> { 0x00, 0x01, 0x03, 0x83 });
    }
    SECTION("needs a reset right after FEATURES_OK")
    {
        FakeDevice device;
        device.set_after_features = VIRTIO_CONFIG_S_NEEDS_RESET;
        DeviceAccess access = device.access();
        DeviceStatus status(access);
        REQUIRE(status.reset(&diagnostic).is_ok());
        CHECK(status.negotiate(request, &diagnostic).error() == Error::EIO);
        CHECK(std::string(diagnostic.message)
            == "device status 0x4b after FEATURES_OK was written: DEVICE_NEEDS_RESET is set");
        CHECK(status.step() == DeviceStatus::Step::Failed);
    }
    SECTION("gone from the bus")
    {
        FakeDevice device;
        device.gone = true;
        DeviceAccess access = device.access();
        DeviceStatus status(access);
        CHECK(status.reset(&diagnostic).error() == Error::ENODEV);
        CHECK(std::string(diagnostic.message) == "device status reads 0xff during the reset: the device is gone");
        CHECK(status.negotiate(request, &diagnostic).error() == Error::EINVAL);
        CHECK(std::string(diagnostic.message) == "feature negotiation needs a freshly reset device");
    }
    SECTION("gone after FEATURES_OK")
    {
        FakeDevice device;
        DeviceAccess access = device.access();
        DeviceStatus status(access);
        REQUIRE(status.reset(&diagnostic).is_ok());
        device.reset_reads = 0;
        access.read_status = [](void* c) -> uint8_t {
            auto* d = static_cast<FakeDevice*>(c);
            return d->status & VIRTIO_CONFIG_S_FEATURES_OK ? 0xff : d->status;
        };
        DeviceStatus second(access);
        REQUIRE(second.reset(&diagnostic).is_ok());
        CHECK(second.negotiate(request, &diagnostic).error() == Error::ENODEV);
        CHECK(std::string(diagnostic.message)
            == "device status reads 0xff after FEATURES_OK was written: the device is gone");
    }
    SECTION("a reset that never completes")
    {
        FakeDevice device;
        device.reset_reads = 1000000;
        DeviceAccess access = device.access();
        DeviceStatus status(access);
        CHECK(status.reset(&diagnostic, 50).error() == Error::ETIMEDOUT);
        CHECK(
            std::string(diagnostic.message) == "device status still 0x01 after 50 reads following a reset (writing 0)");
        CHECK(device.waits == 50);
        CHECK(status.step() == DeviceStatus::Step::Unknown);
    }
    SECTION("out of order")
    {
        FakeDevice device;
        DeviceAccess access = device.access();
        DeviceStatus status(access);
        CHECK(status.negotiate(request, &diagnostic).error() == Error::EINVAL);
        CHECK(status.driver_ok(&diagnostic).error() == Error::EINVAL);
        CHECK(device.writes.empty());
    }
}

TEST_CASE("configuration reads retry while the generation moves")
{
    Diagnostic diagnostic;
    FakeDevice device;
    DeviceAccess access = device.access();

    unsigned reads = 0;
    REQUIRE(read_config(
        access, [&] { ++reads; }, &diagnostic)
                .is_ok());
    CHECK(reads == 1);
    CHECK(device.generation_reads == 2);

    // Changing during the first two attempts: read three times.
    device.unstable = 3;
    reads = 0;
    REQUIRE(read_config(
        access, [&] { ++reads; }, &diagnostic)
                .is_ok());
    CHECK(reads == 3);

    // Never settling: EAGAIN after the attempts.
    device.unstable = 1000;
    reads = 0;
    auto result = read_config(
        access, [&] { ++reads; }, &diagnostic, 5);
    REQUIRE(result.is_error());
    CHECK(result.error() == Error::EAGAIN);
    CHECK(reads == 5);
    CHECK(std::string(diagnostic.message)
        == "configuration generation kept changing: 5 attempts, the last read 0x1b then 0x1c");

    // The plain callback form.
    device.unstable = 0;
    int value = 0;
    REQUIRE(read_config(
        access, [](void* c) { *static_cast<int*>(c) = 42; }, &value, &diagnostic)
                .is_ok());
    CHECK(value == 42);
}
