// Fuzzes the PCI capability walker and the virtio-pci layout parser: a
// device's configuration space is hostile. The input is the BAR sizes
// (six bytes, each a power of two or 0) then up to 256 bytes of
// configuration space. Beyond the sanitizers (and the config accessor's
// own bounds and alignment checks): the walk ends, and every structure the
// parser accepts lies inside its BAR as the specification demands.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../unit/virtio/config_space.h"
#include "lib/virtio/pci_caps.h"

using namespace keel;
using namespace keel::virtio;

namespace {

void check(bool condition)
{
    if (!condition)
        abort();
}

void check_region(
    const VirtioPciRegion& region, const uint64_t (&bars)[kPciBarCount], uint32_t alignment, uint32_t minimum)
{
    if (!region.present)
        return;
    check(region.bar < kPciBarCount);
    check(bars[region.bar] != 0);
    check(uint64_t(region.offset) + region.length <= bars[region.bar]);
    check(region.offset % alignment == 0);
    check(region.length >= minimum);
    check(region.capability >= 0x40);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < kPciBarCount)
        return 0;
    uint64_t bars[kPciBarCount];
    for (unsigned i = 0; i < kPciBarCount; ++i)
        bars[i] = data[i] == 0 ? 0 : uint64_t(1) << (data[i] % 40);
    data += kPciBarCount;
    size -= kPciBarCount;

    virtio_test::ConfigSpace space(256);
    memcpy(space.bytes.data(), data, size < 256 ? size : 256);
    PciConfigAccess access = space.access();

    Diagnostic diagnostic;
    PciCapabilityWalker walker(access, &diagnostic);
    unsigned count = 0;
    for (;;) {
        auto capability = walker.next();
        if (capability.is_error()) {
            check(capability.error() == Error::ENODATA || capability.error() == Error::EINVAL);
            check((capability.error() == Error::EINVAL) == !diagnostic.empty());
            break;
        }
        check(capability.value().offset >= 0x40 && capability.value().offset % 4 == 0);
        check(++count <= 48);
    }

    auto layout = find_virtio_pci_layout(access, bars, &diagnostic);
    if (layout.is_error()) {
        check(layout.error() == Error::ENODEV || layout.error() == Error::EINVAL);
        check(!diagnostic.empty());
        return 0;
    }
    const VirtioPciLayout& l = layout.value();
    check(l.common.present && l.notify.present && l.isr.present);
    check_region(l.common, bars, 4, common_cfg::kSize);
    check_region(l.notify, bars, 2, 2);
    check_region(l.isr, bars, 1, 1);
    check_region(l.device, bars, 4, 0);
    uint32_t m = l.notify_off_multiplier;
    check(m == 0 || (m >= 2 && (m & (m - 1)) == 0));
    for (uint16_t queue : { 0, 1, 7, 1000, 0xffff }) {
        for (bool notification_data : { false, true }) {
            auto offset = virtio_pci_notify_offset(l, queue, notification_data);
            if (offset.is_ok()) {
                uint64_t width = notification_data ? 4 : 2;
                check(offset.value() >= l.notify.offset);
                check(offset.value() + width <= uint64_t(l.notify.offset) + l.notify.length);
                check(offset.value() % width == 0);
            }
        }
    }
    return 0;
}
