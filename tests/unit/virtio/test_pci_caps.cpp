// The virtio-pci capability parser against synthetic configuration
// spaces: QEMU's layout, missing structures, loops, BARs out of range,
// lengths that overflow, notify multipliers; the PCI IDs of virtio.
#include <catch2/catch.hpp>

#include <string>

#include "config_space.h"
#include "lib/virtio/pci_caps.h"

using keel::Diagnostic;
using keel::Error;
using namespace keel::virtio;
using namespace virtio_test;

namespace {

constexpr uint64_t kBars[kPciBarCount] = { 0, 0, 0, 0, 0x4000, 0 };

// QEMU's modern virtio-pci layout: every structure in BAR 4 (16 KiB, a
// 64-bit BAR, so BAR 5 is its upper half), the list headed by MSI-X.
ConfigSpace qemu_layout(uint32_t multiplier = 4)
{
    ConfigSpace space;
    space.add_capability(0x98, 0x11, 12); // MSI-X
    space.add_virtio(0x84, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0);
    space.add_virtio(0x70, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000, multiplier);
    space.add_virtio(0x60, VIRTIO_PCI_CAP_DEVICE_CFG, 4, 0x2000, 0x1000);
    space.add_virtio(0x50, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000);
    space.add_virtio(0x40, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0x0000, 0x1000);
    return space;
}

struct Outcome {
    keel::Result<VirtioPciLayout> result;
    std::string message;
};

Outcome parse(ConfigSpace& space, const uint64_t (&bars)[kPciBarCount] = kBars)
{
    Diagnostic diagnostic;
    PciConfigAccess access = space.access();
    auto result = find_virtio_pci_layout(access, bars, &diagnostic);
    return { std::move(result), diagnostic.message };
}

void check_refused(
    ConfigSpace& space, Error error, const std::string& message, const uint64_t (&bars)[kPciBarCount] = kBars)
{
    Outcome outcome = parse(space, bars);
    REQUIRE(outcome.result.is_error());
    CHECK(outcome.result.error() == error);
    CHECK(outcome.message == message);
}

} // namespace

TEST_CASE("QEMU's layout: every structure found where it is")
{
    ConfigSpace space = qemu_layout();
    Outcome outcome = parse(space);
    INFO(outcome.message);
    REQUIRE(outcome.result.is_ok());
    const VirtioPciLayout& layout = outcome.result.value();
    CHECK(layout.common.present);
    CHECK(layout.common.capability == 0x40);
    CHECK(layout.common.bar == 4);
    CHECK(layout.common.offset == 0);
    CHECK(layout.common.length == 0x1000);
    CHECK(layout.isr.offset == 0x1000);
    CHECK(layout.device.present);
    CHECK(layout.device.offset == 0x2000);
    CHECK(layout.notify.offset == 0x3000);
    CHECK(layout.notify.capability == 0x70);
    CHECK(layout.notify_off_multiplier == 4);
    CHECK(layout.pci_cfg_capability == 0x84);
    CHECK(layout.virtio_capabilities == 5);
}

