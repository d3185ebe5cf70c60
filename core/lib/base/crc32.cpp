#include "lib/base/crc32.h"

namespace keel {

namespace {

constexpr uint32_t kPolynomial = 0xedb88320;

// kNibble[n]: the CRC register after shifting the four bits n through it.
struct NibbleTable {
    uint32_t entries[16];
    constexpr NibbleTable()
        : entries()
    {
        for (uint32_t n = 0; n < 16; ++n) {
            uint32_t crc = n;
            for (int bit = 0; bit < 4; ++bit)
                crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
            entries[n] = crc;
        }
    }
};

constexpr NibbleTable kNibble;

} // namespace

uint32_t crc32(const void* data, size_t size, uint32_t crc)
{
    const auto* p = static_cast<const uint8_t*>(data);
    crc = ~crc;
    for (size_t i = 0; i < size; ++i) {
        crc ^= p[i];
        crc = (crc >> 4) ^ kNibble.entries[crc & 15];
        crc = (crc >> 4) ^ kNibble.entries[crc & 15];
    }
    return ~crc;
}

} // namespace keel
