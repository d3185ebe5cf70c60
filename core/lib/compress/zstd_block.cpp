// A Zstandard compressed block (RFC 8878 3.1.1.3): the literals section,
// the sequences section, and their execution into the output window.
#include "lib/compress/zstd.h"

namespace keel::compress {

namespace {

struct Literals {
    const uint8_t* data; // in tables.literals, followed by kLiteralsSlack bytes
    size_t size;
};

// Decodes `count` symbols of one Huffman stream into out[0..count).
Result<void> decode_stream(ZstdFrame& frame, const uint8_t* stream, size_t size, uint8_t* out, size_t count,
    unsigned index, BackwardBitReader& bits)
{
    const LiteralEntry* table = frame.tables.huffman;
    unsigned max_bits = frame.tables.huffman_bits;
    if (!bits.init(stream, size)) {
        return frame.reporter.fail(Error::EINVAL,
            "Huffman stream %u at offset %zu (frame %zu) is empty or lacks its end marker", index,
            frame.offset_of(stream), frame.number);
    }
    size_t n = 0;
    // Five symbols of at most 11 bits fit in the 56 bits a reload makes
    // available away from the stream's start.
    for (;;) {
        bits.reload();
        if (!bits.far_from_start() || count - n < 5)
            break;
        for (int i = 0; i < 5; ++i) {
            LiteralEntry entry = table[bits.peek(max_bits)];
            out[n++] = entry.symbol;
            bits.consume(entry.length);
        }
    }
    while (n < count) {
        bits.reload();
        LiteralEntry entry = table[bits.peek(max_bits)];
        out[n++] = entry.symbol;
        bits.consume(entry.length);
        if (bits.overflowed())
            break;
    }
    if (bits.bits_left() != 0) {
        if (bits.overflowed()) {
            return frame.reporter.fail(Error::EINVAL,
                "Huffman stream %u at offset %zu (frame %zu) ends before its %zu literals are decoded", index,
                frame.offset_of(stream), frame.number, count);
        }
        return frame.reporter.fail(Error::EINVAL,
            "Huffman stream %u at offset %zu (frame %zu) has %lld bits left after its %zu literals", index,
            frame.offset_of(stream), frame.number, static_cast<long long>(bits.bits_left()), count);
    }
    return {};
}

// Four streams, each a quarter of the literals; decoding them in turn,
// symbol by symbol, lets the processor overlap the four dependency chains.
Result<void> decode_four_streams(ZstdFrame& frame, const uint8_t* streams, size_t size, uint8_t* out, size_t count)
{
    if (size < 10) {
        return frame.reporter.fail(Error::EINVAL,
            "Huffman literals at offset %zu (frame %zu) are %zu bytes, too few for a jump table and four streams",
            frame.offset_of(streams), frame.number, size);
    }
    size_t sizes[4];
    sizes[0] = load16(streams);
    sizes[1] = load16(streams + 2);
    sizes[2] = load16(streams + 4);
    size_t first_three = sizes[0] + sizes[1] + sizes[2];
    if (first_three + 6 >= size) {
        return frame.reporter.fail(Error::EINVAL,
            "jump table at offset %zu (frame %zu) gives streams of %zu, %zu and %zu bytes, leaving none of the %zu "
            "for stream 4",
            frame.offset_of(streams), frame.number, sizes[0], sizes[1], sizes[2], size - 6);
    }
    sizes[3] = size - 6 - first_three;
    size_t segment = (count + 3) / 4;
    if (3 * segment > count) {
        return frame.reporter.fail(Error::EINVAL,
            "Huffman literals at offset %zu (frame %zu): %zu literals cannot be split over four streams",
            frame.offset_of(streams), frame.number, count);
    }

    BackwardBitReader bits[4];
    const uint8_t* begin[4];
    uint8_t* outs[4];
    size_t counts[4] = { segment, segment, segment, count - 3 * segment };
    const uint8_t* p = streams + 6;
    for (int i = 0; i < 4; ++i) {
        begin[i] = p;
        outs[i] = out + i * segment;
        if (!bits[i].init(p, sizes[i])) {
            return frame.reporter.fail(Error::EINVAL,
                "Huffman stream %d at offset %zu (frame %zu) is empty or lacks its end marker", i + 1,
                frame.offset_of(p), frame.number);
        }
        p += sizes[i];
    }

    const LiteralEntry* table = frame.tables.huffman;
    unsigned max_bits = frame.tables.huffman_bits;
    size_t done = 0; // symbols decoded in each stream so far
    for (;;) {
        bool fast = counts[3] - done >= 5;
        for (int i = 0; i < 4; ++i) {
            bits[i].reload();
            fast = fast && bits[i].far_from_start();
        }
        if (!fast)
            break;
        for (int k = 0; k < 5; ++k) {
            for (int i = 0; i < 4; ++i) {
                LiteralEntry entry = table[bits[i].peek(max_bits)];
                outs[i][done + k] = entry.symbol;
                bits[i].consume(entry.length);
            }
        }
        done += 5;
    }
    // The rest one stream at a time, carefully.
    for (int i = 0; i < 4; ++i) {
        BackwardBitReader& reader = bits[i];
        size_t n = done;
        while (n < counts[i]) {
            reader.reload();
            LiteralEntry entry = table[reader.peek(max_bits)];
            outs[i][n++] = entry.symbol;
            reader.consume(entry.length);
            if (reader.overflowed())
                break;
        }
        if (reader.bits_left() != 0) {
            if (reader.overflowed()) {
                return frame.reporter.fail(Error::EINVAL,
                    "Huffman stream %d at offset %zu (frame %zu) ends before its %zu literals are decoded", i + 1,
                    frame.offset_of(begin[i]), frame.number, counts[i]);
            }
            return frame.reporter.fail(Error::EINVAL,
                "Huffman stream %d at offset %zu (frame %zu) has %lld bits left after its %zu literals", i + 1,
                frame.offset_of(begin[i]), frame.number, static_cast<long long>(reader.bits_left()), counts[i]);
        }
    }
    return {};
}

// RFC 8878 3.1.1.3.1: returns the bytes the literals section takes.
Result<size_t> read_literals(ZstdFrame& frame, const uint8_t* p, const uint8_t* end, Literals& literals)
{
    uint8_t* buffer = frame.tables.literals;
    size_t available = size_t(end - p);
    auto truncated_header = [&](size_t need) {
        return frame.reporter.fail(Error::EINVAL,
            "truncated literals section header at offset %zu (frame %zu): %zu of %zu bytes present", frame.offset_of(p),
            frame.number, available, need);
    };
    if (available < 1)
        return truncated_header(1);
    unsigned type = p[0] & 3;
    unsigned size_format = (p[0] >> 2) & 3;
    DecompressCounters* counters = frame.counters;

    if (type <= 1) { // Raw_Literals_Block, RLE_Literals_Block
        size_t header;
        size_t regenerated;
        if ((size_format & 1) == 0) {
            header = 1;
            regenerated = p[0] >> 3;
        } else if (size_format == 1) {
            header = 2;
            if (available < header)
                return truncated_header(header);
            regenerated = (p[0] >> 4) + (size_t(p[1]) << 4);
        } else {
            header = 3;
            if (available < header)
                return truncated_header(header);
            regenerated = (p[0] >> 4) + (size_t(p[1]) << 4) + (size_t(p[2]) << 12);
        }
        if (regenerated > frame.block_maximum) {
            return frame.reporter.fail(Error::EINVAL,
                "literals section at offset %zu (frame %zu) regenerates %zu bytes, more than the block maximum %zu",
                frame.offset_of(p), frame.number, regenerated, frame.block_maximum);
        }
        literals = { buffer, regenerated };
        if (type == 0) {
            if (counters)
                ++counters->literals_raw;
            if (available - header < regenerated) {
                return frame.reporter.fail(Error::EINVAL,
                    "truncated raw literals at offset %zu (frame %zu): %zu bytes declared, %zu present",
                    frame.offset_of(p + header), frame.number, regenerated, available - header);
            }
            memcpy(buffer, p + header, regenerated);
            return header + regenerated;
        }
        if (counters)
            ++counters->literals_rle;
        if (available - header < 1) {
            return frame.reporter.fail(Error::EINVAL, "truncated RLE literals at offset %zu (frame %zu): no byte",
                frame.offset_of(p + header), frame.number);
        }
        memset(buffer, p[header], regenerated);
        return header + 1;
    }

    // Compressed_Literals_Block, Treeless_Literals_Block
    size_t header = size_format <= 1 ? 3 : size_format == 2 ? 4 : 5;
    if (available < header)
        return truncated_header(header);
    size_t regenerated;
    size_t compressed;
    if (size_format <= 1) {
        uint32_t bits = load24(p);
        regenerated = (bits >> 4) & 0x3ff;
        compressed = (bits >> 14) & 0x3ff;
    } else if (size_format == 2) {
        uint32_t bits = load32(p);
        regenerated = (bits >> 4) & 0x3fff;
        compressed = bits >> 18;
    } else {
        uint32_t bits = load32(p);
        regenerated = (bits >> 4) & 0x3ffff;
        compressed = (bits >> 22) | (size_t(p[4]) << 10);
    }
    bool single_stream = size_format == 0;
    if (regenerated > frame.block_maximum) {
        return frame.reporter.fail(Error::EINVAL,
            "literals section at offset %zu (frame %zu) regenerates %zu bytes, more than the block maximum %zu",
            frame.offset_of(p), frame.number, regenerated, frame.block_maximum);
    }
    if (!single_stream && regenerated < 6) {
        return frame.reporter.fail(Error::EINVAL,
            "literals section at offset %zu (frame %zu) uses four streams for %zu literals (at least 6 needed)",
            frame.offset_of(p), frame.number, regenerated);
    }
    if (available - header < compressed) {
        return frame.reporter.fail(Error::EINVAL,
            "truncated Huffman literals at offset %zu (frame %zu): %zu bytes declared, %zu present",
            frame.offset_of(p + header), frame.number, compressed, available - header);
    }
    const uint8_t* data = p + header;
    const uint8_t* data_end = data + compressed;
    if (type == 2) {
        size_t tree = TRY(zstd_read_huffman_table(frame, data, data_end));
        data += tree;
    } else {
        if (counters)
            ++counters->literals_treeless;
        if (!frame.tables.huffman_valid) {
            return frame.reporter.fail(Error::EINVAL,
                "treeless literals at offset %zu (frame %zu) with no earlier Huffman table in the frame",
                frame.offset_of(p), frame.number);
        }
    }
    if (single_stream) {
        if (counters)
            ++counters->literals_huffman_1_stream;
        BackwardBitReader bits;
        TRY(decode_stream(frame, data, size_t(data_end - data), buffer, regenerated, 1, bits));
    } else {
        if (counters)
            ++counters->literals_huffman_4_streams;
        TRY(decode_four_streams(frame, data, size_t(data_end - data), buffer, regenerated));
    }
    literals = { buffer, regenerated };
    return header + compressed;
}

// Writes `count` literals at out.pos (room already made).
inline void copy_literals(uint8_t* out, const uint8_t* from, size_t count, size_t room)
{
    if (count <= 16 && room >= 16) {
        memcpy(out, from, 8);
        memcpy(out + 8, from + 8, 8);
    } else {
        memcpy(out, from, count);
    }
}

class SequenceDecoder {
public:
    SequenceDecoder(ZstdFrame& frame, const uint8_t* block, Literals literals)
        : m_frame(frame)
        , m_out(frame.out)
        , m_block(block)
        , m_literals(literals.data)
        , m_literals_end(literals.data + literals.size)
    {
    }