TEST_CASE("notification registers: cap.offset + queue_notify_off * multiplier, inside the structure")
{
    ConfigSpace space = qemu_layout();
    VirtioPciLayout layout = parse(space).result.release_value();
    for (uint16_t queue : { 0, 1, 2, 3 })
        CHECK(virtio_pci_notify_offset(layout, queue, false).value() == 0x3000 + 4u * queue);
    CHECK(virtio_pci_notify_offset(layout, 1023, false).value() == 0x3ffc);
    CHECK(virtio_pci_notify_offset(layout, 1023, true).value() == 0x3ffc); // 4 bytes still fit
    Diagnostic diagnostic;
    auto past = virtio_pci_notify_offset(layout, 1024, false, &diagnostic);
    REQUIRE(past.is_error());
    CHECK(past.error() == Error::ERANGE);
    CHECK(std::string(diagnostic.message)
        == "queue_notify_off 1024 * notify_off_multiplier 4 + 2 exceeds the notification structure's length 0x1000");
    CHECK(virtio_pci_notify_offset(layout, 0xffff, false).error() == Error::ERANGE);

    // A multiplier of 0: every queue notifies through the same register,
    // which the specification allows.
    ConfigSpace shared = qemu_layout(0);
    VirtioPciLayout shared_layout = parse(shared).result.release_value();
    CHECK(shared_layout.notify_off_multiplier == 0);
    for (uint16_t queue : { 0, 1, 7, 0xffff })
        CHECK(virtio_pci_notify_offset(shared_layout, queue, false).value() == 0x3000);

    // QEMU's page-per-vq: 4096.
    ConfigSpace paged = qemu_layout(4096);
    paged.set32(0x70 + 12, 0x1000); // one page: only queue 0 fits
    VirtioPciLayout paged_layout = parse(paged).result.release_value();
    CHECK(virtio_pci_notify_offset(paged_layout, 0, false).value() == 0x3000);
    CHECK(virtio_pci_notify_offset(paged_layout, 1, false).error() == Error::ERANGE);

    // 4-byte registers (VIRTIO_F_NOTIFICATION_DATA) do not fit 2 apart.
    ConfigSpace narrow = qemu_layout(2);
    VirtioPciLayout narrow_layout = parse(narrow).result.release_value();
    CHECK(virtio_pci_notify_offset(narrow_layout, 3, false).value() == 0x3006);
    CHECK(virtio_pci_notify_offset(narrow_layout, 3, true, &diagnostic).error() == Error::ERANGE);
    CHECK(std::string(diagnostic.message)
        == "notify_off_multiplier 2 overlaps the 4-byte registers of VIRTIO_F_NOTIFICATION_DATA");
}

TEST_CASE("missing structures are named")
{
    ConfigSpace no_common;
    no_common.add_virtio(0x40, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000);
    no_common.add_virtio(0x50, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000);
    no_common.add_virtio(0x64, VIRTIO_PCI_CAP_DEVICE_CFG, 4, 0x2000, 0x1000);
    check_refused(
        no_common, Error::ENODEV, "no common configuration capability (cfg_type 1) among 3 virtio capabilities");

    ConfigSpace no_notify;
    no_notify.add_virtio(0x40, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0, 0x1000);
    no_notify.add_virtio(0x50, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000);
    check_refused(no_notify, Error::ENODEV, "no notification capability (cfg_type 2) among 2 virtio capabilities");

    ConfigSpace no_isr;
    no_isr.add_virtio(0x40, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0, 0x1000);
    no_isr.add_virtio(0x50, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000);
    check_refused(no_isr, Error::ENODEV, "no ISR status capability (cfg_type 3) among 2 virtio capabilities");

    // No capability list at all (a legacy-only device).
    ConfigSpace legacy = qemu_layout();
    legacy.set16(PCI_STATUS, 0);
    check_refused(legacy, Error::ENODEV, "no common configuration capability (cfg_type 1) among 0 virtio capabilities");

    // The device configuration is optional: virtio-rng has none.
    ConfigSpace rng;
    rng.add_virtio(0x40, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0, 0x1000);
    rng.add_virtio(0x50, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000);
    rng.add_virtio(0x60, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000);
    Outcome outcome = parse(rng);
    REQUIRE(outcome.result.is_ok());
    CHECK_FALSE(outcome.result.value().device.present);
    CHECK(outcome.result.value().pci_cfg_capability == 0);
}

