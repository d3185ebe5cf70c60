// A validating reader for flattened device trees: the "DTB" format of the
// Devicetree Specification (versions 16 and 17), which boot loaders and
// QEMU hand an arm64 kernel in x0.
//
// A blob is a 40-byte big-endian header, the memory reservation block
// (address/size pairs ending with 0/0), the structure block (tokens:
// BEGIN_NODE name, PROP len nameoff value, END_NODE, NOP, END; each 4-byte
// aligned) and the strings block (property names). Every byte is hostile:
// the header's offsets and sizes are checked against the buffer and each
// other before anything is read, every token, name and value against its
// block, nesting against a depth limit; a malformation ends the walk with
// EINVAL and a message naming the offset and the field.
//
// Nothing is allocated or copied: names and values point into the blob.
//
//   Diagnostic diagnostic;
//   auto blob = TRY(fdt::Blob::open(data, size, diagnostic));
//   TRY(blob.walk(visitor, diagnostic));
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel::fdt {

constexpr uint32_t kMagic = 0xd00dfeed;
constexpr size_t kHeaderSize = 40;
// Deeper trees are refused: QEMU's are 3 deep, real boards under 10.
constexpr unsigned kMaxDepth = 16;

inline uint32_t read_be32(const uint8_t* bytes)
{
    return (uint32_t(bytes[0]) << 24) | (uint32_t(bytes[1]) << 16) | (uint32_t(bytes[2]) << 8) | bytes[3];
}

struct Property {
    const char* name = nullptr;
    const uint8_t* value = nullptr;
    uint32_t length = 0;

    // The value is a NUL-terminated string (its last byte is the NUL).
    bool is_string() const;
    // The value is `text` exactly, or (for string lists such as
    // "compatible") holds `text` as one of its NUL-separated entries.
    bool equals(const char* text) const;
    bool contains_string(const char* text) const;
    // Cell `index` (32-bit big-endian); false past the end.
    bool cell(size_t index, uint32_t& value) const;
    // `cells` cells (1 or 2) from cell `index` as one number.
    bool number(size_t index, unsigned cells, uint64_t& value) const;
    size_t cell_count() const { return length / 4; }
};

// What a walk reports. Properties of a node come before its children (the
// format says so); depth 0 is the root, whose name is "".
class Visitor {
public:
    virtual void begin_node(const char* name, unsigned depth) = 0;
    virtual void property(const Property& property, unsigned depth) = 0;
    virtual void end_node(unsigned depth) = 0;

protected:
    ~Visitor() = default;
};

class Blob {
public:
    // Checks the header against `size` (the bytes that may be read; the
    // blob's own totalsize must fit in it).
    static Result<Blob> open(const void* data, size_t size, Diagnostic& diagnostic);

    uint32_t total_size() const { return m_total_size; }
    uint32_t version() const { return m_version; }
    uint32_t boot_cpu() const { return m_boot_cpu; }

    // Each /memreserve/ entry, in order. A reservation whose end overflows
    // fails the walk.
    template<typename F> Result<void> for_each_reservation(F callback, Diagnostic& diagnostic) const
    {
        for (size_t index = 0;; index++) {
            uint64_t base, size;
            TRY(reservation(index, base, size, diagnostic));
            if (base == 0 && size == 0)
                return {};
            callback(base, size);
        }
    }

    // The whole structure block, checked as it goes: the visitor may have
    // seen part of a tree whose walk then fails.
    Result<void> walk(Visitor& visitor, Diagnostic& diagnostic) const;

private:
    Blob() = default;
    Result<void> reservation(size_t index, uint64_t& base, uint64_t& size, Diagnostic& diagnostic) const;
    // The NUL-terminated string at `offset` in [start, start + size), or null.
    const char* string_in(uint32_t start, uint32_t size, uint32_t offset) const;

    const uint8_t* m_data = nullptr;
    uint32_t m_total_size = 0;
    uint32_t m_version = 0;
    uint32_t m_boot_cpu = 0;
    uint32_t m_reservations = 0;
    uint32_t m_struct_offset = 0;
    uint32_t m_struct_size = 0;
    uint32_t m_strings_offset = 0;
    uint32_t m_strings_size = 0;
};

} // namespace keel::fdt
