// Zstandard frames (RFC 8878 3.1): the frame header, the block loop, the
// content checksum; and skippable frames.
#include "lib/compress/decoders.h"
#include "lib/compress/zstd.h"

namespace keel::compress {

namespace {

constexpr uint32_t kFrameMagic = 0xfd2fb528;
constexpr uint32_t kSkippableMagic = 0x184d2a50; // low 4 bits free
constexpr uint32_t kSkippableMask = 0xfffffff0;

enum BlockType : unsigned { kRawBlock = 0, kRleBlock = 1, kCompressedBlock = 2 };

struct Decoder {
    DecoderContext& context;
    ZstdTables& tables;

    const uint8_t* input() const { return context.input; }
    size_t size() const { return context.input_size; }
    Reporter& reporter() const { return context.reporter; }
};

struct FrameHeader {
    uint64_t window;
    uint64_t content_size;
    bool has_content_size;
    bool has_checksum;
    bool single_segment;
    size_t size; // bytes after the magic
};

// RFC 8878 3.1.1.1.
Result<FrameHeader> parse_frame_header(Decoder& decoder, size_t at, size_t number)
{
    const uint8_t* input = decoder.input();
    size_t left = decoder.size() - at;
    if (left < 1) {
        return decoder.reporter().fail(
            Error::EINVAL, "truncated frame header at offset %zu (frame %zu): no Frame_Header_Descriptor", at, number);
    }
    uint8_t descriptor = input[at];
    unsigned content_size_flag = descriptor >> 6;
    bool single_segment = (descriptor >> 5) & 1;
    if (descriptor & 0x08) {
        return decoder.reporter().fail(Error::EINVAL,
            "reserved bit set in the frame header descriptor 0x%02x at offset %zu (frame %zu)", descriptor, at, number);
    }
    static constexpr size_t kDictionaryIdSizes[4] = { 0, 1, 2, 4 };
    size_t dictionary_id_size = kDictionaryIdSizes[descriptor & 3];
    size_t content_size_size = content_size_flag == 0 ? (single_segment ? 1 : 0) : size_t(1) << content_size_flag;
    size_t header_size = 1 + (single_segment ? 0 : 1) + dictionary_id_size + content_size_size;
    if (left < header_size) {
        return decoder.reporter().fail(Error::EINVAL,
            "truncated frame header at offset %zu (frame %zu): %zu of %zu bytes present", at, number, left,
            header_size);
    }

    FrameHeader header {};
    header.size = header_size;
    header.single_segment = single_segment;
    header.has_checksum = (descriptor >> 2) & 1;
    size_t p = at + 1;
    if (!single_segment) {
        uint8_t descriptor_byte = input[p++];
        unsigned window_log = 10 + (descriptor_byte >> 3);
        uint64_t base = uint64_t(1) << window_log;
        header.window = base + (base / 8) * (descriptor_byte & 7);
    }
    uint32_t dictionary_id = 0;
    for (size_t i = 0; i < dictionary_id_size; ++i)
        dictionary_id |= uint32_t(input[p + i]) << (8 * i);
    p += dictionary_id_size;
    if (dictionary_id != 0) {
        return decoder.reporter().fail(Error::ENOTSUP,
            "frame %zu at offset %zu needs dictionary %u; dictionaries are not supported", number, at - 4,
            dictionary_id);
    }
    if (content_size_size > 0) {
        uint64_t value = 0;
        for (size_t i = 0; i < content_size_size; ++i)
            value |= uint64_t(input[p + i]) << (8 * i);
        if (content_size_size == 2)
            value += 256;
        header.content_size = value;
        header.has_content_size = true;
    }
    if (single_segment)
        header.window = header.content_size;
    return header;
}

Result<void> decode_frame(Decoder& decoder, size_t& at, size_t number)
{
    DecoderContext& context = decoder.context;
    Reporter& reporter = decoder.reporter();
    OutputWindow& out = context.out;
    const uint8_t* input = decoder.input();
    size_t frame_start = at;
    FrameHeader header = TRY(parse_frame_header(decoder, at + 4, number));

    uint64_t limit = uint64_t(1) << context.max_window_log;
    if (header.window > limit) {
        return reporter.fail(Error::ENOMEM,
            "%s of %llu bytes at offset %zu (frame %zu) exceeds the limit of %llu bytes (max_window_log %u)",
            header.single_segment ? "single-segment content size" : "window",
            static_cast<unsigned long long>(header.window), frame_start + 4, number,
            static_cast<unsigned long long>(limit), context.max_window_log);
    }
    if (DecompressCounters* counters = context.counters) {
        ++counters->zstd_frames;
        counters->zstd_frames_with_content_size += header.has_content_size;
        counters->zstd_frames_with_checksum += header.has_checksum;
        counters->zstd_single_segment_frames += header.single_segment;
    }

    ZstdTables& tables = decoder.tables;
    tables.literal_lengths.valid = false;
    tables.offsets.valid = false;
    tables.match_lengths.valid = false;
    tables.huffman_valid = false;
    ZstdFrame frame { input, number, header.window, size_t(min(header.window, uint64_t(kZstdBlockMaximum))),
        { 1, 4, 8 }, tables, out, reporter, context.counters };
    out.begin_unit(size_t(header.window), header.has_checksum ? Checksum::Xxh64 : Checksum::None);

    at += 4 + header.size;
    for (;;) {
        size_t left = decoder.size() - at;
        if (left < 3) {
            return reporter.fail(Error::EINVAL,
                "truncated block header at offset %zu (frame %zu): %zu of 3 bytes present", at, number, left);
        }
        uint32_t block_header = load24(input + at);
        bool last = block_header & 1;
        unsigned type = (block_header >> 1) & 3;
        size_t block_size = block_header >> 3;
        size_t block_at = at;
        at += 3;
        left -= 3;
        if (type == 3) {
            return reporter.fail(Error::EINVAL, "reserved block type 3 at offset %zu (frame %zu)", block_at, number);
        }
        if (block_size > frame.block_maximum) {
            return reporter.fail(Error::EINVAL,
                "%s block of %zu bytes at offset %zu (frame %zu) exceeds the block maximum of %zu",
                type == kRawBlock       ? "raw"
                    : type == kRleBlock ? "RLE"
                                        : "compressed",
                block_size, block_at, number, frame.block_maximum);
        }
        size_t content_size = type == kRleBlock ? 1 : block_size;
        if (left < content_size) {
            return reporter.fail(Error::EINVAL,
                "truncated block at offset %zu (frame %zu): %zu bytes declared, %zu present", block_at, number,
                content_size, left);
        }
        if (type == kCompressedBlock) {
            if (context.counters)
                ++context.counters->zstd_compressed_blocks;
            TRY(zstd_compressed_block(frame, input + at, block_size));
        } else {
            if (context.counters)
                ++(type == kRawBlock ? context.counters->zstd_raw_blocks : context.counters->zstd_rle_blocks);
            if (block_size > size_t(out.end - out.pos))
                TRY(out.make_room(block_size, block_at));
            if (type == kRawBlock)
                memcpy(out.pos, input + at, block_size);
            else
                memset(out.pos, input[at], block_size);
            out.pos += block_size;
        }
        at += content_size;
        out.update_checksum();
        if (last)
            break;
    }

    if (header.has_checksum) {
        if (decoder.size() - at < 4) {
            return reporter.fail(Error::EINVAL,
                "truncated content checksum at offset %zu (frame %zu): %zu of 4 bytes present", at, number,
                decoder.size() - at);
        }
        uint32_t stored = load32(input + at);
        uint32_t computed = uint32_t(out.xxh64());
        if (stored != computed) {
            return reporter.fail(Error::EBADMSG,
                "XXH64 content checksum mismatch at offset %zu (frame %zu): stored 0x%08x, computed 0x%08x", at, number,
                stored, computed);
        }
        at += 4;
    }
    if (header.has_content_size && out.unit_produced() != header.content_size) {
        return reporter.fail(Error::EBADMSG,
            "frame %zu at offset %zu declares %llu bytes of content but decodes to %llu", number, frame_start,
            static_cast<unsigned long long>(header.content_size), static_cast<unsigned long long>(out.unit_produced()));
    }
    return {};
}

} // namespace

size_t zstd_tables_size() { return sizeof(ZstdTables); }

Result<DecompressResult> zstd_decompress(DecoderContext& context)
{
    Decoder decoder { context, *static_cast<ZstdTables*>(context.tables) };
    Reporter& reporter = context.reporter;
    const uint8_t* input = context.input;
    size_t size = context.input_size;
    DecompressResult result;
    size_t at = 0;
    if (size == 0)
        return reporter.fail(Error::EINVAL, "empty input: no zstd frame at offset 0");

    while (at < size) {
        size_t left = size - at;
        uint32_t magic = 0;
        if (left >= 4)
            magic = load32(input + at);
        bool frame = left >= 4 && magic == kFrameMagic;
        bool skippable = left >= 4 && (magic & kSkippableMask) == kSkippableMagic;
        if (!frame && !skippable) {
            if (result.frames > 0 && context.stop_at_unknown_data)
                break;
            if (left < 4) {
                return reporter.fail(
                    Error::EINVAL, "truncated frame magic at offset %zu: %zu of 4 bytes present", at, left);
            }
            if (result.frames == 0)
                return reporter.fail(Error::EINVAL, "no zstd frame at offset %zu: magic 0x%08x", at, magic);
            return reporter.fail(Error::EINVAL,
                "%zu bytes of trailing data at offset %zu after frame %zu do not start a frame (magic 0x%08x)", left,
                at, result.frames, magic);
        }
        size_t number = result.frames + 1;
        if (skippable) {
            if (left < 8) {
                return reporter.fail(Error::EINVAL,
                    "truncated skippable frame header at offset %zu (frame %zu): %zu of 8 bytes present", at, number,
                    left);
            }
            uint32_t frame_size = load32(input + at + 4);
            if (left - 8 < frame_size) {
                return reporter.fail(Error::EINVAL,
                    "truncated skippable frame at offset %zu (frame %zu): %u bytes declared, %zu present", at, number,
                    frame_size, left - 8);
            }
            at += 8 + size_t(frame_size);
            if (context.counters)
                ++context.counters->zstd_skippable_frames;
        } else {
            TRY(decode_frame(decoder, at, number));
        }
        ++result.frames;
    }
    TRY(context.out.finish(at));
    result.consumed = at;
    result.produced = size_t(context.out.produced());
    return result;
}

} // namespace keel::compress
