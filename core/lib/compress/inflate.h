// Raw DEFLATE (RFC 1951): stored, fixed-Huffman and dynamic-Huffman
// blocks. Private to core/lib/compress; gzip.cpp wraps it in members.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/compress/crc32.h"
#include "lib/compress/internal.h"

namespace keel::compress {

// One slot of a Huffman decode table, indexed by the next input bits
// (least significant first, as DEFLATE packs them).
struct HuffmanEntry {
    uint16_t value; // literal byte, base length or distance, or a subtable's first slot
    uint8_t kind;   // see HuffmanKind
    uint8_t length; // bits the code occupies (in total, for a subtable slot)
};

// kBase + n: a base value followed by n extra bits; kLink + n: the code is
// longer than the table's root bits, continue in the subtable of 2^n slots
// at `value`, indexed by the bits after the root.
enum HuffmanKind : uint8_t {
    kLiteral = 0,
    kEndOfBlock = 1,
    kInvalid = 2,
    kBase = 16,
    kLink = 32,
};

constexpr unsigned kLitlenRootBits = 10;
constexpr unsigned kDistanceRootBits = 8;
constexpr unsigned kCodeLengthRootBits = 7;
constexpr unsigned kMaxCodeLength = 15;
constexpr size_t kLitlenSymbols = 288;  // 286 usable; fixed codes give 286 and 287 lengths too
constexpr size_t kDistanceSymbols = 32; // 30 usable; likewise
constexpr size_t kCodeLengthSymbols = 19;

// The most slots a table can need. A complete code of at most 15 bits, in
// canonical order, has subtables of non-decreasing depth d; of those with
// the same depth only the first can hold codes shorter than root + d, and
// the others are filled by 2^d codes of length root + d, one symbol per
// slot. So the subtables hold at most (symbols) + sum(2^d) slots.
constexpr size_t kLitlenTableSize = (size_t(1) << kLitlenRootBits) + 286 + (2 + 4 + 8 + 16 + 32);
constexpr size_t kDistanceTableSize = (size_t(1) << kDistanceRootBits) + 30 + (2 + 4 + 8 + 16 + 32 + 64 + 128);

struct InflateTables {
    HuffmanEntry litlen[kLitlenTableSize];
    HuffmanEntry distance[kDistanceTableSize];
    HuffmanEntry code_lengths[size_t(1) << kCodeLengthRootBits];
    uint8_t lengths[kLitlenSymbols + kDistanceSymbols];
    uint16_t sorted[kLitlenSymbols]; // symbols ordered by code length
    bool fixed_loaded;               // litlen/distance hold the fixed codes
    Crc32Tables crc32;
};

struct InflateContext {
    const uint8_t* input;
    size_t input_size;
    size_t member; // 1-based, for messages
    OutputWindow& out;
    InflateTables& tables;
    Reporter& reporter;
    DecompressCounters* counters;
};

// Decodes the DEFLATE stream at input[offset], appending to `out`, and
// sets `offset` to the first byte after it (the last block's final bits
// are padded to a byte).
Result<void> inflate(InflateContext& context, size_t& offset);

} // namespace keel::compress
