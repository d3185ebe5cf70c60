// PCI decoding against synthetic configuration spaces (fake_pci.h): BAR
// sizing of every kind and every broken kind, capability lists (finding
// one after another, loops, wild pointers, an MSI-X table outside its BAR),
// the extended list, and enumeration through bridges, with the INTx swizzle
// and the bus numbers a hostile bridge can claim.
#include <catch2/catch.hpp>

#include <string>

#include "device/pci/pci.h"
#include "fake_pci.h"
#include "host_platform.h"

using namespace keel;

namespace {

PciFunction function_at(FakePci& pci, uint8_t bus, uint8_t device, uint8_t fn)
{
    PciFunction function {};
    function.address = { 0, bus, device, fn };
    function.config = pci.ops();
    return function;
}

struct Decoded {
    PciFunction function;
    DeviceRegion regions[Device::kMaxRegions];
    size_t count = 0;
};

Decoded decode(FakePci& pci, uint8_t bus = 0, uint8_t device = 1, uint8_t fn = 0)
{
    Decoded decoded;
    decoded.function = function_at(pci, bus, device, fn);
    REQUIRE(pci_read_function(decoded.function, decoded.regions, decoded.count).is_ok());
    return decoded;
}

std::string log_text() { return device_host_log(); }

void capability(FakeFunction& f, uint8_t offset, uint8_t id, uint8_t next)
{
    f.bytes[offset] = id;
    f.bytes[offset + 1] = next;
}

BusType g_test_bus { "pci", devmatch::DeviceBus::Pci, nullptr, nullptr, pci_release_function, {} };

void remove_everything()
{
    DeviceLockAccess access;
    while (Device* device = all_devices().last()) {
        while (device->parent)
            device = device->parent;
        device_remove(*device);
    }
}

} // namespace

TEST_CASE("BARs of every kind are sized with decoding off, then restored")
{
    FakePci pci;
    device_host_clear_log();
    FakeFunction& f = pci.add(0, 1, 0, 0x1234, 0x11e8, 0x00ff00);
    f.put<uint16_t>(4, 3); // memory and I/O decoding on
    f.bars[0] = { 0x1000, 0 };
    f.put<uint32_t>(0x10, 0xfebd0000);
    f.bars[1] = { 32, 1 };
    f.put<uint32_t>(0x14, 0xc041);
    f.bars[2] = { 1ull << 34, 4 | 8 }; // 64-bit prefetchable, 16 GiB
    f.put<uint32_t>(0x18, 0x0000000c);
    f.put<uint32_t>(0x1c, 0x00000080);
    // BAR 4 not implemented; BAR 5 a 32-bit 1 MiB window.
    f.bars[5] = { 1 << 20, 0 };
    f.put<uint32_t>(0x24, 0xfea00000);
    Decoded d = decode(pci);
    CHECK(d.count == 6);
    CHECK(d.regions[0].phys == 0xfebd0000);
    CHECK(d.regions[0].length == 0x1000);
    CHECK(d.regions[0].flags == KEEL_REGION_MEMORY);
    CHECK(d.regions[1].phys == 0xc040);
    CHECK(d.regions[1].length == 32);
    CHECK(d.regions[1].flags == KEEL_REGION_IO);
    CHECK(d.regions[2].phys == 0x8000000000ull);
    CHECK(d.regions[2].length == 1ull << 34);
    CHECK(d.regions[2].flags == (KEEL_REGION_MEMORY | KEEL_REGION_64BIT | KEEL_REGION_PREFETCHABLE));
    CHECK(d.regions[3].length == 0); // the upper half
    CHECK(d.regions[4].length == 0);
    CHECK(d.regions[5].length == 1 << 20);
    CHECK(!f.bar_written_while_decoding);
    CHECK(f.get<uint16_t>(4) == 3);
    CHECK(f.get<uint32_t>(0x10) == 0xfebd0000);
    CHECK(f.get<uint32_t>(0x1c) == 0x80);
    CHECK(log_text().empty());
    CHECK(d.function.identity.vendor == 0x1234);
    CHECK(d.function.identity.class_code == 0x00ff00);
    CHECK(d.function.revision == 1);
}

