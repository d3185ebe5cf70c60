// The capability parser on QEMU's real configuration spaces: the first 256
// bytes of every PCI function of a q35 machine with virtio devices, as a
// Linux guest read them from sysfs (tests/unit/devmatch/linux_goldens.txt),
// with the BAR sizes Linux assigned.
#include <catch2/catch.hpp>

#include <string.h>

#include <string>

#include "../devmatch/goldens.h"
#include "lib/virtio/pci_caps.h"

using keel::Diagnostic;
using keel::Error;
using namespace keel::virtio;

namespace {

PciConfigAccess access_to(const std::vector<uint8_t>& bytes)
{
    PciConfigAccess access;
    access.context = const_cast<std::vector<uint8_t>*>(&bytes);
    access.size = uint16_t(bytes.size());
    access.read8
        = [](void* c, uint16_t offset) -> uint8_t { return static_cast<std::vector<uint8_t>*>(c)->at(offset); };
    access.read16 = [](void* c, uint16_t offset) -> uint16_t {
        auto& b = *static_cast<std::vector<uint8_t>*>(c);
        return uint16_t(b.at(offset) | b.at(offset + 1u) << 8);
    };
    access.read32 = [](void* c, uint16_t offset) -> uint32_t {
        auto& b = *static_cast<std::vector<uint8_t>*>(c);
        uint32_t value;
        memcpy(&value, &b.at(offset + 3u) - 3, 4);
        return value;
    };
    return access;
}

} // namespace

TEST_CASE("QEMU's virtio-pci functions, transitional and modern, as Linux saw them")
{
    goldens::Goldens g = goldens::load();
    size_t virtio_functions = 0;
    for (const auto& f : g.functions) {
        INFO(f.slot << " " << f.label);
        REQUIRE(f.config.size() == 256);
        PciConfigAccess access = access_to(f.config);
        Diagnostic diagnostic;

        // The walker reads every function's list without complaint.
        PciCapabilityWalker walker(access, &diagnostic);
        unsigned capabilities = 0;
        for (;;) {
            auto capability = walker.next();
            if (capability.is_error()) {
                CHECK(capability.error() == Error::ENODATA);
                break;
            }
            ++capabilities;
        }

        auto identity = identify_virtio_pci(f.vendor, f.device, f.subdevice);
        auto layout = find_virtio_pci_layout(access, f.bars, &diagnostic);
        if (identity.is_error()) {
            CHECK(layout.is_error());
            continue;
        }
        ++virtio_functions;
        INFO(diagnostic.message);
        REQUIRE(layout.is_ok());
        const VirtioPciLayout& l = layout.value();
        CHECK(identity.value().transitional == (f.label.find("disable-legacy") == std::string::npos));
        // QEMU puts every structure in BAR 4, a page each.
        CHECK(l.common.bar == 4);
        CHECK(l.common.offset == 0x0000);
        CHECK(l.isr.offset == 0x1000);
        CHECK(l.device.present);
        CHECK(l.device.offset == 0x2000);
        CHECK(l.notify.offset == 0x3000);
        CHECK(l.notify_off_multiplier == 4);
        CHECK(l.pci_cfg_capability != 0);
        CHECK(l.virtio_capabilities == 5);
        CHECK(capabilities == 6); // and MSI-X
        CHECK(virtio_pci_notify_offset(l, 2, false).value() == 0x3008);
    }
    CHECK(virtio_functions == 6);
}
