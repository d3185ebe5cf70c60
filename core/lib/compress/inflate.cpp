#include "lib/compress/inflate.h"

namespace keel::compress {

namespace {

// RFC 1951 3.2.5: lengths 257..285 and distances 0..29, as base + extra bits.
constexpr uint16_t kLengthBase[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83,
    99, 115, 131, 163, 195, 227, 258 };
constexpr uint8_t kLengthExtra[29]
    = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
constexpr uint16_t kDistanceBase[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 };
constexpr uint8_t kDistanceExtra[30]
    = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

// The order code length code lengths are sent in (RFC 1951 3.2.7).
constexpr uint8_t kCodeLengthOrder[kCodeLengthSymbols]
    = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };

constexpr size_t kStoredChunk = 16384;

// What each symbol decodes to, before its code is known.
enum class Alphabet { Litlen, Distance, CodeLength };

HuffmanEntry symbol_entry(Alphabet alphabet, unsigned symbol)
{
    switch (alphabet) {
    case Alphabet::Litlen:
        if (symbol < 256)
            return { uint16_t(symbol), kLiteral, 0 };
        if (symbol == 256)
            return { 0, kEndOfBlock, 0 };
        if (symbol <= 285)
            return { kLengthBase[symbol - 257], uint8_t(kBase + kLengthExtra[symbol - 257]), 0 };
        return { uint16_t(symbol), kInvalid, 0 };
    case Alphabet::Distance:
        if (symbol < 30)
            return { kDistanceBase[symbol], uint8_t(kBase + kDistanceExtra[symbol]), 0 };
        return { uint16_t(symbol), kInvalid, 0 };
    case Alphabet::CodeLength: return { uint16_t(symbol), kLiteral, 0 };
    }
    return { 0, kInvalid, 0 };
}

inline unsigned reverse_bits(unsigned code, unsigned length)
{
    return __builtin_bitreverse16(uint16_t(code)) >> (16 - length);
}

struct TableSpec {
    HuffmanEntry* table;
    size_t capacity;
    unsigned root_bits;
    Alphabet alphabet;
    // zlib's rule, which this decoder keeps so that both accept the same
    // streams: a literal/length or distance code may be incomplete only
    // when it is a single one-bit code (or, for distances, empty); a code
    // length code must be complete.
    bool allow_incomplete;
};

// Builds the decode table for the canonical code with these lengths
// (RFC 1951 3.2.2). Returns why the lengths do not form a usable code, or
// null.
const char* build_table(const TableSpec& spec, const uint8_t* lengths, size_t count, uint16_t* sorted)
{
    unsigned counts[kMaxCodeLength + 1] = {};
    for (size_t s = 0; s < count; ++s)
        ++counts[lengths[s]];
    counts[0] = 0;

    unsigned max_length = 0;
    int left = 1;
    for (unsigned length = 1; length <= kMaxCodeLength; ++length) {
        left = 2 * left - int(counts[length]);
        if (left < 0)
            return "over-subscribed";
        if (counts[length])
            max_length = length;
    }
    if (max_length == 0 && !spec.allow_incomplete)
        return "empty";
    if (left > 0 && max_length > 0 && !(spec.allow_incomplete && max_length == 1))
        return "incomplete";

    // Every slot starts invalid: an incomplete or empty code leaves some.
    size_t root_size = size_t(1) << spec.root_bits;
    HuffmanEntry invalid { 0, kInvalid, 0 };
    for (size_t i = 0; i < root_size; ++i)
        spec.table[i] = invalid;

    // Symbols in canonical order: by code length, then by value.
    unsigned start[kMaxCodeLength + 2] = {};
    for (unsigned length = 1; length <= kMaxCodeLength; ++length)
        start[length + 1] = start[length] + counts[length];
    for (size_t s = 0; s < count; ++s) {
        if (lengths[s])
            sorted[start[lengths[s]]++] = uint16_t(s);
    }

    unsigned remaining[kMaxCodeLength + 1];
    for (unsigned length = 0; length <= kMaxCodeLength; ++length)
        remaining[length] = counts[length];

    size_t next_subtable = root_size;
    unsigned sub_prefix = ~0u;
    size_t sub_start = 0;
    unsigned sub_bits = 0;
    unsigned code = 0;
    size_t index = 0;
    for (unsigned length = 1; length <= max_length; ++length) {
        for (unsigned n = 0; n < counts[length]; ++n, ++code) {
            unsigned symbol = sorted[index++];
            HuffmanEntry entry = symbol_entry(spec.alphabet, symbol);
            entry.length = uint8_t(length);
            if (length <= spec.root_bits) {
                for (size_t i = reverse_bits(code, length); i < root_size; i += size_t(1) << length)
                    spec.table[i] = entry;
            } else {
                unsigned tail = length - spec.root_bits;
                unsigned prefix = code >> tail;
                if (prefix != sub_prefix) {
                    // A new subtable, deep enough for every code that
                    // shares this prefix: grow while the codes still to
                    // come at each depth do not fill it.
                    sub_prefix = prefix;
                    sub_bits = tail;
                    int space = 1 << sub_bits;
                    while (spec.root_bits + sub_bits < max_length) {
                        space -= int(remaining[spec.root_bits + sub_bits]);
                        if (space <= 0)
                            break;
                        ++sub_bits;
                        space <<= 1;
                    }
                    sub_start = next_subtable;
                    next_subtable += size_t(1) << sub_bits;
                    if (next_subtable > spec.capacity || sub_start > 0xffff)
                        return "too large for its table";
                    for (size_t i = sub_start; i < next_subtable; ++i)
                        spec.table[i] = invalid;
                    spec.table[reverse_bits(prefix, spec.root_bits)]
                        = { uint16_t(sub_start), uint8_t(kLink + sub_bits), uint8_t(spec.root_bits) };
                }
                for (size_t i = reverse_bits(code & ((1u << tail) - 1), tail); i < (size_t(1) << sub_bits);
                     i += size_t(1) << tail)
                    spec.table[sub_start + i] = entry;
            }
            --remaining[length];
        }
        code <<= 1;
    }
    return nullptr;
}

// DEFLATE's bit order: least significant bit of each byte first. Refills
// eight bytes at a time; within the last eight bytes it goes byte by byte
// and then appends zero bytes past the end, counting them, so a decoder
// never reads outside the input and learns it ran out at its next refill
// (or when it checks overran()).
class BitReader {
public:
    BitReader(const uint8_t* data, size_t size, size_t offset)
        : m_data(data)
        , m_in(data + offset)
        , m_end(data + size)
    {
    }

