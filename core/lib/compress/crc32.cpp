#include "lib/compress/crc32.h"

#include "lib/base/string.h"

namespace keel {

namespace {

constexpr uint32_t kPolynomial = 0xedb88320;

} // namespace

void crc32_make_tables(Crc32Tables& tables)
{
    auto& t = tables.table;
    for (uint32_t b = 0; b < 256; ++b) {
        uint32_t crc = b;
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
        t[0][b] = crc;
    }
    for (uint32_t b = 0; b < 256; ++b) {
        for (int k = 1; k < 8; ++k)
            t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
    }
}

uint32_t crc32_update(const Crc32Tables& tables, uint32_t crc, const void* data, size_t size)
{
    const auto* p = static_cast<const uint8_t*>(data);
    const auto& t = tables.table;
    crc = ~crc;
    while (size >= 8) {
        uint32_t low;
        uint32_t high;
        memcpy(&low, p, 4);
        memcpy(&high, p + 4, 4);
        low ^= crc;
        crc = t[7][low & 0xff] ^ t[6][(low >> 8) & 0xff] ^ t[5][(low >> 16) & 0xff] ^ t[4][low >> 24]
            ^ t[3][high & 0xff] ^ t[2][(high >> 8) & 0xff] ^ t[1][(high >> 16) & 0xff] ^ t[0][high >> 24];
        p += 8;
        size -= 8;
    }
    while (size-- > 0)
        crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

} // namespace keel
