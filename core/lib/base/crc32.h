// CRC-32 (IEEE 802.3): the reflected polynomial 0xedb88320, initial value
// and final XOR 0xffffffff. The checksum of GPT headers and partition
// arrays, of gzip members, of Ethernet frames.
//
// Four bits per step through a 16-entry table (64 bytes of rodata): fast
// enough for the few kilobytes a partition table holds. The decompressor
// keeps its own eight-bytes-per-step tables for bulk data
// (lib/compress/crc32.h); both compute the same function.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

// Continues `crc` (the value a previous call returned, or 0 to start) over
// `size` more bytes: crc32(b, nb, crc32(a, na)) is the CRC of a followed by
// b. crc32("123456789", 9) is 0xcbf43926.
uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);

} // namespace keel