TEST_CASE("a malformed capability list ends the walk with a message")
{
    SECTION("a loop back to the first capability")
    {
        ConfigSpace space = qemu_layout();
        space.set8(0x40 + 1, 0x98); // common (the last) points back at the head
        check_refused(space, Error::EINVAL, "capability list loops: the capability at 0x40 points back to 0x98");
    }
    SECTION("a capability pointing at itself")
    {
        ConfigSpace space;
        space.add_virtio(0x40, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0, 0x1000);
        space.set8(0x41, 0x40);
        check_refused(space, Error::EINVAL, "capability list loops: the capability at 0x40 points back to 0x40");
    }
    SECTION("a pointer into the standard header")
    {
        ConfigSpace space = qemu_layout();
        space.set8(0x60 + 1, 0x3c);
        check_refused(space, Error::EINVAL,
            "capability pointer 0x3c (read at 0x61) points into the standard header (below 0x40)");
        ConfigSpace first;
        first.set8(PCI_CAPABILITY_LIST, 0x10);
        check_refused(first, Error::EINVAL,
            "capability pointer 0x10 (read at 0x34) points into the standard header (below 0x40)");
    }
    SECTION("an id of 0xff, as a device that is gone reads")
    {
        ConfigSpace space = qemu_layout();
        space.set8(0x50, 0xff);
        check_refused(space, Error::EINVAL, "capability at 0x50 has id 0xff (what a device that is gone reads)");
    }
    SECTION("a configuration space smaller than the header")
    {
        ConfigSpace space(64);
        check_refused(space, Error::EINVAL, "configuration space of 64 bytes is smaller than the 256-byte header");
    }
}

TEST_CASE("the walker: reserved pointer bits, CardBus headers, the longest list")
{
    ConfigSpace space;
    space.set8(PCI_CAPABILITY_LIST, 0x43); // the low bits are reserved
    space.set8(0x40, 0x05);
    space.set8(0x41, 0x52);
    space.set8(0x50, 0x10);
    PciConfigAccess access = space.access();
    PciCapabilityWalker walker(access);
    auto first = walker.next();
    REQUIRE(first.is_ok());
    CHECK(first.value().offset == 0x40);
    CHECK(first.value().id == 0x05);
    auto second = walker.next();
    REQUIRE(second.is_ok());
    CHECK(second.value().offset == 0x50);
    CHECK(walker.next().error() == Error::ENODATA);
    CHECK(walker.next().error() == Error::ENODATA);

    ConfigSpace cardbus;
    cardbus.set8(PCI_HEADER_TYPE, 0x82); // multi-function CardBus bridge
    cardbus.set8(PCI_CB_CAPABILITY_LIST, 0x80);
    cardbus.set8(0x80, 0x01);
    PciConfigAccess cardbus_access = cardbus.access();
    PciCapabilityWalker cardbus_walker(cardbus_access);
    CHECK(cardbus_walker.next().value().offset == 0x80);

    // Every dword from 0x40 to 0xfc holds a capability: 48 of them, no loop.
    ConfigSpace full;
    for (unsigned position = 0x40; position <= 0xfc; position += 4)
        full.add_capability(uint8_t(position), 0x01, 4);
    PciConfigAccess full_access = full.access();
    PciCapabilityWalker full_walker(full_access);
    unsigned count = 0;
    while (full_walker.next().is_ok())
        ++count;
    CHECK(count == 48);

    // A 4096-byte (PCI Express) space reads the same list.
    ConfigSpace express(4096);
    express.add_virtio(0x40, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0, 0x1000);
    express.add_virtio(0x50, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000);
    express.add_virtio(0x60, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000);
    CHECK(parse(express).result.is_ok());
}