    // Makes at least 56 bits available. False once bits past the end of
    // the input have been consumed.
    bool refill()
    {
        if (m_end - m_in >= 8) {
            m_bits |= load64(m_in) << m_count;
            m_in += (63 - m_count) >> 3;
            m_count |= 56;
            return true;
        }
        return refill_slow();
    }

    uint64_t peek() const { return m_bits; }
    void consume(unsigned count)
    {
        m_bits >>= count;
        m_count -= count;
    }
    uint32_t take(unsigned count)
    {
        uint32_t value = uint32_t(low_bits(m_bits, count));
        consume(count);
        return value;
    }

    bool overran() const { return m_phantom > m_count; }
    // Bits consumed from the start of the input.
    size_t bit_position() const { return size_t(m_in - m_data) * 8 + m_phantom - m_count; }
    size_t byte_position() const { return min(bit_position() / 8, size_t(m_end - m_data)); }

    void align_to_byte() { consume(m_count & 7); }
    // Continues at byte `offset` (after reading a stored block directly).
    void seek(size_t offset)
    {
        m_in = m_data + offset;
        m_bits = 0;
        m_count = 0;
        m_phantom = 0;
    }

private:
    bool refill_slow()
    {
        if (overran())
            return false;
        while (m_count <= 56) {
            if (m_in < m_end)
                m_bits |= uint64_t(*m_in++) << m_count;
            else
                m_phantom += 8;
            m_count += 8;
        }
        return true;
    }

    const uint8_t* m_data;
    const uint8_t* m_in;
    const uint8_t* m_end;
    uint64_t m_bits = 0;
    unsigned m_count = 0;   // valid bits in m_bits (the bits above may hold input not yet counted)
    unsigned m_phantom = 0; // zero bits appended past the end, the top ones of the m_count
};

class Inflater {
public:
    Inflater(InflateContext& context, size_t offset)
        : m_context(context)
        , m_out(context.out)
        , m_tables(context.tables)
        , m_bits(context.input, context.input_size, offset)
    {
    }