TEST_CASE("Broken BARs are left out, saying why")
{
    FakePci pci;
    device_host_clear_log();
    FakeFunction& f = pci.add(0, 1, 0, 0x1234, 0x0001);
    f.bars[0] = { 0x100000, 0, true }; // a hole in the size mask
    f.put<uint32_t>(0x10, 0xfe000000);
    f.bars[1] = { 0x1000, 2 }; // type 1: reserved
    f.put<uint32_t>(0x14, 0xfd000002);
    f.bars[5] = { 0x1000, 4 }; // 64-bit in the last slot
    f.put<uint32_t>(0x24, 0xfc000004);
    Decoded d = decode(pci);
    CHECK(d.regions[0].length == 0);
    CHECK(d.regions[1].length == 0);
    CHECK(d.regions[5].length == 0);
    std::string log = log_text();
    CHECK(log.find("pci 0000:00:01.0: BAR 0: size mask 0xfffffffffef00000 is not contiguous; ignored")
        != std::string::npos);
    CHECK(log.find("BAR 1: memory type 1 is reserved; ignored") != std::string::npos);
    CHECK(log.find("BAR 5: a 64-bit BAR in the last slot; ignored") != std::string::npos);
}

TEST_CASE("Capabilities are found one after another, and MSI-X is checked against its BAR")
{
    FakePci pci;
    device_host_clear_log();
    FakeFunction& f = pci.add(0, 1, 0, 0x1af4, 0x1042);
    f.put<uint16_t>(6, kPciStatusCapabilities);
    f.bytes[0x34] = 0x40;
    capability(f, 0x40, 0x09, 0x50);
    capability(f, 0x50, 0x05, 0x60);
    capability(f, 0x60, 0x09, 0x70);
    capability(f, 0x70, 0x11, 0x84);
    capability(f, 0x84, 0x09, 0x00);
    f.put<uint16_t>(0x72, 15);         // 16 entries
    f.put<uint32_t>(0x74, 0x2000 | 1); // in BAR 1 at 0x2000
    f.bars[1] = { 0x4000, 0 };
    f.put<uint32_t>(0x14, 0xfeb80000);
    Decoded d = decode(pci);
    CHECK(d.function.msi == 0x50);
    CHECK(d.function.msix == 0x70);
    CHECK(d.function.msix_entries == 16);
    CHECK(d.function.msix_bar == 1);
    CHECK(d.function.msix_offset == 0x2000);
    CHECK(MUST(pci_find_capability(d.function, 0x09, 0)) == 0x40);
    CHECK(MUST(pci_find_capability(d.function, 0x09, 0x40)) == 0x60);
    CHECK(MUST(pci_find_capability(d.function, 0x09, 0x60)) == 0x84);
    CHECK(pci_find_capability(d.function, 0x09, 0x84).error() == Error::ENOENT);
    CHECK(pci_find_capability(d.function, 0x09, 0x44).error() == Error::ENOENT); // not a capability
    CHECK(pci_find_capability(d.function, 0x10, 0).error() == Error::ENOENT);
    CHECK(log_text().empty());

    // A table that runs past its BAR: MSI-X is not used.
    f.put<uint16_t>(0x72, 1023);
    device_host_clear_log();
    Decoded overrun = decode(pci);
    CHECK(overrun.function.msix == 0);
    CHECK(log_text().find("MSI-X table (1024 entries at 0x2000) overruns BAR 1") != std::string::npos);
    // A table in an I/O BAR.
    f.put<uint16_t>(0x72, 0);
    f.put<uint32_t>(0x74, 0x0 | 2);
    f.bars[2] = { 32, 1 };
    f.put<uint32_t>(0x18, 0xc001);
    device_host_clear_log();
    CHECK(decode(pci).function.msix == 0);
    CHECK(log_text().find("MSI-X table in BAR 2, which is not a memory BAR") != std::string::npos);
}

