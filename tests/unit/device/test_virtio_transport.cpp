// The virtio bus's transport side on the host (core/device/virtio/
// transport.cpp): the checks of a module's keel_virtio_transport_ops, field
// by field; feature negotiation and configuration reads through a
// synthetic transport, including a device that refuses FEATURES_OK, a
// legacy-only one, one that is gone and one whose configuration keeps
// changing.
#include <catch2/catch.hpp>
#include <string.h>

#include <string>
#include <vector>

#include <keel/keel.h>

#include "device/virtio/transport.h"

using namespace keel;
using namespace keel::virtio;

namespace {

// A device behind the transport: status, features, a configuration space.
struct FakeDevice {
    uint8_t status = 0;
    uint64_t offered = feature_bit(VIRTIO_F_VERSION_1) | feature_bit(VIRTIO_F_EVENT_IDX)
        | feature_bit(VIRTIO_F_INDIRECT_DESC) | (1u << 5) | (1u << 9);
    uint64_t driver_features = 0;
    bool refuse_features = false;
    uint8_t generation = 0;
    unsigned generation_bumps = 0; // the next reads of the configuration bump the generation
    uint8_t config[24] = {};
    unsigned config_reads = 0;
};

uint8_t get_status(void* context) { return static_cast<FakeDevice*>(context)->status; }
void set_status(void* context, uint8_t status)
{
    auto* d = static_cast<FakeDevice*>(context);
    d->status = status;
    if (status == 0)
        d->driver_features = 0;
    if ((status & VIRTIO_CONFIG_S_FEATURES_OK) && d->refuse_features)
        d->status &= uint8_t(~VIRTIO_CONFIG_S_FEATURES_OK);
}
uint32_t get_features(void* context, uint32_t select)
{
    return feature_word(static_cast<FakeDevice*>(context)->offered, select);
}
void set_features(void* context, uint32_t select, uint32_t value)
{
    auto* d = static_cast<FakeDevice*>(context);
    if (select == 0)
        d->driver_features = (d->driver_features & ~0xffffffffull) | value;
    else if (select == 1)
        d->driver_features = (d->driver_features & 0xffffffffull) | uint64_t(value) << 32;
}
uint8_t config_generation(void* context) { return static_cast<FakeDevice*>(context)->generation; }
int32_t config_read(void* context, uint32_t offset, void* buffer, uint32_t length)
{
    auto* d = static_cast<FakeDevice*>(context);
    d->config_reads++;
    if (d->generation_bumps) {
        d->generation_bumps--;
        d->generation++;
    }
    if (offset > sizeof(d->config) || length > sizeof(d->config) - offset)
        return -KEEL_EINVAL;
    memcpy(buffer, d->config + offset, length);
    return 0;
}
uint32_t queue_max_size(void*, uint32_t index) { return index == 0 ? 128 : 0; }
int32_t queue_setup(void*, uint32_t, uint32_t, uint64_t, uint64_t, uint64_t) { return 0; }
void notify(void*, uint32_t) { }

keel_virtio_transport_ops valid_ops()
{
    keel_virtio_transport_ops ops {};
    ops.size = sizeof(ops);
    ops.version = KEEL_VIRTIO_TRANSPORT_OPS_VERSION;
    ops.get_status = get_status;
    ops.set_status = set_status;
    ops.get_features = get_features;
    ops.set_features = set_features;
    ops.config_generation = config_generation;
    ops.config_read = config_read;
    ops.queue_max_size = queue_max_size;
    ops.queue_setup = queue_setup;
    ops.notify = notify;
    return ops;
}

bool readable_anywhere(const void*, size_t, void*) { return true; }

// Only the table itself (not the functions) lies in the "module".
const void* g_image_start = nullptr;
size_t g_image_size = 0;
bool readable_in_image(const void* address, size_t size, void*)
{
    auto start = reinterpret_cast<uintptr_t>(g_image_start);
    auto at = reinterpret_cast<uintptr_t>(address);
    return at >= start && size <= g_image_size && at - start <= g_image_size - size;
}

std::string refusal(
    const keel_virtio_transport_ops* ops, bool (*readable)(const void*, size_t, void*) = readable_anywhere)
{
    Diagnostic diagnostic;
    auto result = validate_virtio_transport_ops(ops, readable, nullptr, diagnostic);
    if (result.is_ok())
        return "";
    CHECK(result.error() == Error::EINVAL);
    return diagnostic.message;
}

} // namespace

