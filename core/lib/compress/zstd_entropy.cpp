// Zstandard's entropy tables (RFC 8878 section 4): FSE table descriptions
// and the decode tables built from them, for sequences and for Huffman
// weights, and the Huffman tree description of literals.
#include "lib/compress/zstd.h"

namespace keel::compress {

namespace {

// RFC 8878 3.1.1.3.2.1.1: baselines and extra bits of the length codes.
constexpr uint32_t kLiteralLengthBase[kMaxLiteralLengthCode + 1] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536 };
constexpr uint8_t kLiteralLengthExtra[kMaxLiteralLengthCode + 1] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
constexpr uint32_t kMatchLengthBase[kMaxMatchLengthCode + 1] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
    18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131,
    259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539 };
constexpr uint8_t kMatchLengthExtra[kMaxMatchLengthCode + 1] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

// RFC 8878 3.1.1.3.2.2: the predefined distributions.
constexpr int16_t kDefaultLiteralLengths[36] = { 4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1 };
constexpr unsigned kDefaultLiteralLengthLog = 6;
constexpr int16_t kDefaultMatchLengths[53] = { 1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1 };
constexpr unsigned kDefaultMatchLengthLog = 6;
constexpr int16_t kDefaultOffsets[29]
    = { 1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1 };
constexpr unsigned kDefaultOffsetLog = 5;

struct KindInfo {
    const char* name;
    unsigned max_log;
    unsigned max_code;
};

KindInfo info_of(SequenceKind kind)
{
    switch (kind) {
    case SequenceKind::LiteralLength: return { "literal lengths", kMaxLiteralLengthLog, kMaxLiteralLengthCode };
    case SequenceKind::Offset: return { "offsets", kMaxOffsetLog, kMaxOffsetCode };
    case SequenceKind::MatchLength: return { "match lengths", kMaxMatchLengthLog, kMaxMatchLengthCode };
    }
    return { "?", 0, 0 };
}

SequenceTable& table_of(ZstdTables& tables, SequenceKind kind)
{
    switch (kind) {
    case SequenceKind::LiteralLength: return tables.literal_lengths;
    case SequenceKind::Offset: return tables.offsets;
    case SequenceKind::MatchLength: break;
    }
    return tables.match_lengths;
}

SequenceEntry code_entry(SequenceKind kind, unsigned code)
{
    switch (kind) {
    case SequenceKind::LiteralLength: return { kLiteralLengthBase[code], kLiteralLengthExtra[code], 0, 0 };
    case SequenceKind::MatchLength: return { kMatchLengthBase[code], kMatchLengthExtra[code], 0, 0 };
    case SequenceKind::Offset: break;
    }
    // Offset_Value = (1 << code) + code extra bits.
    return { uint32_t(1) << code, uint8_t(code), 0, 0 };
}

// Reads up to 25 bits at bit `position` of [p, end), least significant
// first; false if any of them lies past `end`.
bool forward_bits(const uint8_t* p, const uint8_t* end, size_t position, unsigned count, uint32_t& value)
{
    size_t size = size_t(end - p);
    if (position + count > 8 * size)
        return false;
    size_t byte = position >> 3;
    uint64_t word = 0;
    memcpy(&word, p + byte, min(size - byte, size_t(8)));
    value = uint32_t(low_bits(word >> (position & 7), count));
    return true;
}