    Result<void> run(size_t& offset);

private:
    Result<void> stored_block();
    Result<void> load_fixed_tables();
    Result<void> load_dynamic_tables();
    Result<void> huffman_block();

    Err truncated();
    // A malformation found `bits_back` bits after the start of the field at fault.
    Err malformed(size_t bits_back, const char* what);

    size_t offset_back(size_t bits_back) const
    {
        size_t position = m_bits.bit_position();
        return (position > bits_back ? position - bits_back : 0) / 8;
    }

    InflateContext& m_context;
    OutputWindow& m_out;
    InflateTables& m_tables;
    BitReader m_bits;
};

Err Inflater::truncated()
{
    return m_context.reporter.fail(Error::EINVAL,
        "truncated deflate data at offset %zu (member %zu): the input ends inside block data", m_context.input_size,
        m_context.member);
}

Err Inflater::malformed(size_t bits_back, const char* what)
{
    if (m_bits.overran())
        return truncated();
    return m_context.reporter.fail(
        Error::EINVAL, "%s at offset %zu (member %zu)", what, offset_back(bits_back), m_context.member);
}

Result<void> Inflater::run(size_t& offset)
{
    bool final_block = false;
    while (!final_block) {
        if (!m_bits.refill())
            return truncated();
        final_block = m_bits.take(1);
        unsigned type = m_bits.take(2);
        switch (type) {
        case 0:
            if (m_context.counters)
                ++m_context.counters->deflate_stored_blocks;
            TRY(stored_block());
            break;
        case 1:
            if (m_context.counters)
                ++m_context.counters->deflate_fixed_blocks;
            TRY(load_fixed_tables());
            TRY(huffman_block());
            break;
        case 2:
            if (m_context.counters)
                ++m_context.counters->deflate_dynamic_blocks;
            TRY(load_dynamic_tables());
            TRY(huffman_block());
            break;
        default: return malformed(3, "reserved deflate block type 3");
        }
        m_out.update_checksum();
    }
    m_bits.align_to_byte();
    if (m_bits.overran())
        return truncated();
    offset = m_bits.bit_position() / 8;
    return {};
}

Result<void> Inflater::stored_block()
{
    m_bits.align_to_byte();
    if (m_bits.overran())
        return truncated();
    size_t at = m_bits.bit_position() / 8;
    const uint8_t* input = m_context.input;
    size_t size = m_context.input_size;
    if (size - at < 4) {
        return m_context.reporter.fail(Error::EINVAL,
            "truncated stored block header at offset %zu (member %zu): %zu of 4 bytes present", at, m_context.member,
            size - at);
    }
    unsigned length = load16(input + at);
    unsigned complement = load16(input + at + 2);
    if ((length ^ complement) != 0xffff) {
        return m_context.reporter.fail(Error::EINVAL,
            "stored block length 0x%04x does not match its complement 0x%04x at offset %zu (member %zu)", length,
            complement, at, m_context.member);
    }
    at += 4;
    if (size - at < length) {
        return m_context.reporter.fail(Error::EINVAL,
            "truncated stored block at offset %zu (member %zu): %u bytes declared, %zu present", at - 4,
            m_context.member, length, size - at);
    }
    size_t left = length;
    while (left > 0) {
        if (m_out.pos == m_out.end)
            TRY(m_out.make_room(m_out.has_sink() ? min(left, kStoredChunk) : left, at));
        size_t chunk = min(left, size_t(m_out.end - m_out.pos));
        memcpy(m_out.pos, input + at, chunk);
        m_out.pos += chunk;
        at += chunk;
        left -= chunk;
    }
    m_bits.seek(at);
    return {};
}

Result<void> Inflater::load_fixed_tables()
{
    if (m_tables.fixed_loaded)
        return {};
    // RFC 1951 3.2.6.
    uint8_t* lengths = m_tables.lengths;
    for (size_t s = 0; s < kLitlenSymbols; ++s)
        lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    const char* problem = build_table({ m_tables.litlen, kLitlenTableSize, kLitlenRootBits, Alphabet::Litlen, false },
        lengths, kLitlenSymbols, m_tables.sorted);
    for (size_t s = 0; s < kDistanceSymbols; ++s)
        lengths[s] = 5;
    if (!problem) {
        problem = build_table({ m_tables.distance, kDistanceTableSize, kDistanceRootBits, Alphabet::Distance, false },
            lengths, kDistanceSymbols, m_tables.sorted);
    }
    if (problem) // the fixed codes are complete and small: never
        return m_context.reporter.fail(Error::EINVAL, "internal error: fixed Huffman code %s", problem);
    m_tables.fixed_loaded = true;
    return {};
}

Result<void> Inflater::load_dynamic_tables()
{
    m_tables.fixed_loaded = false;
    if (!m_bits.refill())
        return truncated();
    unsigned litlen_count = m_bits.take(5) + 257;
    unsigned distance_count = m_bits.take(5) + 1;
    unsigned code_length_count = m_bits.take(4) + 4;
    // HLIT and HDIST can say 288 and 32; the codes past 285 and 29 never
    // occur, and zlib refuses such headers, as this decoder does.
    if (litlen_count > 286 || distance_count > 30) {
        if (m_bits.overran())
            return truncated();
        bool litlen = litlen_count > 286;
        return m_context.reporter.fail(Error::EINVAL,
            "dynamic block header at offset %zu (member %zu) declares %u %s codes (at most %u)",
            offset_back(litlen ? 14 : 9), m_context.member, litlen ? litlen_count : distance_count,
            litlen ? "literal/length" : "distance", litlen ? 286 : 30);
    }

    uint8_t code_lengths[kCodeLengthSymbols] = {};
    for (unsigned i = 0; i < code_length_count; ++i) {
        if (i % 16 == 0 && !m_bits.refill())
            return truncated();
        code_lengths[kCodeLengthOrder[i]] = uint8_t(m_bits.take(3));
    }
    if (const char* problem = build_table({ m_tables.code_lengths, size_t(1) << kCodeLengthRootBits,
                                              kCodeLengthRootBits, Alphabet::CodeLength, false },
            code_lengths, kCodeLengthSymbols, m_tables.sorted)) {
        if (m_bits.overran())
            return truncated();
        return m_context.reporter.fail(Error::EINVAL, "code length code is %s at offset %zu (member %zu)", problem,
            offset_back(3 * code_length_count), m_context.member);
    }

    // Messages about the codes name where their lengths begin.
    size_t lengths_at = m_bits.byte_position();
    uint8_t* lengths = m_tables.lengths;
    unsigned total = litlen_count + distance_count;
    unsigned n = 0;
    while (n < total) {
        if (!m_bits.refill())
            return truncated();
        HuffmanEntry entry = m_tables.code_lengths[low_bits(m_bits.peek(), kCodeLengthRootBits)];
        if (entry.kind == kInvalid) // only an incomplete code has these
            return malformed(0, "invalid code length code");
        m_bits.consume(entry.length);
        unsigned symbol = entry.value;
        if (symbol < 16) {
            lengths[n++] = uint8_t(symbol);
            continue;
        }
        unsigned repeat;
        unsigned extra;
        uint8_t value = 0;
        if (symbol == 16) {
            if (n == 0)
                return malformed(entry.length, "code length repeat (16) with no previous length");
            value = lengths[n - 1];
            extra = 2;
            repeat = 3 + m_bits.take(extra);
        } else if (symbol == 17) {
            extra = 3;
            repeat = 3 + m_bits.take(extra);
        } else {
            extra = 7;
            repeat = 11 + m_bits.take(extra);
        }
        if (repeat > total - n) {
            if (m_bits.overran())
                return truncated();
            return m_context.reporter.fail(Error::EINVAL,
                "code length repeat of %u at offset %zu (member %zu) runs past the %u lengths declared", repeat,
                offset_back(entry.length + extra), m_context.member, total);
        }
        memset(lengths + n, value, repeat);
        n += repeat;
    }
    if (m_bits.overran())
        return truncated();
    if (lengths[256] == 0) {
        return m_context.reporter.fail(Error::EINVAL,
            "literal/length code lengths at offset %zu (member %zu) give no end-of-block code", lengths_at,
            m_context.member);
    }

    if (const char* problem
        = build_table({ m_tables.litlen, kLitlenTableSize, kLitlenRootBits, Alphabet::Litlen, true }, lengths,
            litlen_count, m_tables.sorted)) {
        return m_context.reporter.fail(Error::EINVAL, "literal/length code is %s at offset %zu (member %zu)", problem,
            lengths_at, m_context.member);
    }
    if (const char* problem
        = build_table({ m_tables.distance, kDistanceTableSize, kDistanceRootBits, Alphabet::Distance, true },
            lengths + litlen_count, distance_count, m_tables.sorted)) {
        return m_context.reporter.fail(
            Error::EINVAL, "distance code is %s at offset %zu (member %zu)", problem, lengths_at, m_context.member);
    }
    return {};
}

Result<void> Inflater::huffman_block()
{
    const HuffmanEntry* litlen = m_tables.litlen;
    const HuffmanEntry* distances = m_tables.distance;
    uint8_t* pos = m_out.pos;
    uint8_t* end = m_out.end;
    const uint8_t* floor = m_out.floor();

    for (;;) {
        if (!m_bits.refill()) {
            m_out.pos = pos;
            return truncated();
        }
        uint64_t bits = m_bits.peek();
        HuffmanEntry entry = litlen[low_bits(bits, kLitlenRootBits)];
        if (entry.kind >= kLink)
            entry = litlen[entry.value + low_bits(bits >> kLitlenRootBits, entry.kind - kLink)];
        if (entry.kind == kLiteral) {
            m_bits.consume(entry.length);
            if (pos == end) {
                m_out.pos = pos;
                // Past the end of the input the bits read as zeros: that is
                // what is wrong, not the output that would follow.
                if (m_bits.overran())
                    return truncated();
                TRY(m_out.make_room(1, m_bits.byte_position()));
                pos = m_out.pos;
                end = m_out.end;
                floor = m_out.floor();
            }
            *pos++ = uint8_t(entry.value);
            continue;
        }
        if (entry.kind < kBase) {
            m_out.pos = pos;
            if (entry.kind == kEndOfBlock) {
                m_bits.consume(entry.length);
                return {};
            }
            return malformed(0, "invalid literal/length code");
        }

        // A length, then its distance: at most 15 + 5 + 15 + 13 bits, all
        // available after one refill.
        unsigned used = entry.length;
        m_bits.consume(entry.length);
        unsigned extra = entry.kind - kBase;
        size_t length = entry.value + m_bits.take(extra);
        used += extra;

        bits = m_bits.peek();
        HuffmanEntry code = distances[low_bits(bits, kDistanceRootBits)];
        if (code.kind >= kLink)
            code = distances[code.value + low_bits(bits >> kDistanceRootBits, code.kind - kLink)];
        if (code.kind < kBase) {
            m_out.pos = pos;
            return malformed(used, "invalid distance code");
        }
        m_bits.consume(code.length);
        used += code.length;
        extra = code.kind - kBase;
        size_t distance = code.value + m_bits.take(extra);
        used += extra;

        if (distance > size_t(pos - floor)) {
            m_out.pos = pos;
            if (m_bits.overran())
                return truncated();
            return m_context.reporter.fail(Error::EINVAL,
                "distance %zu at offset %zu (member %zu) reaches before the start of the member (%llu bytes "
                "decoded)",
                distance, offset_back(used), m_context.member, static_cast<unsigned long long>(m_out.unit_produced()));
        }
        if (length > size_t(end - pos)) {
            m_out.pos = pos;
            if (m_bits.overran())
                return truncated();
            TRY(m_out.make_room(length, offset_back(used)));
            pos = m_out.pos;
            end = m_out.end;
            floor = m_out.floor();
        }
        copy_match(pos, distance, length, size_t(end - pos));
        pos += length;
    }
}

} // namespace

Result<void> inflate(InflateContext& context, size_t& offset)
{
    Inflater inflater(context, offset);
    return inflater.run(offset);
}

} // namespace keel::compress