TEST_CASE("A capability list that loops or points astray ends the walk")
{
    FakePci pci;
    FakeFunction& f = pci.add(0, 1, 0, 0x1234, 0x0001);
    f.put<uint16_t>(6, kPciStatusCapabilities);
    f.bytes[0x34] = 0x40;
    capability(f, 0x40, 0x05, 0x48);
    capability(f, 0x48, 0x09, 0x40); // back to the start
    device_host_clear_log();
    Decoded d = decode(pci);
    CHECK(d.function.msi == 0x40);
    CHECK(log_text().find("capability list does not end (a loop?)") != std::string::npos);
    CHECK(pci_find_capability(d.function, 0x11, 0).error() == Error::ENOENT);

    capability(f, 0x48, 0x09, 0x20); // into the header
    device_host_clear_log();
    decode(pci);
    CHECK(log_text().find("capability pointer outside 0x40..0xfc or misaligned") != std::string::npos);
    capability(f, 0x48, 0x09, 0x4a); // misaligned
    device_host_clear_log();
    decode(pci);
    CHECK(log_text().find("misaligned") != std::string::npos);
    // The status bit off: no list at all.
    f.put<uint16_t>(6, 0);
    CHECK(decode(pci).function.msi == 0);
}

TEST_CASE("The extended list is walked only on PCI Express functions with 4 KiB of space")
{
    FakePci pci;
    FakeFunction& f = pci.add(0, 1, 0, 0x8086, 0x10d3);
    f.put<uint16_t>(6, kPciStatusCapabilities);
    f.bytes[0x34] = 0xe0;
    capability(f, 0xe0, 0x10, 0x00);
    f.put<uint32_t>(0x100, 0x0001 | 1 << 16 | 0x140u << 20); // AER
    f.put<uint32_t>(0x140, 0x0003 | 1 << 16 | 0x000u << 20); // serial number
    Decoded d = decode(pci);
    CHECK(d.function.express == 0xe0);
    CHECK(d.function.config_size == 4096);
    CHECK(MUST(pci_find_ext_capability(d.function, 0x0003, 0)) == 0x140);
    CHECK(MUST(pci_find_ext_capability(d.function, 0x0001, 0)) == 0x100);
    f.put<uint32_t>(0x140, 0x0003 | 1 << 16 | 0x100u << 20); // a loop
    device_host_clear_log();
    decode(pci);
    CHECK(log_text().find("extended capability list does not end") != std::string::npos);
    f.size = 256; // the legacy mechanism: no extended space
    Decoded legacy = decode(pci);
    CHECK(pci_find_ext_capability(legacy.function, 0x0003, 0).error() == Error::ENOENT);
    CHECK(pci_read(legacy.function, 0x100, 4) == 0xffffffffu);
    CHECK(pci_read(legacy.function, 0x02, 4) == 0xffffffffu); // misaligned
}

TEST_CASE("Enumeration follows bridges, swizzles INTx, and refuses bus numbers that loop")
{
    FakePci pci;
    device_host_clear_log();
    pci.add(0, 0, 0, 0x8086, 0x29c0, 0x060000);
    FakeFunction& multi = pci.add(0, 0x1f, 0, 0x8086, 0x2918, 0x060100, 0x80);
    (void)multi;
    pci.add(0, 0x1f, 2, 0x8086, 0x2922, 0x010601);
    pci.add(0, 0x1f, 3, 0x8086, 0x2930, 0x0c0500);
    FakeFunction& bridge = pci.add(0, 5, 0, 0x1b36, 0x000c, 0x060400, 1);
    bridge.bytes[0x19] = 1;
    bridge.bytes[0x1a] = 2;
    pci.add(1, 3, 0, 0x1af4, 0x1042, 0x010000).bytes[0x3d] = 1; // INTA
    FakeFunction& inner = pci.add(1, 4, 0, 0x1b36, 0x000c, 0x060400, 1);
    inner.bytes[0x19] = 2;
    inner.bytes[0x1a] = 2;
    pci.add(2, 1, 0, 0x1af4, 0x1041, 0x020000).bytes[0x3d] = 2;          // INTB
    FakeFunction& rogue = pci.add(0, 6, 0, 0x1b36, 0x000c, 0x060400, 1); // secondary 0
    (void)rogue;
    FakeFunction& again = pci.add(2, 2, 0, 0x1b36, 0x000c, 0x060400, 1); // back to bus 1
    again.bytes[0x19] = 1;
    again.bytes[0x1a] = 1;
    FakeFunction& backwards = pci.add(0, 7, 0, 0x1b36, 0x000c, 0x060400, 1);
    backwards.bytes[0x19] = 2; // bus 2 is behind bus 1 already: seen twice
    backwards.bytes[0x1a] = 2;

    {
        DeviceLockAccess access;
        size_t found = pci_enumerate(&g_test_bus, pci.ops(), 0, 0, 255);
        CHECK(found == 11);
        Device* root = device_find("pci0000:00");
        REQUIRE(root);
        Device* blk = device_find("0000:01:03.0");
        Device* net = device_find("0000:02:01.0");
        REQUIRE(blk);
        REQUIRE(net);
        CHECK(blk->parent == device_find("0000:00:05.0"));
        CHECK(net->parent == device_find("0000:01:04.0"));
        CHECK(std::string(blk->modalias) == "pci:v00001AF4d00001042sv00000000sd00000000bc01sc00i00");
        // INTA at slot 3 behind the bridge in slot 5: pin D at slot 5.
        CHECK(pci_function(*blk).root_slot == 5);
        CHECK(pci_function(*blk).root_pin == 3);
        // INTB at slot 1 behind 01:04 behind 00:05: (1 + 1 + 4) % 4.
        CHECK(pci_function(*net).root_slot == 5);
        CHECK(pci_function(*net).root_pin == 2);
        CHECK(pci_function(*net).host_device == 0x29c0);
        CHECK(device_find("0000:00:1f.3") != nullptr);
        CHECK(device_find("0000:00:1f.1") == nullptr);
    }
    std::string log = log_text();
    CHECK(log.find("pci 0000:00:06.0: bridge to bus 0 (subordinate 0) from bus 0; not followed") != std::string::npos);
    CHECK(log.find("pci 0000:02:02.0: bridge to bus 1 (subordinate 1) from bus 2; not followed") != std::string::npos);
    CHECK(log.find("pci: bus 02 reached twice; not scanned again") != std::string::npos);
    remove_everything();
    CHECK(device_host_stats().allocations == 0);
}