// RFC 8878 4.1.1: reads a distribution into tables.normalized and returns
// the bytes it took. `what` names the table in messages.
Result<size_t> read_distribution(ZstdFrame& frame, const uint8_t* p, const uint8_t* end, unsigned max_log,
    unsigned max_symbol, const char* what, unsigned& log, unsigned& symbols)
{
    int16_t* normalized = frame.tables.normalized;
    auto truncated = [&]() {
        return frame.reporter.fail(Error::EINVAL,
            "truncated FSE table description for %s at offset %zu (frame %zu): it runs past the %zu bytes left", what,
            frame.offset_of(p), frame.number, size_t(end - p));
    };
    if (p >= end)
        return truncated();
    log = (p[0] & 15) + 5;
    if (log > max_log) {
        return frame.reporter.fail(Error::EINVAL,
            "FSE accuracy log %u for %s at offset %zu (frame %zu) exceeds the maximum of %u", log, what,
            frame.offset_of(p), frame.number, max_log);
    }
    size_t position = 4;
    int remaining = 1 << log; // probability points still to hand out
    unsigned symbol = 0;
    while (remaining > 0) {
        if (symbol > max_symbol) {
            return frame.reporter.fail(Error::EINVAL,
                "FSE table description for %s at offset %zu (frame %zu) has more than %u symbols (%d of %d points "
                "unassigned)",
                what, frame.offset_of(p), frame.number, max_symbol + 1, remaining, 1 << log);
        }
        // The value is 0..remaining + 1, in `width` bits, or one bit fewer
        // for the smallest values.
        unsigned largest = unsigned(remaining) + 1;
        unsigned width = highest_bit(largest) + 1;
        unsigned spare = (1u << width) - 1 - largest;
        uint32_t bits;
        if (!forward_bits(p, end, position, width - 1, bits))
            return truncated();
        unsigned value;
        if (bits < spare) {
            value = bits;
            position += width - 1;
        } else {
            if (!forward_bits(p, end, position, width, bits))
                return truncated();
            value = bits >= (1u << (width - 1)) ? bits - spare : bits;
            position += width;
        }
        int probability = int(value) - 1;
        normalized[symbol++] = int16_t(probability);
        remaining -= probability < 0 ? 1 : probability;
        if (probability == 0) {
            // A 2-bit count of further zero probabilities; 3 means more follow.
            for (;;) {
                if (!forward_bits(p, end, position, 2, bits))
                    return truncated();
                position += 2;
                for (unsigned i = 0; i < bits; ++i) {
                    if (symbol > max_symbol) {
                        return frame.reporter.fail(Error::EINVAL,
                            "FSE table description for %s at offset %zu (frame %zu) has more than %u symbols", what,
                            frame.offset_of(p), frame.number, max_symbol + 1);
                    }
                    normalized[symbol++] = 0;
                }
                if (bits != 3)
                    break;
            }
        }
    }
    symbols = symbol;
    return (position + 7) / 8;
}

// RFC 8878 4.1.1: spreads the symbols of tables.normalized over 2^log
// cells (tables.cell_symbols) and readies tables.symbol_next, from which
// each cell's state bits and next-state baseline follow.
bool spread(ZstdTables& tables, const int16_t* normalized, unsigned symbols, unsigned log)
{
    unsigned size = 1u << log;
    unsigned high = size - 1;
    for (unsigned s = 0; s < symbols; ++s) {
        if (normalized[s] == -1) {
            tables.cell_symbols[high--] = uint8_t(s);
            tables.symbol_next[s] = 1;
        } else {
            tables.symbol_next[s] = uint16_t(normalized[s]);
        }
    }
    unsigned step = (size >> 1) + (size >> 3) + 3;
    unsigned mask = size - 1;
    unsigned position = 0;
    for (unsigned s = 0; s < symbols; ++s) {
        for (int i = 0; i < normalized[s]; ++i) {
            tables.cell_symbols[position] = uint8_t(s);
            do
                position = (position + step) & mask;
            while (position > high);
        }
    }
    // The step is odd, so it visits every cell once: back at 0 exactly
    // when the counts filled the cells the -1 symbols left.
    return position == 0;
}

// The state bits and next-state baseline of `cell` (after spread()).
inline void next_state(ZstdTables& tables, unsigned cell, unsigned log, uint8_t& bits, uint16_t& base)
{
    unsigned symbol = tables.cell_symbols[cell];
    unsigned next = tables.symbol_next[symbol]++;
    bits = uint8_t(log - highest_bit(next));
    base = uint16_t((next << bits) - (1u << log));
}

bool build_sequence_table(ZstdTables& tables, SequenceTable& table, SequenceKind kind, const int16_t* normalized,
    unsigned symbols, unsigned log)
{
    if (!spread(tables, normalized, symbols, log))
        return false;
    for (unsigned cell = 0; cell < (1u << log); ++cell) {
        SequenceEntry entry = code_entry(kind, tables.cell_symbols[cell]);
        next_state(tables, cell, log, entry.state_bits, entry.next_state);
        table.entries[cell] = entry;
    }
    table.log = log;
    table.valid = true;
    return true;
}

} // namespace

