// CRC-32 as gzip (RFC 1952) uses it: the reflected polynomial 0xedb88320,
// initial value and final XOR 0xffffffff. Table driven, eight bytes per
// step ("slicing by 8").
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

// Continues `crc` (the value a previous call returned, or 0 to start) over
// `size` more bytes: crc32_update(crc32_update(0, a), b) == crc32 of a||b.
uint32_t crc32_update(uint32_t crc, const void* data, size_t size);

} // namespace keel
