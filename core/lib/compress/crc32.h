// CRC-32 as gzip (RFC 1952) uses it: the reflected polynomial 0xedb88320,
// initial value and final XOR 0xffffffff. Table driven, eight bytes per
// step ("slicing by 8").
//
// The 8 KiB of tables are built at run time into memory the caller owns
// (the gzip decoder's workspace), so they cost the kernel image nothing.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

struct Crc32Tables {
    // table[k][b]: the CRC of byte b followed by k zero bytes, so eight
    // bytes fold in with eight independent lookups.
    uint32_t table[8][256];
};

void crc32_make_tables(Crc32Tables& tables);

// Continues `crc` (the value a previous call returned, or 0 to start) over
// `size` more bytes: crc32_update(t, crc32_update(t, 0, a), b) is the CRC
// of a followed by b.
uint32_t crc32_update(const Crc32Tables& tables, uint32_t crc, const void* data, size_t size);

} // namespace keel