Result<size_t> zstd_read_sequence_table(
    ZstdFrame& frame, SequenceKind kind, unsigned mode, const uint8_t* p, const uint8_t* end)
{
    KindInfo info = info_of(kind);
    SequenceTable& table = table_of(frame.tables, kind);
    DecompressCounters* counters = frame.counters;
    switch (mode) {
    case 0: { // Predefined_Mode
        if (counters)
            ++counters->sequence_tables_predefined;
        bool built = false;
        if (kind == SequenceKind::LiteralLength)
            built
                = build_sequence_table(frame.tables, table, kind, kDefaultLiteralLengths, 36, kDefaultLiteralLengthLog);
        else if (kind == SequenceKind::MatchLength)
            built = build_sequence_table(frame.tables, table, kind, kDefaultMatchLengths, 53, kDefaultMatchLengthLog);
        else
            built = build_sequence_table(frame.tables, table, kind, kDefaultOffsets, 29, kDefaultOffsetLog);
        if (!built) // fixed tables: never
            return frame.reporter.fail(Error::EINVAL, "internal error: predefined %s table", info.name);
        return size_t(0);
    }
    case 1: { // RLE_Mode: one symbol, no state bits
        if (counters)
            ++counters->sequence_tables_rle;
        if (p >= end) {
            return frame.reporter.fail(Error::EINVAL,
                "truncated sequences header at offset %zu (frame %zu): the RLE symbol for %s is missing",
                frame.offset_of(p), frame.number, info.name);
        }
        if (*p > info.max_code) {
            return frame.reporter.fail(Error::EINVAL,
                "RLE code %u for %s at offset %zu (frame %zu) exceeds the maximum of %u", *p, info.name,
                frame.offset_of(p), frame.number, info.max_code);
        }
        table.entries[0] = code_entry(kind, *p);
        table.log = 0;
        table.valid = true;
        return size_t(1);
    }
    case 2: { // FSE_Compressed_Mode
        if (counters)
            ++counters->sequence_tables_fse;
        unsigned log;
        unsigned symbols;
        size_t used = TRY(read_distribution(frame, p, end, info.max_log, info.max_code, info.name, log, symbols));
        if (!build_sequence_table(frame.tables, table, kind, frame.tables.normalized, symbols, log)) {
            return frame.reporter.fail(Error::EINVAL,
                "FSE table description for %s at offset %zu (frame %zu) does not fill its table", info.name,
                frame.offset_of(p), frame.number);
        }
        return used;
    }
    default: // Repeat_Mode
        if (counters)
            ++counters->sequence_tables_repeat;
        if (!table.valid) {
            return frame.reporter.fail(Error::EINVAL,
                "repeat mode for %s at offset %zu (frame %zu) with no earlier table in the frame", info.name,
                frame.offset_of(p), frame.number);
        }
        return size_t(0);
    }
}