TEST_CASE("each virtio capability is checked against its BAR")
{
    struct Case {
        const char* what;
        void (*mutate)(ConfigSpace&);
        const char* message;
    };
    const Case cases[] = {
        { "BAR index out of range", [](ConfigSpace& s) { s.set8(0x40 + 4, 6); },
            "no usable common configuration capability: the one at 0x40: bar 6 is reserved (BARs are 0-5)" },
        { "BAR index far out of range", [](ConfigSpace& s) { s.set8(0x70 + 4, 0xff); },
            "no usable notification capability: the one at 0x70: bar 255 is reserved (BARs are 0-5)" },
        { "BAR not implemented", [](ConfigSpace& s) { s.set8(0x50 + 4, 2); },
            "no usable ISR status capability: the one at 0x50: BAR 2 is not implemented" },
        { "the upper half of a 64-bit BAR", [](ConfigSpace& s) { s.set8(0x40 + 4, 5); },
            "no usable common configuration capability: the one at 0x40: BAR 5 is not implemented" },
        { "past the end of the BAR", [](ConfigSpace& s) { s.set32(0x70 + 12, 0x2000); },
            "no usable notification capability: the one at 0x70: offset 0x3000 + length 0x2000 = 0x5000 exceeds BAR 4 "
            "(0x4000 bytes)" },
        { "offset + length overflowing 32 bits",
            [](ConfigSpace& s) {
                s.set32(0x40 + 8, 0xfffff000);
                s.set32(0x40 + 12, 0x2000);
            },
            "no usable common configuration capability: the one at 0x40: offset 0xfffff000 + length 0x2000 = "
            "0x100001000 exceeds BAR 4 (0x4000 bytes)" },
        { "length 0xffffffff", [](ConfigSpace& s) { s.set32(0x50 + 12, 0xffffffff); },
            "no usable ISR status capability: the one at 0x50: offset 0x1000 + length 0xffffffff = 0x100000fff "
            "exceeds BAR 4 (0x4000 bytes)" },
        { "common configuration too short", [](ConfigSpace& s) { s.set32(0x40 + 12, 0x30); },
            "no usable common configuration capability: the one at 0x40: length 0x30 is shorter than the common "
            "configuration (0x38 bytes)" },
        { "common configuration misaligned", [](ConfigSpace& s) { s.set32(0x40 + 8, 0x2); },
            "no usable common configuration capability: the one at 0x40: offset 0x2 is not 4-byte aligned" },
        { "notify misaligned",
            [](ConfigSpace& s) {
                s.set32(0x70 + 8, 0x3001);
                s.set32(0x70 + 12, 0x100);
            },
            "no usable notification capability: the one at 0x70: offset 0x3001 is not 2-byte aligned" },
        { "notify too short", [](ConfigSpace& s) { s.set32(0x70 + 12, 1); },
            "no usable notification capability: the one at 0x70: length 0x1 cannot hold a 2-byte notification "
            "register" },
        { "notify multiplier 3", [](ConfigSpace& s) { s.set32(0x70 + 16, 3); },
            "no usable notification capability: the one at 0x70: notify_off_multiplier 3 is neither 0 nor a power of "
            "two from 2" },
        { "notify multiplier 1", [](ConfigSpace& s) { s.set32(0x70 + 16, 1); },
            "no usable notification capability: the one at 0x70: notify_off_multiplier 1 is neither 0 nor a power of "
            "two from 2" },
        { "notify capability without its multiplier", [](ConfigSpace& s) { s.set8(0x70 + 2, 16); },
            "no usable notification capability: the one at 0x70: cap_len 16 is shorter than the structure's 20 bytes" },
        { "cap_len shorter than a virtio capability", [](ConfigSpace& s) { s.set8(0x50 + 2, 12); },
            "no usable ISR status capability: the one at 0x50: cap_len 12 is shorter than the structure's 16 bytes" },
        { "ISR of length 0", [](ConfigSpace& s) { s.set32(0x50 + 12, 0); },
            "no usable ISR status capability: the one at 0x50: length 0 cannot hold the ISR status byte" },
    };
    for (const Case& c : cases) {
        INFO(c.what);
        ConfigSpace space = qemu_layout();
        c.mutate(space);
        check_refused(space, Error::ENODEV, c.message);
    }

    // The device configuration is optional: a bad one is skipped, not fatal.
    ConfigSpace space = qemu_layout();
    space.set8(0x60 + 4, 9);
    Outcome outcome = parse(space);
    REQUIRE(outcome.result.is_ok());
    CHECK_FALSE(outcome.result.value().device.present);

    // A capability running past the 256-byte header.
    ConfigSpace edge;
    edge.add_virtio(0x40, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000);
    edge.add_virtio(0x50, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000);
    edge.add_capability(0xf8, PCI_CAP_ID_VNDR, 16);
    edge.set8(0xf8 + 3, VIRTIO_PCI_CAP_COMMON_CFG);
    check_refused(edge, Error::ENODEV,
        "no usable common configuration capability: the one at 0xf8: cap_len 16 runs past the end of the 256-byte "
        "header");
}