TEST_CASE("A function the firmware's description disables is left alone, bridge or not")
{
    FakePci pci;
    device_host_clear_log();
    pci.add(0, 0, 0, 0x8086, 0x29c0, 0x060000);
    FakeFunction& nic = pci.add(0, 1, 0, 0x8086, 0x10d3, 0x020000);
    nic.bars[0] = { 0x20000, 0 };
    pci.add(0, 2, 0, 0x1af4, 0x1042, 0x010000);
    FakeFunction& bridge = pci.add(0, 3, 0, 0x1b36, 0x000c, 0x060400, 1);
    bridge.bytes[0x19] = 1;
    bridge.bytes[0x1a] = 1;
    pci.add(1, 0, 0, 0x1af4, 0x1041, 0x020000);
    // A multifunction slot: function 0 disabled takes function 1 with it.
    pci.add(0, 4, 0, 0x8086, 0x2918, 0x060100, 0x80);
    pci.add(0, 4, 1, 0x8086, 0x2922, 0x010601);
    // Another: function 2 disabled; 5 is disabled too, but not there.
    pci.add(0, 5, 0, 0x8086, 0x2918, 0x060100, 0x80);
    pci.add(0, 5, 1, 0x8086, 0x2922, 0x010601);
    pci.add(0, 5, 2, 0x8086, 0x2930, 0x0c0500);
    // Disabled: 00:01.0, the bridge at 00:03.0 with the bus behind it, 00:04.0, 00:05.2, 00:05.5.
    PciDisabledFunction disabled = [](PciAddress address) {
        return address.bus == 0
            && (((address.device == 1 || address.device == 3 || address.device == 4) && address.function == 0)
                || (address.device == 5 && (address.function == 2 || address.function == 5)));
    };
    PciBarPlacer placer;
    placer.add_window({ PciBarWindow::kMemory32, false, 0x10000000, 0x10000000, 0x2eff0000 });
    {
        DeviceLockAccess access;
        CHECK(pci_enumerate(&g_test_bus, pci.ops(), 0, 0, 255, &placer, disabled) == 4);
        CHECK(device_find("0000:00:01.0") == nullptr);
        CHECK(device_find("0000:00:02.0") != nullptr);
        CHECK(device_find("0000:00:03.0") == nullptr);
        CHECK(device_find("0000:01:00.0") == nullptr);
        CHECK(device_find("0000:00:04.0") == nullptr);
        CHECK(device_find("0000:00:04.1") == nullptr);
        CHECK(device_find("0000:00:05.0") != nullptr);
        CHECK(device_find("0000:00:05.1") != nullptr);
        CHECK(device_find("0000:00:05.2") == nullptr);
    }
    // Nothing was written to it: its BARs stay as the firmware left them.
    CHECK(nic.writes == 0);
    std::string log = log_text();
    CHECK(log.find("pci 0000:00:01.0: disabled by the firmware's description; left alone") != std::string::npos);
    CHECK(log.find("pci 0000:00:03.0: disabled by the firmware's description; left alone") != std::string::npos);
    CHECK(log.find("pci 0000:00:04.0: disabled") != std::string::npos);
    CHECK(log.find("pci 0000:00:04.1") == std::string::npos);
    CHECK(log.find("pci 0000:00:05.2: disabled") != std::string::npos);
    // Nothing is said of a function that is not there.
    CHECK(log.find("pci 0000:00:05.5") == std::string::npos);
    remove_everything();
    CHECK(device_host_stats().allocations == 0);
}

