// gzip members (RFC 1952): a header, a DEFLATE stream, and a trailer with
// the CRC-32 and the length (mod 2^32) of the member's data. Members may
// be concatenated; their outputs are too.
#include "lib/compress/crc32.h"
#include "lib/compress/decoders.h"
#include "lib/compress/inflate.h"

namespace keel::compress {

namespace {

constexpr uint8_t kId1 = 0x1f;
constexpr uint8_t kId2 = 0x8b;
constexpr uint8_t kMethodDeflate = 8;
constexpr size_t kFixedHeaderSize = 10;
constexpr size_t kTrailerSize = 8;
constexpr size_t kWindow = 32768;

enum Flags : uint8_t {
    kText = 1 << 0,
    kHeaderCrc = 1 << 1,
    kExtra = 1 << 2,
    kName = 1 << 3,
    kComment = 1 << 4,
    kReserved = 0xe0,
};

struct Member {
    const uint8_t* input;
    size_t size;
    size_t number; // 1-based
    size_t start;
    Reporter& reporter;
    const Crc32Tables& crc32_tables;
    DecompressCounters* counters;

    Err truncated_header(size_t at, const char* field) const
    {
        return reporter.fail(Error::EINVAL,
            "truncated gzip header at offset %zu (member %zu): the input ends in the %s", at, number, field);
    }
};

// Skips the zero-terminated string at `at` (FNAME or FCOMMENT).
Result<void> skip_string(const Member& member, size_t& at, const char* field)
{
    const void* nul = memchr(member.input + at, 0, member.size - at);
    if (!nul)
        return member.truncated_header(at, field);
    at = size_t(static_cast<const uint8_t*>(nul) - member.input) + 1;
    return {};
}

// Checks the header at member.start and returns where the DEFLATE data
// begins.
Result<size_t> parse_header(const Member& member)
{
    const uint8_t* input = member.input;
    size_t at = member.start;
    if (member.size - at < kFixedHeaderSize)
        return member.truncated_header(member.size, "fixed 10-byte header");
    if (input[at] != kId1 || input[at + 1] != kId2) {
        return member.reporter.fail(Error::EINVAL, "no gzip magic at offset %zu (member %zu): bytes 0x%02x 0x%02x", at,
            member.number, input[at], input[at + 1]);
    }
    if (input[at + 2] != kMethodDeflate) {
        return member.reporter.fail(Error::ENOTSUP,
            "compression method %u at offset %zu (member %zu) is not deflate (8)", input[at + 2], at + 2,
            member.number);
    }
    uint8_t flags = input[at + 3];
    if (flags & kReserved) {
        return member.reporter.fail(Error::EINVAL, "reserved header flags 0x%02x set at offset %zu (member %zu)",
            flags & kReserved, at + 3, member.number);
    }
    at += kFixedHeaderSize;
    DecompressCounters* counters = member.counters;

    if (flags & kExtra) {
        if (member.size - at < 2)
            return member.truncated_header(member.size, "FEXTRA length");
        size_t length = load16(input + at);
        at += 2;
        if (member.size - at < length)
            return member.truncated_header(member.size, "FEXTRA field");
        at += length;
        if (counters)
            ++counters->gzip_extra_fields;
    }
    if (flags & kName) {
        TRY(skip_string(member, at, "file name (FNAME)"));
        if (counters)
            ++counters->gzip_names;
    }
    if (flags & kComment) {
        TRY(skip_string(member, at, "comment (FCOMMENT)"));
        if (counters)
            ++counters->gzip_comments;
    }
    if (flags & kHeaderCrc) {
        if (member.size - at < 2)
            return member.truncated_header(member.size, "header CRC-16 (FHCRC)");
        unsigned stored = load16(input + at);
        unsigned computed = crc32_update(member.crc32_tables, 0, input + member.start, at - member.start) & 0xffff;
        if (stored != computed) {
            return member.reporter.fail(Error::EBADMSG,
                "header CRC-16 mismatch at offset %zu (member %zu): stored 0x%04x, computed 0x%04x", at, member.number,
                stored, computed);
        }
        at += 2;
        if (counters)
            ++counters->gzip_header_crcs;
    }
    return at;
}

} // namespace

size_t gzip_tables_size() { return sizeof(InflateTables); }

Result<DecompressResult> gzip_decompress(DecoderContext& context)
{
    Reporter& reporter = context.reporter;
    OutputWindow& out = context.out;
    auto* tables = static_cast<InflateTables*>(context.tables);
    tables->fixed_loaded = false;
    crc32_make_tables(tables->crc32);
    out.set_crc32_tables(&tables->crc32);

    DecompressResult result;
    size_t offset = 0;
    if (context.input_size == 0)
        return reporter.fail(Error::EINVAL, "empty input: no gzip member at offset 0");
    for (;;) {
        Member member { context.input, context.input_size, result.frames + 1, offset, reporter, tables->crc32,
            context.counters };
        size_t data_start = TRY(parse_header(member));

        out.begin_unit(kWindow, Checksum::Crc32);
        InflateContext inflate_context { context.input, context.input_size, member.number, out, *tables, reporter,
            context.counters };
        size_t at = data_start;
        TRY(inflate(inflate_context, at));
        out.update_checksum();

        if (context.input_size - at < kTrailerSize) {
            return reporter.fail(Error::EINVAL,
                "truncated gzip trailer at offset %zu (member %zu): %zu of 8 bytes present", at, member.number,
                context.input_size - at);
        }
        uint32_t stored_crc = load32(context.input + at);
        uint32_t stored_size = load32(context.input + at + 4);
        uint32_t computed_crc = out.crc32();
        uint32_t computed_size = uint32_t(out.unit_produced());
        if (stored_crc != computed_crc) {
            return reporter.fail(Error::EBADMSG,
                "CRC-32 mismatch at offset %zu (member %zu): stored 0x%08x, computed 0x%08x", at, member.number,
                stored_crc, computed_crc);
        }
        if (stored_size != computed_size) {
            return reporter.fail(Error::EBADMSG,
                "ISIZE mismatch at offset %zu (member %zu): stored %u, decoded %u bytes (mod 2^32)", at + 4,
                member.number, stored_size, computed_size);
        }
        offset = at + kTrailerSize;
        ++result.frames;
        if (context.counters)
            ++context.counters->gzip_members;

        size_t left = context.input_size - offset;
        if (left == 0)
            break;
        if (left >= 2 && context.input[offset] == kId1 && context.input[offset + 1] == kId2)
            continue;
        if (context.stop_at_unknown_data)
            break;
        return reporter.fail(Error::EINVAL,
            "%zu bytes of trailing data at offset %zu after member %zu do not start a gzip member (0x%02x)", left,
            offset, result.frames, context.input[offset]);
    }
    TRY(out.finish(offset));
    result.consumed = offset;
    result.produced = size_t(out.produced());
    return result;
}

} // namespace keel::compress
