// Placing BARs in a host bridge's windows (core/device/pci/assign.cpp),
// against synthetic functions whose BARs answer as hardware does: the
// unassigned placed and written with decoding off, bus addresses turned
// into CPU addresses, the firmware's placements kept unless they lie
// outside every window or over one placed before, and what fits nowhere
// left out with a log line.
#include <catch2/catch.hpp>

#include <string>

#include "device/pci/pci.h"
#include "fake_pci.h"
#include "host_platform.h"

using namespace keel;

namespace {

// QEMU virt's windows, with the 64-bit one moved so CPU and bus differ.
void add_virt_windows(PciBarPlacer& placer)
{
    placer.add_window({ PciBarWindow::kIo, false, 0, 0x3eff0000, 0x10000 });
    placer.add_window({ PciBarWindow::kMemory32, false, 0x10000000, 0x10000000, 0x2eff0000 });
    placer.add_window({ PciBarWindow::kMemory64, true, 0x8000000000, 0x4000000000, 0x8000000000 });
}

struct Placed {
    PciFunction function {};
    DeviceRegion regions[Device::kMaxRegions] {};
    size_t count = 0;
    size_t assigned = 0;
};

Placed place(FakePci& pci, PciBarPlacer& placer, uint8_t slot)
{
    Placed placed;
    placed.function.address = { 0, 0, slot, 0 };
    placed.function.config = pci.ops();
    REQUIRE(pci_read_function(placed.function, placed.regions, placed.count).is_ok());
    placed.assigned = placer.place(placed.function, placed.regions, placed.count);
    return placed;
}

// BARs as a function without firmware shows them: the type bits only.
void unassigned(FakeFunction& f, unsigned index, uint64_t size, uint32_t flags)
{
    f.bars[index] = { size, flags };
    f.put<uint32_t>(uint16_t(0x10 + 4 * index), flags);
}

uint64_t bar(FakeFunction& f, unsigned index, bool wide)
{
    uint64_t low = f.get<uint32_t>(uint16_t(0x10 + 4 * index));
    uint64_t value = low & ((low & 1) ? ~3ull : ~0xfull);
    if (wide)
        value |= uint64_t(f.get<uint32_t>(uint16_t(0x14 + 4 * index))) << 32;
    return value & 0xffffffffffffffffull;
}

} // namespace

TEST_CASE("unassigned BARs are placed in the windows of their kind and written")
{
    FakePci pci;
    FakeFunction& net = pci.add(0, 1, 0, 0x1af4, 0x1000, 0x020000);
    unassigned(net, 0, 0x20, 1);       // I/O
    unassigned(net, 1, 0x1000, 0);     // 32-bit memory
    unassigned(net, 4, 0x4000, 4 | 8); // 64-bit prefetchable
    FakeFunction& edu = pci.add(0, 2, 0, 0x1234, 0x11e8, 0xff0000);
    unassigned(edu, 0, 0x100000, 0);
    unassigned(edu, 2, 0x100, 1);
    PciBarPlacer placer;
    add_virt_windows(placer);

    Placed first = place(pci, placer, 1);
    CHECK(first.assigned == 3);
    CHECK_FALSE(net.bar_written_while_decoding);
    // I/O from 0x1000 (legacy ports left alone), at the window's CPU address.
    CHECK(bar(net, 0, false) == 0x1000);
    CHECK(first.regions[0].phys == 0x3eff1000);
    CHECK(first.regions[0].flags == KEEL_REGION_IO);
    CHECK(bar(net, 1, false) == 0x10000000);
    CHECK(first.regions[1].phys == 0x10000000);
    CHECK(bar(net, 4, true) == 0x8000000000);
    CHECK(first.regions[4].phys == 0x4000000000);
    CHECK(first.regions[4].length == 0x4000);

    Placed second = place(pci, placer, 2);
    CHECK(second.assigned == 2);
    // Size-aligned after the 4 KiB one: the next MiB.
    CHECK(bar(edu, 0, false) == 0x10100000);
    CHECK(second.regions[0].phys == 0x10100000);
    // Naturally aligned after net's 32 ports.
    CHECK(bar(edu, 2, false) == 0x1100);
    CHECK(second.regions[2].phys == 0x3eff1100);
}

TEST_CASE("the firmware's placements are kept, translated, unless outside or over another")
{
    FakePci pci;
    FakeFunction& a = pci.add(0, 1, 0, 0x1234, 0x0001);
    a.bars[0] = { 0x10000, 0 };
    a.put<uint32_t>(0x10, 0x10020000); // firmware placed it
    a.bars[1] = { 0x1000, 4 };         // 64-bit, not prefetchable, at bus 0x8000100000
    a.put<uint32_t>(0x14, 0x00100004);
    a.put<uint32_t>(0x18, 0x80);
    FakeFunction& b = pci.add(0, 2, 0, 0x1234, 0x0002);
    b.bars[0] = { 0x10000, 0 };
    b.put<uint32_t>(0x10, 0x10020000); // over a's
    b.bars[1] = { 0x1000, 0 };
    b.put<uint32_t>(0x14, 0x00200000); // outside every window
    PciBarPlacer placer;
    add_virt_windows(placer);

    Placed first = place(pci, placer, 1);
    CHECK(first.assigned == 0);
    CHECK(first.regions[0].phys == 0x10020000);
    CHECK(bar(a, 0, false) == 0x10020000);
    CHECK(first.regions[1].phys == 0x4000100000);

    Placed second = place(pci, placer, 2);
    CHECK(second.assigned == 2);
    // The lowest free places: below a's BAR, then after it.
    CHECK(bar(b, 0, false) == 0x10000000);
    CHECK(bar(b, 1, false) == 0x10010000);
}

TEST_CASE("a 64-bit BAR without a 64-bit window goes below 4 GiB; what fits nowhere is left out")
{
    FakePci pci;
    FakeFunction& f = pci.add(0, 3, 0, 0x1234, 0x0003);
    unassigned(f, 0, 0x100000, 4 | 8);
    unassigned(f, 2, 0x40000000, 0); // 1 GiB: larger than the 32-bit window
    unassigned(f, 3, 0x100, 1);
    PciBarPlacer placer;
    placer.add_window({ PciBarWindow::kMemory32, false, 0x10000000, 0x10000000, 0x2eff0000 });
    placer.add_window({ PciBarWindow::kMemory64, false, 0, 0, 0 }); // empty: dropped
    CHECK(placer.window_count() == 1);
    CHECK(std::string(device_host_log()).find("window at bus address 0 (0 bytes) is empty, wraps or is one too many")
        != std::string::npos);
    Placed placed = place(pci, placer, 3);
    CHECK(placed.assigned == 1);
    CHECK(bar(f, 0, true) == 0x10000000);
    CHECK(placed.regions[2].length == 0);
    CHECK(placed.regions[3].length == 0); // no I/O window
    std::string log(device_host_log());
    CHECK(log.find("pci 0000:00:03.0: BAR 2 (memory, 0x40000000 bytes): no room in the host bridge's windows; "
                   "left out")
        != std::string::npos);
    CHECK(log.find("BAR 3 (I/O, 0x100 bytes): no room") != std::string::npos);
}

TEST_CASE("without windows BARs are used as they are")
{
    FakePci pci;
    FakeFunction& f = pci.add(0, 4, 0, 0x1234, 0x0004);
    unassigned(f, 0, 0x1000, 0);
    PciBarPlacer placer;
    Placed placed = place(pci, placer, 4);
    CHECK(placed.assigned == 0);
    CHECK(placed.regions[0].phys == 0);
    CHECK(bar(f, 0, false) == 0);
}
