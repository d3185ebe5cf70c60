// Zstandard (RFC 8878) internals: decode tables, the backward bit reader
// and the per-frame state. Private to core/lib/compress.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/compress/internal.h"

namespace keel::compress {

constexpr size_t kZstdBlockMaximum = 128 * 1024;
// Literal copies may read up to 16 bytes past the last literal.
constexpr size_t kLiteralsSlack = 32;

constexpr unsigned kMaxLiteralLengthLog = 9;
constexpr unsigned kMaxMatchLengthLog = 9;
constexpr unsigned kMaxOffsetLog = 8;
constexpr unsigned kMaxWeightLog = 6;
constexpr unsigned kMaxHuffmanBits = 11;
constexpr unsigned kMaxLiteralLengthCode = 35;
constexpr unsigned kMaxMatchLengthCode = 52;
constexpr unsigned kMaxOffsetCode = 31;

// An FSE state of a sequence table, with its symbol already turned into
// the code's baseline and extra bits.
struct SequenceEntry {
    uint32_t base;
    uint8_t extra_bits;
    uint8_t state_bits;  // bits to read for the next state
    uint16_t next_state; // added to those bits
};

enum class SequenceKind : uint8_t { LiteralLength, Offset, MatchLength };

struct SequenceTable {
    SequenceEntry entries[size_t(1) << kMaxLiteralLengthLog];
    unsigned log;
    bool valid; // something to repeat (Repeat_Mode)
};

// An FSE state of the Huffman-weights table.
struct WeightEntry {
    uint8_t symbol;
    uint8_t state_bits;
    uint16_t next_state;
};

// A slot of the literals' Huffman table, indexed by the next max_bits bits.
struct LiteralEntry {
    uint8_t symbol;
    uint8_t length;
};

struct ZstdTables {
    SequenceTable literal_lengths;
    SequenceTable offsets;
    SequenceTable match_lengths;

    LiteralEntry huffman[size_t(1) << kMaxHuffmanBits];
    unsigned huffman_bits;
    bool huffman_valid;

    // Scratch for building tables.
    int16_t normalized[256];
    uint8_t cell_symbols[size_t(1) << kMaxLiteralLengthLog];
    uint16_t symbol_next[256];
    uint8_t weights[256];
    WeightEntry weight_table[size_t(1) << kMaxWeightLog];

    // The current block's literals.
    uint8_t literals[kZstdBlockMaximum + kLiteralsSlack];
};

// FSE and Huffman bitstreams are read backwards: the last byte holds a
// marker (its highest set bit) above the first bit to read, and each read
// of n bits takes the n bits below the previous read, the earlier ones
// most significant. Reads past the beginning yield zeros and make
// overflowed() true.
class BackwardBitReader {
public:
    // False if the stream is empty or its last byte is 0 (no marker).
    bool init(const uint8_t* begin, size_t size)
    {
        if (size == 0 || begin[size - 1] == 0)
            return false;
        m_begin = begin;
        m_size = size;
        m_left = int64_t(8 * (size - 1) + highest_bit(begin[size - 1]));
        m_low = 0;
        memcpy(&m_low, begin, min(size, size_t(8)));
        m_base = -1;
        reload();
        return true;
    }

    // Loads the 64 bits that hold the next bits to read: afterwards at
    // least 56 are available without another reload, or all that remain.
    void reload()
    {
        int64_t byte = m_left >= 0 ? ((m_left + 8) >> 3) - 8 : 0;
        if (byte > 0) {
            m_base = 8 * byte;
            m_container = load64(m_begin + byte);
        } else if (m_base != 0) {
            m_base = 0;
            m_container = m_low;
        }
    }

    uint64_t read(unsigned count)
    {
        m_left -= count;
        int64_t shift = m_left - m_base;
        if (shift >= 0)
            return low_bits(m_container >> shift, count);
        return extract(m_left, count);
    }

    // The next `count` bits without consuming them.
    uint64_t peek(unsigned count) const
    {
        int64_t shift = m_left - count - m_base;
        if (shift >= 0)
            return low_bits(m_container >> shift, count);
        return extract(m_left - count, count);
    }
    void consume(unsigned count) { m_left -= count; }

    // Whether ~56 bits can be read without reaching the stream's first
    // byte, so peek() and read() take their fast path.
    bool far_from_start() const { return m_base > 0; }
    bool overflowed() const { return m_left < 0; }
    int64_t bits_left() const { return m_left; }

private:
    // Bits [low, low + count) of the stream, zeros below bit 0.
    uint64_t extract(int64_t low, unsigned count) const
    {
        uint64_t value = 0;
        for (unsigned i = count; i-- > 0;) {
            int64_t bit = low + i;
            value <<= 1;
            if (bit >= 0 && size_t(bit >> 3) < m_size)
                value |= (m_begin[bit >> 3] >> (bit & 7)) & 1;
        }
        return value;
    }

    const uint8_t* m_begin = nullptr;
    size_t m_size = 0;
    uint64_t m_container = 0; // stream bits [m_base, m_base + 64)
    uint64_t m_low = 0;       // the first eight bytes, zero-padded
    int64_t m_base = 0;
    int64_t m_left = 0; // bits not yet read: [0, m_left)
};

// One frame being decoded.
struct ZstdFrame {
    const uint8_t* input;
    size_t number; // 1-based, for messages
    uint64_t window;
    size_t block_maximum;
    uint32_t repeat_offsets[3];
    ZstdTables& tables;
    OutputWindow& out;
    Reporter& reporter;
    DecompressCounters* counters;

    size_t offset_of(const uint8_t* p) const { return size_t(p - input); }
};

// Decodes the compressed block [block, block + size) into frame.out.
Result<void> zstd_compressed_block(ZstdFrame& frame, const uint8_t* block, size_t size);

// Entropy tables (zstd_entropy.cpp). `end` bounds what may be read; each
// returns the number of bytes the description took.
Result<size_t> zstd_read_sequence_table(
    ZstdFrame& frame, SequenceKind kind, unsigned mode, const uint8_t* p, const uint8_t* end);
Result<size_t> zstd_read_huffman_table(ZstdFrame& frame, const uint8_t* p, const uint8_t* end);

} // namespace keel::compress