// RFC 8878 4.2.1: the Huffman tree description, as weights (direct or
// FSE-compressed), turned into a decode table of 2^max_bits slots.
Result<size_t> zstd_read_huffman_table(ZstdFrame& frame, const uint8_t* p, const uint8_t* end)
{
    ZstdTables& tables = frame.tables;
    uint8_t* weights = tables.weights;
    if (p >= end) {
        return frame.reporter.fail(Error::EINVAL, "truncated Huffman tree description at offset %zu (frame %zu)",
            frame.offset_of(p), frame.number);
    }
    unsigned header = p[0];
    size_t used;
    unsigned count = 0;
    if (header >= 128) {
        if (frame.counters)
            ++frame.counters->huffman_weights_direct;
        count = header - 127;
        used = 1 + (count + 1) / 2;
        if (size_t(end - p) < used) {
            return frame.reporter.fail(Error::EINVAL,
                "truncated Huffman tree description at offset %zu (frame %zu): %zu bytes of weights declared, %zu "
                "present",
                frame.offset_of(p), frame.number, used - 1, size_t(end - p) - 1);
        }
        for (unsigned i = 0; i < count; ++i)
            weights[i] = (i & 1) ? p[1 + i / 2] & 15 : p[1 + i / 2] >> 4;
    } else {
        if (frame.counters)
            ++frame.counters->huffman_weights_fse;
        used = 1 + header;
        if (size_t(end - p) < used || header == 0) {
            return frame.reporter.fail(Error::EINVAL,
                "truncated Huffman tree description at offset %zu (frame %zu): %u bytes of FSE-compressed weights "
                "declared, %zu present",
                frame.offset_of(p), frame.number, header, size_t(end - p) - 1);
        }
        const uint8_t* begin = p + 1;
        const uint8_t* stop = p + used;
        unsigned log;
        unsigned symbols;
        size_t description = TRY(
            read_distribution(frame, begin, stop, kMaxWeightLog, kMaxHuffmanBits, "Huffman weights", log, symbols));
        if (!spread(tables, tables.normalized, symbols, log)) {
            return frame.reporter.fail(Error::EINVAL,
                "FSE table description for Huffman weights at offset %zu (frame %zu) does not fill its table",
                frame.offset_of(begin), frame.number);
        }
        for (unsigned cell = 0; cell < (1u << log); ++cell) {
            WeightEntry& entry = tables.weight_table[cell];
            entry.symbol = tables.cell_symbols[cell];
            next_state(tables, cell, log, entry.state_bits, entry.next_state);
        }

        BackwardBitReader bits;
        if (!bits.init(begin + description, size_t(stop - begin) - description)) {
            return frame.reporter.fail(Error::EINVAL,
                "Huffman weights bitstream at offset %zu (frame %zu) is empty or lacks its end marker",
                frame.offset_of(begin + description), frame.number);
        }
        // Two interleaved states over one table; the stream ends when an
        // update would need bits past its beginning (they read as zeros),
        // and then the other state's symbol is the last.
        const WeightEntry* table = tables.weight_table;
        unsigned state[2];
        state[0] = unsigned(bits.read(log));
        state[1] = unsigned(bits.read(log));
        for (unsigned turn = 0;; turn ^= 1) {
            const WeightEntry& entry = table[state[turn]];
            weights[count++] = entry.symbol;
            bits.reload();
            state[turn] = entry.next_state + unsigned(bits.read(entry.state_bits));
            bool last = bits.overflowed();
            if (count >= 255) {
                return frame.reporter.fail(Error::EINVAL,
                    "Huffman weights at offset %zu (frame %zu) decode to more than 255 weights", frame.offset_of(p),
                    frame.number);
            }
            if (last) {
                weights[count++] = table[state[turn ^ 1]].symbol;
                break;
            }
        }
    }

    // The last symbol's weight is implied: it completes the sum of
    // 2^(weight - 1) to a power of two, which gives the maximum code length.
    uint32_t total = 0;
    unsigned ranks[kMaxHuffmanBits + 2] = {};
    for (unsigned i = 0; i < count; ++i) {
        if (weights[i] > kMaxHuffmanBits) {
            return frame.reporter.fail(Error::EINVAL,
                "Huffman weight %u of symbol %u at offset %zu (frame %zu) exceeds %u", weights[i], i,
                frame.offset_of(p), frame.number, kMaxHuffmanBits);
        }
        if (weights[i])
            total += 1u << (weights[i] - 1);
        ++ranks[weights[i]];
    }
    if (total == 0) {
        return frame.reporter.fail(
            Error::EINVAL, "Huffman weights at offset %zu (frame %zu) are all zero", frame.offset_of(p), frame.number);
    }
    unsigned max_bits = highest_bit(total) + 1;
    uint32_t rest = (1u << max_bits) - total;
    if (max_bits > kMaxHuffmanBits || (rest & (rest - 1)) != 0) {
        return frame.reporter.fail(Error::EINVAL,
            "Huffman weights at offset %zu (frame %zu) do not form a prefix code of at most %u bits (sum %u)",
            frame.offset_of(p), frame.number, kMaxHuffmanBits, total);
    }
    unsigned last_weight = highest_bit(rest) + 1;
    weights[count++] = uint8_t(last_weight);
    ++ranks[last_weight];
    if (ranks[1] < 2 || (ranks[1] & 1)) {
        return frame.reporter.fail(Error::EINVAL,
            "Huffman weights at offset %zu (frame %zu) give %u symbols weight 1; a prefix code needs an even number, "
            "at least 2",
            frame.offset_of(p), frame.number, ranks[1]);
    }

    // Codes go to the lowest weights first: a symbol of weight w fills
    // 2^(w-1) consecutive slots and its code is max_bits + 1 - w bits long.
    unsigned next[kMaxHuffmanBits + 2];
    unsigned position = 0;
    for (unsigned w = 1; w <= max_bits; ++w) {
        next[w] = position;
        position += ranks[w] << (w - 1);
    }
    for (unsigned symbol = 0; symbol < count; ++symbol) {
        unsigned w = weights[symbol];
        if (w == 0)
            continue;
        LiteralEntry entry { uint8_t(symbol), uint8_t(max_bits + 1 - w) };
        unsigned slots = 1u << (w - 1);
        for (unsigned i = 0; i < slots; ++i)
            tables.huffman[next[w] + i] = entry;
        next[w] += slots;
    }
    tables.huffman_bits = max_bits;
    tables.huffman_valid = true;
    return used;
}

} // namespace keel::compress