TEST_CASE("an unusable capability is skipped for a later one of the same type")
{
    ConfigSpace space = qemu_layout();
    // Replace MSI-X at 0x98 by a bad common configuration that comes first.
    space.set8(0x98, PCI_CAP_ID_VNDR);
    space.set8(0x98 + 2, 16);
    space.set8(0x98 + 3, VIRTIO_PCI_CAP_COMMON_CFG);
    space.set8(0x98 + 4, 7);
    Outcome outcome = parse(space);
    REQUIRE(outcome.result.is_ok());
    CHECK(outcome.result.value().common.capability == 0x40);

    // Two good ones: the first in list order wins.
    ConfigSpace twice = qemu_layout();
    twice.set8(0x98, PCI_CAP_ID_VNDR);
    twice.set8(0x98 + 2, 16);
    twice.set8(0x98 + 3, VIRTIO_PCI_CAP_COMMON_CFG);
    twice.set8(0x98 + 4, 4);
    twice.set32(0x98 + 8, 0x100);
    twice.set32(0x98 + 12, 0x100);
    CHECK(parse(twice).result.value().common.offset == 0x100);

    // Reserved, shared-memory and vendor types are ignored.
    ConfigSpace others = qemu_layout();
    for (uint8_t type : { 0, 6, 8, 9, 200 }) {
        others.set8(0x98, PCI_CAP_ID_VNDR);
        others.set8(0x98 + 2, 16);
        others.set8(0x98 + 3, type);
        others.set8(0x98 + 4, 77);
        CHECK(parse(others).result.is_ok());
    }
}

TEST_CASE("virtio PCI IDs: modern, transitional, and what is not virtio")
{
    struct Case {
        uint16_t vendor, device, subsystem;
        uint32_t type;
        bool transitional;
    };
    const Case good[] = {
        { 0x1af4, 0x1041, 0x1100, 1, false },  // virtio-net-pci, disable-legacy=on
        { 0x1af4, 0x1042, 0x1100, 2, false },  // virtio-blk-pci
        { 0x1af4, 0x1044, 0x1100, 4, false },  // virtio-rng-pci
        { 0x1af4, 0x107f, 0x0000, 63, false }, // the top of the modern range
        { 0x1af4, 0x1000, 0x0001, 1, true },   // transitional virtio-net
        { 0x1af4, 0x1001, 0x0002, 2, true },   // transitional virtio-blk
        { 0x1af4, 0x1005, 0x0004, 4, true },   // transitional virtio-rng
        { 0x1af4, 0x103f, 0x0009, 9, true },
    };
    for (const Case& c : good) {
        auto identity = identify_virtio_pci(c.vendor, c.device, c.subsystem);
        REQUIRE(identity.is_ok());
        CHECK(identity.value().device_type == c.type);
        CHECK(identity.value().transitional == c.transitional);
    }
    struct Bad {
        uint16_t vendor, device, subsystem;
        const char* message;
    };
    const Bad bad[] = {
        { 0x1234, 0x11e8, 0x1100, "vendor 0x1234 is not virtio's 0x1af4" },
        { 0x1af4, 0x0fff, 0x0001, "device 0x0fff is outside virtio's 0x1000-0x107f" },
        { 0x1af4, 0x1080, 0x0001, "device 0x1080 is outside virtio's 0x1000-0x107f" },
        { 0x1af4, 0x1110, 0x1100, "device 0x1110 is outside virtio's 0x1000-0x107f" }, // QEMU's ivshmem
        { 0x1af4, 0x1001, 0x0000, "transitional device 0x1001 has subsystem device ID 0, no virtio type" },
        { 0x1af4, 0x1040, 0x1100, "device 0x1040 would be virtio type 0, which is reserved" },
    };
    for (const Bad& b : bad) {
        Diagnostic diagnostic;
        auto identity = identify_virtio_pci(b.vendor, b.device, b.subsystem, &diagnostic);
        REQUIRE(identity.is_error());
        CHECK(identity.error() == Error::ENODEV);
        CHECK(std::string(diagnostic.message) == b.message);
    }
}