TEST_CASE("Without a placer, enumeration leaves BARs unsized until the first binding or lspci")
{
    FakePci pci;
    device_host_clear_log();
    pci.add(0, 0, 0, 0x8086, 0x29c0, 0x060000);
    FakeFunction& f = pci.add(0, 2, 0, 0x8086, 0x10d3, 0x020000);
    f.put<uint16_t>(4, 3); // the firmware left decoding on
    f.put<uint16_t>(6, kPciStatusCapabilities);
    f.bytes[0x34] = 0x40;
    capability(f, 0x40, 0x11, 0x00);
    f.put<uint16_t>(0x42, 4);          // 5 entries
    f.put<uint32_t>(0x44, 0x3000 | 3); // in BAR 3 at 0x3000
    f.bars[0] = { 0x20000, 0 };
    f.put<uint32_t>(0x10, 0xfeb80000);
    f.bars[2] = { 32, 1 };
    f.put<uint32_t>(0x18, 0xc041);
    f.bars[3] = { 0x4000, 0 };
    f.put<uint32_t>(0x1c, 0xfebd0000);
    {
        DeviceLockAccess access;
        CHECK(pci_enumerate(&g_test_bus, pci.ops(), 0, 0, 255) == 2);
        Device* net = device_find("0000:00:02.0");
        REQUIRE(net);
        // Enumeration wrote nothing: no decoding turned off and on.
        CHECK(f.writes == 0);
        CHECK(net->region_count == 0);
        CHECK(pci_function(*net).bars_deferred);
        CHECK(pci_function(*net).msix == 0x40);
        CHECK(pci_function(*net).msix_entries == 0);

        pci_settle_regions(*net);
        CHECK(!pci_function(*net).bars_deferred);
        CHECK(f.writes > 0);
        CHECK(!f.bar_written_while_decoding);
        CHECK(f.get<uint16_t>(4) == 3);
        CHECK(net->region_count == 6);
        CHECK(net->regions[0].phys == 0xfeb80000);
        CHECK(net->regions[0].length == 0x20000);
        CHECK(net->regions[2].phys == 0xc040);
        CHECK(net->regions[2].flags == KEEL_REGION_IO);
        CHECK(net->regions[3].length == 0x4000);
        CHECK(pci_function(*net).msix_bar == 3);
        CHECK(pci_function(*net).msix_entries == 5);
        // Once is enough.
        unsigned writes = f.writes;
        pci_settle_regions(*net);
        CHECK(f.writes == writes);
        CHECK(log_text().empty());
    }
    remove_everything();

    // The MSI-X table is checked when the BARs are sized.
    f.put<uint16_t>(0x42, 1023);
    device_host_clear_log();
    {
        DeviceLockAccess access;
        pci_enumerate(&g_test_bus, pci.ops(), 0, 0, 255);
        Device* net = device_find("0000:00:02.0");
        REQUIRE(net);
        CHECK(log_text().empty());
        pci_settle_regions(*net);
        CHECK(pci_function(*net).msix == 0);
        CHECK(log_text().find("MSI-X table (1024 entries at 0x3000) overruns BAR 3") != std::string::npos);
    }
    remove_everything();
    CHECK(device_host_stats().allocations == 0);
}
