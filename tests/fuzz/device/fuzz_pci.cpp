// libFuzzer: PCI enumeration and decoding (core/device/pci) on a synthetic
// configuration space built from the input: a few functions on buses 0..2
// whose bytes, BAR sizes and bridge bus numbers are the fuzzer's. Nothing
// may crash, loop or be left allocated once the tree is removed, and
// capability lookups must terminate. Half the inputs enumerate with a host
// bridge's windows (QEMU virt's): then every memory or I/O region must lie
// inside a window of its kind (as CPU addresses) and no two may overlap.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../unit/device/fake_pci.h"
#include "../../unit/device/host_platform.h"
#include "device/device.h"
#include "device/pci/pci.h"

using namespace keel;

namespace {

BusType g_bus { "pci", devmatch::DeviceBus::Pci, nullptr, nullptr, pci_release_function, {} };

uint8_t g_disabled_devfn;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    FakePci pci;
    size_t offset = 0;
    auto take = [&](size_t n) -> const uint8_t* {
        if (offset + n > size)
            return nullptr;
        const uint8_t* p = data + offset;
        offset += n;
        return p;
    };
    // Each function: 1 byte address, 1 byte size class, 6 bytes of BAR
    // size shifts, then 64 + 16 bytes of header and capability space.
    for (int count = 0; count < 8; count++) {
        const uint8_t* head = take(8);
        const uint8_t* body = take(80);
        if (!head || !body)
            break;
        uint8_t bus = head[0] % 3, slot = (head[0] >> 2) % 8, fn = head[0] >> 5;
        FakeFunction& f = pci.add(bus, slot, fn, 0x1234, 0x0001);
        f.size = (head[1] & 1) ? 4096 : 256;
        memcpy(f.bytes, body, 64);
        if (f.get<uint16_t>(0) == 0xffff)
            f.put<uint16_t>(0, 0x1234);
        // Capabilities land where the header's pointer most likely goes.
        memcpy(f.bytes + 0x40 + (body[64] & 0x30), body + 64, 16);
        memcpy(f.bytes + 0x100, body + 64, 16);
        for (int bar = 0; bar < 6; bar++) {
            uint8_t shift = head[2 + bar];
            if (shift & 0x80)
                continue;
            f.bars[bar].size = 1ull << (4 + shift % 40);
            f.bars[bar].flags = f.bytes[0x10 + 4 * bar] & 0xf;
            f.bars[bar].broken = shift & 0x40;
        }
    }
    bool with_windows = data && size && (data[0] & 1);
    PciBarPlacer placer;
    const PciBarWindow windows[] = {
        { PciBarWindow::kIo, false, 0, 0x3eff0000, 0x10000 },
        { PciBarWindow::kMemory32, false, 0x10000000, 0x10000000, 0x2eff0000 },
        { PciBarWindow::kMemory64, false, 0x8000000000, 0x8000000000, 0x8000000000 },
    };
    for (const PciBarWindow& window : windows)
        placer.add_window(window);
    {
        DeviceLockAccess access;
        // Some inputs have functions the firmware's description disables.
        PciDisabledFunction disabled = nullptr;
        if (data && size > 1 && (data[0] & 2)) {
            g_disabled_devfn = data[1];
            disabled = [](PciAddress address) {
                return address.bus == 0 && uint8_t(address.device << 3 | address.function) == g_disabled_devfn;
            };
        }
        pci_enumerate(&g_bus, pci.ops(), 0, 0, 255, with_windows ? &placer : nullptr, disabled);
        struct Span {
            uint64_t start, end;
            bool io;
        } spans[8 * Device::kMaxRegions];
        size_t span_count = 0;
        for (Device& device : all_devices()) {
            if (!device.bus_data)
                continue;
            // Without windows the BARs wait for first use: size them now.
            pci_settle_regions(device);
            for (size_t i = 0; with_windows && i < device.region_count; i++) {
                const DeviceRegion& region = device.regions[i];
                if (region.length == 0)
                    continue;
                bool io = region.flags & KEEL_REGION_IO;
                bool inside = false;
                for (const PciBarWindow& window : windows) {
                    if ((window.kind == PciBarWindow::kIo) == io && region.phys >= window.cpu
                        && region.length <= window.size && region.phys - window.cpu <= window.size - region.length)
                        inside = true;
                }
                if (!inside)
                    abort();
                for (size_t j = 0; j < span_count; j++) {
                    if (spans[j].io == io && region.phys < spans[j].end && spans[j].start < region.phys + region.length)
                        abort();
                }
                if (span_count < sizeof(spans) / sizeof(spans[0]))
                    spans[span_count++] = { region.phys, region.phys + region.length, io };
            }
            const PciFunction& function = pci_function(device);
            for (uint32_t id : { 0x05u, 0x09u, 0x10u, 0x11u }) {
                uint16_t after = 0;
                for (int i = 0; i < 64; i++) {
                    auto found = pci_find_capability(function, id, after);
                    if (found.is_error())
                        break;
                    after = found.value();
                }
                (void)pci_find_ext_capability(function, id, 0);
            }
        }
        while (Device* device = all_devices().last()) {
            while (device->parent)
                device = device->parent;
            device_remove(*device);
        }
    }
    device_host_clear_log();
    if (device_host_stats().allocations != 0)
        abort();
    return 0;
}
