// A synthetic PCI configuration space for host tests and fuzzers: functions
// as byte arrays, with BARs that answer sizing as hardware does (the bits
// below the size read back as zero, the type bits are read-only).
#pragma once

#include <stdint.h>
#include <string.h>

#include <map>
#include <tuple>

#include "device/pci/pci.h"

struct FakeBar {
    uint64_t size = 0;   // 0: the device has no such region
    uint32_t flags = 0;  // low bits as the BAR reads: 1 I/O, 4 64-bit, 8 prefetchable
    bool broken = false; // a size mask with a hole in it
};

struct FakeFunction {
    uint8_t bytes[4096] = {};
    FakeBar bars[6];
    uint16_t size = 4096;
    bool bar_written_while_decoding = false;
    unsigned writes = 0; // configuration writes of any kind

    template<typename T> void put(uint16_t offset, T value) { memcpy(bytes + offset, &value, sizeof(value)); }
    template<typename T> T get(uint16_t offset) const
    {
        T value;
        memcpy(&value, bytes + offset, sizeof(value));
        return value;
    }
};

class FakePci {
public:
    using Key = std::tuple<uint8_t, uint8_t, uint8_t>;

    FakeFunction& add(uint8_t bus, uint8_t device, uint8_t function, uint16_t vendor, uint16_t device_id,
        uint32_t class_code = 0, uint8_t header_type = 0)
    {
        FakeFunction& f = m_functions[Key(bus, device, function)];
        f.put<uint16_t>(0, vendor);
        f.put<uint16_t>(2, device_id);
        f.put<uint32_t>(8, class_code << 8 | 1);
        f.bytes[0x0e] = header_type;
        return f;
    }

    FakeFunction* find(keel::PciAddress address)
    {
        auto found = m_functions.find(Key(address.bus, address.device, address.function));
        return found == m_functions.end() ? nullptr : &found->second;
    }

    keel::PciConfigOps ops() { return { read, write, size, this }; }

    std::map<Key, FakeFunction>& functions() { return m_functions; }

private:
    static bool bar_register(const FakeFunction& f, uint16_t offset, unsigned& index, bool& high)
    {
        unsigned count = (f.bytes[0x0e] & 0x7f) == 0 ? 6 : (f.bytes[0x0e] & 0x7f) == 1 ? 2 : 0;
        if (offset < 0x10 || offset >= 0x10 + 4 * count)
            return false;
        index = (offset - 0x10) / 4;
        high = false;
        if (index > 0 && (f.bars[index - 1].flags & 4) && !(f.bars[index - 1].flags & 1)) {
            index--;
            high = true;
        }
        return true;
    }

    static uint32_t read(void* context, keel::PciAddress address, uint16_t offset, unsigned width)
    {
        FakeFunction* f = static_cast<FakePci*>(context)->find(address);
        if (!f || offset + width > f->size)
            return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
        uint32_t value = 0;
        memcpy(&value, f->bytes + offset, width);
        return value;
    }

    static void write(void* context, keel::PciAddress address, uint16_t offset, unsigned width, uint32_t value)
    {
        FakeFunction* f = static_cast<FakePci*>(context)->find(address);
        if (!f || offset + width > f->size)
            return;
        f->writes++;
        unsigned index;
        bool high;
        if (width == 4 && bar_register(*f, offset, index, high)) {
            if (f->get<uint16_t>(4) & 3)
                f->bar_written_while_decoding = true;
            const FakeBar& bar = f->bars[index];
            uint64_t mask = bar.size ? ~(bar.size - 1) : 0;
            if (bar.broken)
                mask &= ~(uint64_t(1) << 24);
            uint32_t stored;
            if (high)
                stored = value & uint32_t(mask >> 32);
            else if (bar.flags & 1)
                stored = (value & uint32_t(mask) & ~3u) | (bar.size ? 1 : 0);
            else
                stored = (value & uint32_t(mask) & ~0xfu) | (bar.size ? bar.flags : 0);
            memcpy(f->bytes + offset, &stored, 4);
            return;
        }
        memcpy(f->bytes + offset, &value, width);
    }

    static uint16_t size(void* context, keel::PciAddress address)
    {
        FakeFunction* f = static_cast<FakePci*>(context)->find(address);
        return f ? f->size : 256;
    }

    std::map<Key, FakeFunction> m_functions;
};