TEST_CASE("a valid transport table is accepted")
{
    keel_virtio_transport_ops ops = valid_ops();
    CHECK(refusal(&ops).empty());
}

TEST_CASE("transport tables are refused field by field")
{
    keel_virtio_transport_ops ops = valid_ops();
    CHECK(refusal(nullptr) == "the table is NULL");
    SECTION("size")
    {
        ops.size = 16;
        CHECK(refusal(&ops) == "size 16 is smaller than a version-1 table (88 bytes)");
    }
    SECTION("version")
    {
        ops.version = 2;
        CHECK(refusal(&ops) == "version 2 is not 1 to 1");
        ops.version = 0;
        CHECK(refusal(&ops) == "version 0 is not 1 to 1");
    }
    SECTION("flags")
    {
        ops.flags = 4;
        CHECK(refusal(&ops) == "flags 0x4: none are defined in version 1");
    }
    SECTION("each operation is required")
    {
        ops.config_read = nullptr;
        CHECK(refusal(&ops) == "required operation config_read is NULL");
        ops = valid_ops();
        ops.notify = nullptr;
        CHECK(refusal(&ops) == "required operation notify is NULL");
        ops = valid_ops();
        ops.get_status = nullptr;
        CHECK(refusal(&ops) == "required operation get_status is NULL");
    }
    SECTION("the table and its operations lie in the module")
    {
        g_image_start = &ops;
        g_image_size = sizeof(ops);
        CHECK(refusal(&ops, readable_in_image).rfind("operation get_status at 0x", 0) == 0);
        CHECK(refusal(&ops, readable_in_image).find("does not lie in the module") != std::string::npos);
        ops.size = sizeof(ops) + 64; // claims bytes past the image
        CHECK(refusal(&ops, readable_in_image) == "the table's 152 bytes do not lie in the module");
        g_image_size = 4;
        CHECK(refusal(&ops, readable_in_image).rfind("the table at 0x", 0) == 0);
    }
}

TEST_CASE("an older, larger-or-equal table is copied up to the core's size")
{
    keel_virtio_transport_ops ops = valid_ops();
    FakeDevice device;
    VirtioTransport transport = make_virtio_transport(ops, &device);
    CHECK(transport.context == &device);
    CHECK(transport.ops.notify == notify);
    CHECK(transport.access().read_status(transport.access().context) == 0);
}