    Result<void> run(const uint8_t* p, const uint8_t* end, size_t count);
    // Appends the literals no sequence used.
    Result<void> finish();

private:
    Result<void> execute(size_t literal_length, size_t match_length, size_t offset, size_t index);
    Err bad_offset(size_t offset, size_t index);

    ZstdFrame& m_frame;
    OutputWindow& m_out;
    const uint8_t* m_block; // its header, for messages
    const uint8_t* m_literals;
    const uint8_t* m_literals_end;
    size_t m_produced = 0; // by this block
};

Err SequenceDecoder::bad_offset(size_t offset, size_t index)
{
    uint64_t in_frame = m_out.unit_produced();
    if (offset > m_frame.window) {
        return m_frame.reporter.fail(Error::EINVAL,
            "offset %zu of sequence %zu in the block at offset %zu (frame %zu) exceeds the window of %llu bytes",
            offset, index + 1, m_frame.offset_of(m_block), m_frame.number,
            static_cast<unsigned long long>(m_frame.window));
    }
    return m_frame.reporter.fail(Error::EINVAL,
        "offset %zu of sequence %zu in the block at offset %zu (frame %zu) reaches before the start of the frame "
        "(%llu bytes decoded)",
        offset, index + 1, m_frame.offset_of(m_block), m_frame.number, static_cast<unsigned long long>(in_frame));
}

inline Result<void> SequenceDecoder::execute(size_t literal_length, size_t match_length, size_t offset, size_t index)
{
    if (literal_length > size_t(m_literals_end - m_literals)) {
        return m_frame.reporter.fail(Error::EINVAL,
            "literal length %zu of sequence %zu in the block at offset %zu (frame %zu) exceeds the %zu literals left",
            literal_length, index + 1, m_frame.offset_of(m_block), m_frame.number, size_t(m_literals_end - m_literals));
    }
    size_t total = literal_length + match_length;
    if (total > m_frame.block_maximum - m_produced) {
        return m_frame.reporter.fail(Error::EINVAL,
            "sequence %zu of the block at offset %zu (frame %zu) takes the block past its maximum of %zu bytes",
            index + 1, m_frame.offset_of(m_block), m_frame.number, m_frame.block_maximum);
    }
    m_produced += total;
    if (total > size_t(m_out.end - m_out.pos))
        TRY(m_out.make_room(total, m_frame.offset_of(m_block)));
    uint8_t* pos = m_out.pos;
    copy_literals(pos, m_literals, literal_length, size_t(m_out.end - pos));
    pos += literal_length;
    m_literals += literal_length;
    if (offset > size_t(pos - m_out.floor()) || offset > m_frame.window) {
        m_out.pos = pos;
        return bad_offset(offset, index);
    }
    copy_match(pos, offset, match_length, size_t(m_out.end - pos));
    m_out.pos = pos + match_length;
    return {};
}

Result<void> SequenceDecoder::run(const uint8_t* p, const uint8_t* end, size_t count)
{
    ZstdTables& tables = m_frame.tables;
    BackwardBitReader bits;
    if (!bits.init(p, size_t(end - p))) {
        return m_frame.reporter.fail(Error::EINVAL,
            "sequences bitstream at offset %zu (frame %zu) is empty or lacks its end marker", m_frame.offset_of(p),
            m_frame.number);
    }
    const SequenceEntry* literal_lengths = tables.literal_lengths.entries;
    const SequenceEntry* offsets = tables.offsets.entries;
    const SequenceEntry* match_lengths = tables.match_lengths.entries;
    unsigned literal_state = unsigned(bits.read(tables.literal_lengths.log));
    unsigned offset_state = unsigned(bits.read(tables.offsets.log));
    unsigned match_state = unsigned(bits.read(tables.match_lengths.log));
    uint32_t* repeat = m_frame.repeat_offsets;
    DecompressCounters* counters = m_frame.counters;

    for (size_t i = 0; i < count; ++i) {
        const SequenceEntry& ll = literal_lengths[literal_state];
        const SequenceEntry& of = offsets[offset_state];
        const SequenceEntry& ml = match_lengths[match_state];
        // Offset (up to 31 bits) and match length (16) fit one reload,
        // the literal length another.
        bits.reload();
        uint32_t offset_value = of.base + uint32_t(bits.read(of.extra_bits));
        size_t match_length = ml.base + size_t(bits.read(ml.extra_bits));
        bits.reload();
        size_t literal_length = ll.base + size_t(bits.read(ll.extra_bits));

        size_t offset;
        if (offset_value > 3) {
            offset = offset_value - 3;
            repeat[2] = repeat[1];
            repeat[1] = repeat[0];
            repeat[0] = uint32_t(offset);
        } else {
            // A repeat offset; with no literals before the match, 1 means
            // the second, 2 the third and 3 the first minus one.
            if (counters)
                ++counters->repeat_offsets;
            unsigned which = offset_value - 1 + (literal_length == 0 ? 1 : 0);
            if (which == 0) {
                offset = repeat[0];
            } else {
                offset = which == 3 ? repeat[0] - 1 : repeat[which];
                if (offset == 0) {
                    return m_frame.reporter.fail(Error::EINVAL,
                        "sequence %zu in the block at offset %zu (frame %zu) repeats offset 1 minus 1, which is 0",
                        i + 1, m_frame.offset_of(m_block), m_frame.number);
                }
                if (which != 1)
                    repeat[2] = repeat[1];
                repeat[1] = repeat[0];
                repeat[0] = uint32_t(offset);
            }
        }

        if (i + 1 < count) {
            bits.reload();
            literal_state = ll.next_state + unsigned(bits.read(ll.state_bits));
            match_state = ml.next_state + unsigned(bits.read(ml.state_bits));
            offset_state = of.next_state + unsigned(bits.read(of.state_bits));
        }
        if (bits.overflowed()) {
            return m_frame.reporter.fail(Error::EINVAL,
                "sequences bitstream at offset %zu (frame %zu) ends inside sequence %zu of %zu", m_frame.offset_of(p),
                m_frame.number, i + 1, count);
        }
        TRY(execute(literal_length, match_length, offset, i));
    }
    if (counters)
        counters->sequences += count;
    if (bits.bits_left() != 0) {
        return m_frame.reporter.fail(Error::EINVAL,
            "sequences bitstream at offset %zu (frame %zu) has %lld bits left after %zu sequences",
            m_frame.offset_of(p), m_frame.number, static_cast<long long>(bits.bits_left()), count);
    }
    return {};
}

Result<void> SequenceDecoder::finish()
{
    size_t left = size_t(m_literals_end - m_literals);
    if (left > m_frame.block_maximum - m_produced) {
        return m_frame.reporter.fail(Error::EINVAL,
            "the block at offset %zu (frame %zu) regenerates more than its maximum of %zu bytes",
            m_frame.offset_of(m_block), m_frame.number, m_frame.block_maximum);
    }
    if (left > size_t(m_out.end - m_out.pos))
        TRY(m_out.make_room(left, m_frame.offset_of(m_block)));
    memcpy(m_out.pos, m_literals, left);
    m_out.pos += left;
    return {};
}

} // namespace

Result<void> zstd_compressed_block(ZstdFrame& frame, const uint8_t* block, size_t size)
{
    const uint8_t* header = block - 3; // messages name the block by its header
    const uint8_t* end = block + size;
    Literals literals;
    size_t literals_size = TRY(read_literals(frame, block, end, literals));
    const uint8_t* p = block + literals_size;

    // RFC 8878 3.1.1.3.2.1: Number_of_Sequences, then the modes.
    if (p >= end) {
        return frame.reporter.fail(Error::EINVAL,
            "truncated block at offset %zu (frame %zu): no sequences section after the literals",
            frame.offset_of(header), frame.number);
    }
    size_t count;
    if (p[0] < 128) {
        count = p[0];
        p += 1;
    } else if (p[0] < 255) {
        if (end - p < 2) {
            return frame.reporter.fail(Error::EINVAL, "truncated sequences header at offset %zu (frame %zu)",
                frame.offset_of(p), frame.number);
        }
        count = ((size_t(p[0]) - 128) << 8) + p[1];
        p += 2;
    } else {
        if (end - p < 3) {
            return frame.reporter.fail(Error::EINVAL, "truncated sequences header at offset %zu (frame %zu)",
                frame.offset_of(p), frame.number);
        }
        count = p[1] + (size_t(p[2]) << 8) + 0x7f00;
        p += 3;
    }

    SequenceDecoder decoder(frame, header, literals);
    if (count > 0) {
        if (p >= end) {
            return frame.reporter.fail(Error::EINVAL,
                "truncated sequences header at offset %zu (frame %zu): no compression modes", frame.offset_of(p),
                frame.number);
        }
        unsigned modes = *p;
        if (modes & 3) {
            return frame.reporter.fail(Error::EINVAL,
                "reserved bits 0x%x set in the compression modes at offset %zu (frame %zu)", modes & 3,
                frame.offset_of(p), frame.number);
        }
        ++p;
        p += TRY(zstd_read_sequence_table(frame, SequenceKind::LiteralLength, modes >> 6, p, end));
        p += TRY(zstd_read_sequence_table(frame, SequenceKind::Offset, (modes >> 4) & 3, p, end));
        p += TRY(zstd_read_sequence_table(frame, SequenceKind::MatchLength, (modes >> 2) & 3, p, end));
        TRY(decoder.run(p, end, count));
    } else if (p != end) {
        return frame.reporter.fail(Error::EINVAL,
            "%zu bytes after the empty sequences section at offset %zu (frame %zu)", size_t(end - p),
            frame.offset_of(p), frame.number);
    }
    return decoder.finish();
}

} // namespace keel::compress
