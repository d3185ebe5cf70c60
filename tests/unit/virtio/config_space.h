// A synthetic PCI configuration space for the capability tests and the
// fuzzer: bytes in a vector, read through PciConfigAccess callbacks that
// check every access is in bounds and naturally aligned.
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "lib/virtio/pci_caps.h"

namespace virtio_test {

using namespace keel::virtio;

struct ConfigSpace {
    explicit ConfigSpace(size_t size = 256)
        : bytes(size, 0)
    {
        set16(0x00, 0x1af4);
        set16(0x02, 0x1042);
        set16(PCI_STATUS, PCI_STATUS_CAP_LIST);
        next_field = PCI_CAPABILITY_LIST;
    }

    void set8(size_t offset, uint8_t value) { bytes.at(offset) = value; }
    void set16(size_t offset, uint16_t value)
    {
        set8(offset, uint8_t(value));
        set8(offset + 1, uint8_t(value >> 8));
    }
    void set32(size_t offset, uint32_t value)
    {
        set16(offset, uint16_t(value));
        set16(offset + 2, uint16_t(value >> 16));
    }

    // Appends a capability at `position` to the list.
    void add_capability(uint8_t position, uint8_t id, uint8_t length)
    {
        set8(next_field, position);
        set8(position, id);
        set8(position + 1u, 0);
        if (id == PCI_CAP_ID_VNDR)
            set8(position + 2u, length);
        next_field = position + 1u;
    }

    void add_virtio(
        uint8_t position, uint8_t type, uint8_t bar, uint32_t offset, uint32_t length, uint32_t multiplier = 4)
    {
        uint8_t cap_len = type == VIRTIO_PCI_CAP_NOTIFY_CFG || type == VIRTIO_PCI_CAP_PCI_CFG ? 20 : 16;
        add_capability(position, PCI_CAP_ID_VNDR, cap_len);
        set8(position + 3u, type);
        set8(position + 4u, bar);
        set32(position + 8u, offset);
        set32(position + 12u, length);
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
            set32(position + 16u, multiplier);
    }

    PciConfigAccess access()
    {
        PciConfigAccess a;
        a.context = this;
        a.size = uint16_t(bytes.size());
        a.read8 = [](void* context, uint16_t offset) -> uint8_t {
            auto* self = static_cast<ConfigSpace*>(context);
            self->check(offset, 1);
            return self->bytes[offset];
        };
        a.read16 = [](void* context, uint16_t offset) -> uint16_t {
            auto* self = static_cast<ConfigSpace*>(context);
            self->check(offset, 2);
            return uint16_t(self->bytes[offset] | self->bytes[offset + 1u] << 8);
        };
        a.read32 = [](void* context, uint16_t offset) -> uint32_t {
            auto* self = static_cast<ConfigSpace*>(context);
            self->check(offset, 4);
            uint32_t value;
            memcpy(&value, &self->bytes[offset], 4);
            return value;
        };
        return a;
    }

    void check(uint16_t offset, unsigned width)
    {
        ++reads;
        if (offset % width != 0 || size_t(offset) + width > bytes.size())
            abort();
    }

    std::vector<uint8_t> bytes;
    size_t next_field;
    size_t reads = 0;
};

} // namespace virtio_test