TEST_CASE("negotiation through a transport")
{
    keel_virtio_transport_ops ops = valid_ops();
    FakeDevice device;
    device.status = VIRTIO_CONFIG_S_DRIVER_OK; // left by an earlier driver: reset first
    VirtioTransport transport = make_virtio_transport(ops, &device);
    DeviceStatus status(transport.access());
    Diagnostic diagnostic;

    SECTION("the wanted device bits the device offers, VERSION_1 and EVENT_IDX; INDIRECT_DESC only when asked")
    {
        auto accepted = virtio_negotiate(status, (1u << 5) | (1u << 6) | feature_bit(VIRTIO_F_RING_PACKED), diagnostic);
        REQUIRE(accepted.is_ok());
        CHECK(accepted.value() == ((1u << 5) | feature_bit(VIRTIO_F_VERSION_1) | feature_bit(VIRTIO_F_EVENT_IDX)));
        CHECK(device.driver_features == accepted.value());
        CHECK(device.status == (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK));
        REQUIRE(status.driver_ok(&diagnostic).is_ok());
        CHECK((device.status & VIRTIO_CONFIG_S_DRIVER_OK) != 0);
    }
    SECTION("INDIRECT_DESC only when the driver asks, and only when offered")
    {
        auto accepted = virtio_negotiate(status, (1u << 5) | feature_bit(VIRTIO_F_INDIRECT_DESC), diagnostic);
        REQUIRE(accepted.is_ok());
        CHECK(accepted.value()
            == ((1u << 5) | feature_bit(VIRTIO_F_VERSION_1) | feature_bit(VIRTIO_F_EVENT_IDX)
                | feature_bit(VIRTIO_F_INDIRECT_DESC)));
        device.offered &= ~feature_bit(VIRTIO_F_INDIRECT_DESC);
        auto not_offered = virtio_negotiate(status, (1u << 5) | feature_bit(VIRTIO_F_INDIRECT_DESC), diagnostic);
        REQUIRE(not_offered.is_ok());
        CHECK((not_offered.value() & feature_bit(VIRTIO_F_INDIRECT_DESC)) == 0);
    }
    SECTION("a device that refuses FEATURES_OK")
    {
        device.refuse_features = true;
        auto accepted = virtio_negotiate(status, 1u << 9, diagnostic);
        REQUIRE(accepted.is_error());
        CHECK(accepted.error() == Error::ENODEV);
        CHECK(std::string(diagnostic.message).rfind("device refused the features: status 0x03 after writing 0x0b", 0)
            == 0);
        CHECK((device.status & VIRTIO_CONFIG_S_FAILED) != 0);
        CHECK(status.driver_ok(&diagnostic).is_error());
    }
    SECTION("a legacy-only device")
    {
        device.offered = 1u << 9;
        auto accepted = virtio_negotiate(status, 1u << 9, diagnostic);
        REQUIRE(accepted.is_error());
        CHECK(accepted.error() == Error::ENODEV);
        CHECK(std::string(diagnostic.message).find("without VIRTIO_F_VERSION_1") != std::string::npos);
    }
    SECTION("a device that is gone reads 0xff")
    {
        ops.get_status = [](void*) -> uint8_t { return 0xff; };
        VirtioTransport gone = make_virtio_transport(ops, &device);
        DeviceStatus gone_status(gone.access());
        auto accepted = virtio_negotiate(gone_status, 0, diagnostic);
        REQUIRE(accepted.is_error());
        CHECK((accepted.error() == Error::ETIMEDOUT || accepted.error() == Error::ENODEV));
    }
}

TEST_CASE("configuration reads through a transport")
{
    keel_virtio_transport_ops ops = valid_ops();
    FakeDevice device;
    for (uint8_t i = 0; i < sizeof(device.config); i++)
        device.config[i] = uint8_t(0x10 + i);
    VirtioTransport transport = make_virtio_transport(ops, &device);
    Diagnostic diagnostic;
    uint8_t buffer[24] = {};

    SECTION("a stable configuration is read once")
    {
        REQUIRE(virtio_config_read(transport, 8, buffer, 8, diagnostic).is_ok());
        CHECK(device.config_reads == 1);
        CHECK(memcmp(buffer, device.config + 8, 8) == 0);
    }
    SECTION("a generation change makes it read again")
    {
        device.generation_bumps = 3;
        REQUIRE(virtio_config_read(transport, 0, buffer, 24, diagnostic).is_ok());
        CHECK(device.config_reads == 4);
        CHECK(memcmp(buffer, device.config, 24) == 0);
    }
    SECTION("a generation that never settles: EAGAIN")
    {
        device.generation_bumps = 1000;
        auto read = virtio_config_read(transport, 0, buffer, 4, diagnostic);
        REQUIRE(read.is_error());
        CHECK(read.error() == Error::EAGAIN);
        CHECK(device.config_reads == kConfigReadAttempts);
    }
    SECTION("outside the configuration, or a bad length")
    {
        auto read = virtio_config_read(transport, 20, buffer, 8, diagnostic);
        REQUIRE(read.is_error());
        CHECK(read.error() == Error::EINVAL);
        CHECK(std::string(diagnostic.message)
            == "the transport refused 8 bytes at offset 0x14 of the configuration (-22)");
        CHECK(virtio_config_read(transport, 0, buffer, 0, diagnostic).error() == Error::EINVAL);
        CHECK(virtio_config_read(transport, 0, buffer, kVirtioConfigReadMax + 1, diagnostic).error() == Error::EINVAL);
    }
}
