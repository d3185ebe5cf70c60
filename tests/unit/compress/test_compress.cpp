// core/lib/compress on hostile input: streams crafted bit by bit to break
// one rule each (over-subscribed and incomplete Huffman codes, distances
// beyond the window, bad FSE tables, ...), every truncation point and
// every single-bit flip of real streams, output bounds of every size, and
// the checksums and helpers on their own.
#include <catch2/catch.hpp>

#include <algorithm>

#include "compress_test_support.h"
#include "lib/compress/xxhash64.h"

using namespace compress_test;
using keel::CompressionFormat;
using keel::Error;

namespace {

const std::vector<Fixture>& fixtures()
{
    static const std::vector<Fixture> all = load_fixtures();
    return all;
}

Bytes bytes_of(const std::string& text) { return Bytes(text.begin(), text.end()); }

Decoded gunzip(const Bytes& input, size_t capacity = 4096)
{
    return decode_buffer(CompressionFormat::Gzip, input, capacity);
}
Decoded unzstd(const Bytes& input, size_t capacity = 4096, const DecodeSettings& settings = {})
{
    return decode_buffer(CompressionFormat::Zstd, input, capacity, settings);
}

// --- DEFLATE ------------------------------------------------------------

// RFC 1951 3.2.6: the fixed literal/length code.
void put_fixed(BitWriter& w, unsigned symbol)
{
    if (symbol < 144)
        w.put_code(0x30 + symbol, 8);
    else if (symbol < 256)
        w.put_code(0x190 + symbol - 144, 9);
    else if (symbol < 280)
        w.put_code(symbol - 256, 7);
    else
        w.put_code(0xc0 + symbol - 280, 8);
}

BitWriter fixed_block()
{
    BitWriter w;
    w.put(1, 1); // BFINAL
    w.put(1, 2); // fixed Huffman
    return w;
}

BitWriter dynamic_block()
{
    BitWriter w;
    w.put(1, 1);
    w.put(2, 2);
    return w;
}

std::vector<uint8_t> litlen_lengths(std::initializer_list<std::pair<unsigned, uint8_t>> codes, size_t count = 258)
{
    std::vector<uint8_t> lengths(count, 0);
    for (auto [symbol, length] : codes)
        lengths[symbol] = length;
    return lengths;
}

// A dynamic block header for these literal/length and distance lengths,
// written without repeat codes.
BitWriter dynamic_with(const std::vector<uint8_t>& litlen, const std::vector<uint8_t>& distance)
{
    BitWriter w = dynamic_block();
    std::vector<uint8_t> all = litlen;
    all.insert(all.end(), distance.begin(), distance.end());
    put_dynamic_header(w, unsigned(litlen.size()), unsigned(distance.size()), plain_lengths(all));
    return w;
}

void check_gzip_error(const Bytes& deflate, const std::string& expected_message, Error error = Error::EINVAL)
{
    Decoded decoded = gunzip(gzip_wrap(deflate, {}));
    INFO(decoded.message);
    CHECK_FALSE(decoded.ok);
    CHECK(decoded.error == error);
    CHECK(decoded.message == expected_message);
}

} // namespace

TEST_CASE("CRC-32 and XXH64 match their published check values, in any number of pieces")
{
    const char* check = "123456789";
    keel::Crc32Tables tables;
    keel::crc32_make_tables(tables);
    CHECK(keel::crc32_update(tables, 0, check, 9) == 0xcbf43926);
    CHECK(keel::crc32_update(tables, keel::crc32_update(tables, 0, check, 4), check + 4, 5) == 0xcbf43926);
    CHECK(keel::crc32_update(tables, 0, "", 0) == 0);
    // Every length and alignment against a bit-at-a-time CRC.
    Bytes bytes(300);
    for (size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = uint8_t(i * 131 + 7);
    for (size_t start = 0; start < 9; ++start) {
        for (size_t length = 0; start + length <= bytes.size(); length += 1 + length / 8) {
            uint32_t crc = 0xffffffff;
            for (size_t i = start; i < start + length; ++i) {
                crc ^= bytes[i];
                for (int bit = 0; bit < 8; ++bit)
                    crc = (crc >> 1) ^ ((crc & 1) ? 0xedb88320 : 0);
            }
            CHECK(keel::crc32_update(tables, 0, bytes.data() + start, length) == ~crc);
        }
    }

    keel::Xxh64 empty;
    CHECK(empty.digest() == 0xef46db3751d8e999ull);

    // Any split gives the one-shot hash.
    Bytes data(1000);
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = uint8_t(i * 7 + (i >> 3));
    keel::Xxh64 whole;
    whole.update(data.data(), data.size());
    for (size_t split : { 0, 1, 5, 31, 32, 33, 64, 500, 999, 1000 }) {
        keel::Xxh64 pieces;
        pieces.update(data.data(), split);
        for (size_t at = split; at < data.size(); at += 13)
            pieces.update(data.data() + at, std::min<size_t>(13, data.size() - at));
        CHECK(pieces.digest() == whole.digest());
    }
}

TEST_CASE("formats are told apart by their magic")
{
    auto detect = [](Bytes bytes) { return keel::detect_compression(bytes.data(), bytes.size()); };
    CHECK(detect({ 0x1f, 0x8b }) == CompressionFormat::Gzip);
    CHECK(detect({ 0x1f }) == CompressionFormat::None);
    CHECK(detect({ 0x28, 0xb5, 0x2f, 0xfd }) == CompressionFormat::Zstd);
    CHECK(detect({ 0x28, 0xb5, 0x2f }) == CompressionFormat::None);
    CHECK(detect({ 0x5e, 0x2a, 0x4d, 0x18 }) == CompressionFormat::Zstd); // skippable
    CHECK(detect({ 0x5e, 0x2a, 0x4d, 0x19 }) == CompressionFormat::None);
    CHECK(detect(bytes_of("070701")) == CompressionFormat::None);
    CHECK(detect({}) == CompressionFormat::None);
    CHECK(std::string(keel::compression_format_name(CompressionFormat::Zstd)) == "zstd");
}

TEST_CASE("the workspace must be as large as stated")
{
    Bytes input = read_file(fixture_named(fixtures(), "small.gzip-9").compressed_path);
    auto need = keel::decompress_workspace_size(CompressionFormat::Gzip, keel::DecompressTarget::Buffer);
    CHECK(need.minimum < 20 * 1024);
    auto zstd_sink = keel::decompress_workspace_size(CompressionFormat::Zstd, keel::DecompressTarget::Sink, 20);
    CHECK(zstd_sink.minimum >= (1u << 20) + 128 * 1024);
    CHECK(zstd_sink.recommended >= 2 * (1u << 20) + 128 * 1024);

    std::vector<uint8_t> workspace(need.minimum - 1);
    std::vector<uint8_t> out(8192);
    char message[128];
    keel::DecompressOptions options;
    options.workspace = workspace.data();
    options.workspace_size = workspace.size();
    options.message = message;
    options.message_size = sizeof(message);
    auto result = keel::decompress_to_buffer(
        CompressionFormat::Gzip, input.data(), input.size(), out.data(), out.size(), options);
    CHECK(result.error() == Error::ENOMEM);
    CHECK(contains(message, "gzip: the workspace has"));

    options.max_window_log = 32;
    workspace.resize(need.minimum);
    options.workspace = workspace.data();
    options.workspace_size = workspace.size();
    auto window = keel::decompress_to_buffer(
        CompressionFormat::Gzip, input.data(), input.size(), out.data(), out.size(), options);
    CHECK(window.error() == Error::EINVAL);
    CHECK(std::string(message) == "gzip: max_window_log 32 is outside 10..31");

    // A format that is not gzip or zstd, and data that is not the format.
    options.max_window_log = keel::kZstdDefaultMaxWindowLog;
    std::vector<uint8_t> zstd_workspace(
        keel::decompress_workspace_size(CompressionFormat::Zstd, keel::DecompressTarget::Buffer).minimum);
    options.workspace = zstd_workspace.data();
    options.workspace_size = zstd_workspace.size();
    auto mismatch = keel::decompress_to_buffer(
        CompressionFormat::Zstd, input.data(), input.size(), out.data(), out.size(), options);
    CHECK(mismatch.error() == Error::EINVAL);
    CHECK(contains(message, "zstd: no zstd frame at offset 0: magic 0x"));
}

TEST_CASE("messages are cut to the caller's buffer and always terminated")
{
    Bytes input = read_file(fixture_named(fixtures(), "small.gzip-9").compressed_path);
    input.resize(input.size() / 2);
    std::vector<uint8_t> workspace(
        keel::decompress_workspace_size(CompressionFormat::Gzip, keel::DecompressTarget::Buffer).recommended);
    std::vector<uint8_t> out(8192);
    char message[12];
    memset(message, 'x', sizeof(message));
    keel::DecompressOptions options;
    options.workspace = workspace.data();
    options.workspace_size = workspace.size();
    options.message = message;
    options.message_size = sizeof(message);
    auto result = keel::decompress_to_buffer(
        CompressionFormat::Gzip, input.data(), input.size(), out.data(), out.size(), options);
    CHECK(result.is_error());
    CHECK(std::string(message) == "gzip: trunc");
}

// --- gzip containers ---------------------------------------------------

TEST_CASE("gzip headers: magic, method, reserved flags, header CRC")
{
    Bytes good = read_file(fixture_named(fixtures(), "short.zlib-all-flags").compressed_path);
    Bytes expected = read_file(fixture_named(fixtures(), "short.zlib-all-flags").expected_path);
    REQUIRE(gunzip(good).output == expected);

    Bytes method = good;
    method[2] = 7;
    Decoded decoded = gunzip(method);
    CHECK(decoded.error == Error::ENOTSUP);
    CHECK(decoded.message == "gzip: compression method 7 at offset 2 (member 1) is not deflate (8)");

    Bytes reserved = good;
    reserved[3] |= 0x40;
    decoded = gunzip(reserved);
    CHECK(decoded.error == Error::EINVAL);
    CHECK(decoded.message == "gzip: reserved header flags 0x40 set at offset 3 (member 1)");

    Bytes name = good;
    name[20] ^= 1; // inside FEXTRA's payload or the name: covered by FHCRC
    decoded = gunzip(name);
    CHECK(decoded.error == Error::EBADMSG);
    CHECK(contains(decoded.message, "gzip: header CRC-16 mismatch at offset "));

    Decoded empty = gunzip({});
    CHECK(empty.error == Error::EINVAL);
    CHECK(empty.message == "gzip: empty input: no gzip member at offset 0");
}

TEST_CASE("gzip trailers: CRC-32 and ISIZE are checked per member")
{
    const Fixture& f = fixture_named(fixtures(), "joined.gzip-members");
    Bytes input = read_file(f.compressed_path);
    Bytes text = read_file(fixture_named(fixtures(), "text.gzip-1").compressed_path);
    size_t second_member = text.size();
    // The second member's trailer: its last 8 bytes before the third member.
    Bytes zeros = read_file(fixture_named(fixtures(), "zeros.gzip-1").compressed_path);
    (void)zeros;

    // Corrupt the first member's stored CRC-32.
    Bytes crc = input;
    crc[second_member - 8] ^= 0xff;
    Decoded decoded = decode_buffer(CompressionFormat::Gzip, crc, read_file(f.expected_path).size());
    CHECK(decoded.error == Error::EBADMSG);
    CHECK(contains(decoded.message,
        "gzip: CRC-32 mismatch at offset " + std::to_string(second_member - 8) + " (member 1): stored 0x"));

    Bytes isize = input;
    isize[second_member - 1] ^= 0x01;
    decoded = decode_buffer(CompressionFormat::Gzip, isize, read_file(f.expected_path).size());
    CHECK(decoded.error == Error::EBADMSG);
    CHECK(contains(decoded.message,
        "gzip: ISIZE mismatch at offset " + std::to_string(second_member - 4) + " (member 1): stored "));
}

// --- DEFLATE blocks -------------------------------------------------------

TEST_CASE("deflate: a valid fixed block with an overlapping match")
{
    BitWriter w = fixed_block();
    put_fixed(w, 'a');
    put_fixed(w, 259); // length 5
    w.put_code(0, 5);  // distance 1
    put_fixed(w, 256);
    Bytes data = bytes_of("aaaaaa");
    Decoded decoded = gunzip(gzip_wrap(w.data(), data));
    INFO(decoded.message);
    REQUIRE(decoded.ok);
    CHECK(decoded.output == data);
}

TEST_CASE("deflate: a distance before the start of the member")
{
    BitWriter w = fixed_block();
    put_fixed(w, 'a');
    put_fixed(w, 257); // length 3
    w.put_code(1, 5);  // distance 2
    put_fixed(w, 256);
    check_gzip_error(
        w.data(), "gzip: distance 2 at offset 11 (member 1) reaches before the start of the member (1 bytes decoded)");
}

TEST_CASE("deflate: a member cannot reach into the previous member's output")
{
    BitWriter first = fixed_block();
    for (int i = 0; i < 10; ++i)
        put_fixed(first, 'a' + i);
    put_fixed(first, 256);
    BitWriter second = fixed_block();
    put_fixed(second, 257);
    second.put_code(0, 5);
    put_fixed(second, 256);
    Bytes input = gzip_wrap(first.data(), bytes_of("abcdefghij"));
    append(input, gzip_wrap(second.data(), bytes_of("jjj")));
    Decoded decoded = gunzip(input);
    CHECK(decoded.error == Error::EINVAL);
    CHECK(contains(decoded.message, "reaches before the start of the member (0 bytes decoded)"));
    CHECK(contains(decoded.message, "(member 2)"));
}

TEST_CASE("deflate: fixed codes 286, 287 and distances 30, 31 are invalid")
{
    for (unsigned symbol : { 286u, 287u }) {
        BitWriter w = fixed_block();
        put_fixed(w, symbol);
        check_gzip_error(w.data(), "gzip: invalid literal/length code at offset 10 (member 1)");
    }
    for (unsigned distance : { 30u, 31u }) {
        BitWriter w = fixed_block();
        put_fixed(w, 'x');
        put_fixed(w, 257);
        w.put_code(distance, 5);
        check_gzip_error(w.data(), "gzip: invalid distance code at offset 11 (member 1)");
    }
}

TEST_CASE("deflate: reserved block type and stored block lengths")
{
    BitWriter reserved;
    reserved.put(1, 1);
    reserved.put(3, 2);
    check_gzip_error(reserved.data(), "gzip: reserved deflate block type 3 at offset 10 (member 1)");

    BitWriter stored;
    stored.put(1, 1);
    stored.put(0, 2);
    stored.bytes({ 0x05, 0x00, 0xfa, 0xfe, 'h', 'e', 'l', 'l', 'o' });
    check_gzip_error(
        stored.data(), "gzip: stored block length 0x0005 does not match its complement 0xfefa at offset 11 (member 1)");

    BitWriter good;
    good.put(0, 1);
    good.put(0, 2);
    good.bytes({ 0x02, 0x00, 0xfd, 0xff, 'h', 'e' });
    good.put(1, 1);
    good.put(0, 2);
    good.bytes({ 0x03, 0x00, 0xfc, 0xff, 'l', 'l', 'o' });
    Decoded decoded = gunzip(gzip_wrap(good.data(), bytes_of("hello")));
    REQUIRE(decoded.ok);
    CHECK(decoded.output == bytes_of("hello"));

    BitWriter empty_stored;
    empty_stored.put(1, 1);
    empty_stored.put(0, 2);
    empty_stored.bytes({ 0x00, 0x00, 0xff, 0xff });
    CHECK(gunzip(gzip_wrap(empty_stored.data(), {})).ok);
}

TEST_CASE("deflate: dynamic headers with too many codes")
{
    BitWriter litlen = dynamic_block();
    litlen.put(30, 5); // 287 literal/length codes
    litlen.put(0, 5);
    litlen.put(0, 4);
    check_gzip_error(litlen.data(),
        "gzip: dynamic block header declares too many literal/length codes: 287 at offset 10 (member 1)");

    BitWriter distance = dynamic_block();
    distance.put(0, 5);
    distance.put(30, 5); // 31 distance codes
    distance.put(0, 4);
    check_gzip_error(
        distance.data(), "gzip: dynamic block header declares too many distance codes: 31 at offset 11 (member 1)");
}

TEST_CASE("deflate: over-subscribed and incomplete code length codes")
{
    CodeLengthCode all_one;
    all_one.lengths.assign(19, 1);
    BitWriter over = dynamic_block();
    put_dynamic_header(over, 257, 1, {}, all_one);
    check_gzip_error(over.data(), "gzip: code length code is over-subscribed at offset 12 (member 1)");

    CodeLengthCode single;
    single.lengths.assign(19, 0);
    single.lengths[0] = 1;
    BitWriter incomplete = dynamic_block();
    put_dynamic_header(incomplete, 257, 1, {}, single);
    check_gzip_error(incomplete.data(), "gzip: code length code is incomplete at offset 12 (member 1)");

    CodeLengthCode none;
    none.lengths.assign(19, 0);
    BitWriter empty = dynamic_block();
    put_dynamic_header(empty, 257, 1, {}, none);
    check_gzip_error(empty.data(), "gzip: code length code is empty at offset 12 (member 1)");
}

TEST_CASE("deflate: code length repeats")
{
    BitWriter first = dynamic_block();
    put_dynamic_header(first, 257, 1, { { 16, 0 } });
    check_gzip_error(first.data(), "gzip: code length repeat (16) with no previous length at offset 19 (member 1)");

    BitWriter past = dynamic_block();
    put_dynamic_header(past, 257, 1, { { 18, 127 }, { 18, 127 } });
    check_gzip_error(
        past.data(), "gzip: code length repeat of 138 at offset 20 (member 1) runs past the 258 lengths declared");

    // Repeats may cross from literal/length into distance lengths.
    BitWriter across = dynamic_block();
    std::vector<std::pair<unsigned, unsigned>> sequence = { { 18, 127 }, { 18, 127 - 20 } }; // 256 zeros
    sequence.push_back({ 1, 0 });                                                            // 256: 1 bit
    sequence.push_back({ 1, 0 });                                                            // 257: 1 bit
    sequence.push_back({ 1, 0 });                                                            // distance 0
    sequence.push_back({ 16, 0 });                                                           // 3 more: 1 1 1
    put_dynamic_header(across, 258, 4, sequence);
    // The distance code is now four 1-bit codes: over-subscribed.
    check_gzip_error(across.data(), "gzip: distance code is over-subscribed at offset 19 (member 1)");
}

TEST_CASE("deflate: literal/length codes that are over-subscribed, incomplete or lack end-of-block")
{
    check_gzip_error(dynamic_with(litlen_lengths({ { 'a', 1 }, { 'b', 1 }, { 256, 1 } }), { 1 }).data(),
        "gzip: literal/length code is over-subscribed at offset 19 (member 1)");
    check_gzip_error(dynamic_with(litlen_lengths({ { 'a', 1 }, { 256, 2 } }), { 1 }).data(),
        "gzip: literal/length code is incomplete at offset 19 (member 1)");
    check_gzip_error(dynamic_with(litlen_lengths({ { 'a', 1 }, { 'b', 1 } }), { 1 }).data(),
        "gzip: literal/length code lengths at offset 19 (member 1) give no end-of-block code");
    check_gzip_error(dynamic_with(litlen_lengths({ { 'a', 1 }, { 256, 1 } }), { 1, 1, 1 }).data(),
        "gzip: distance code is over-subscribed at offset 19 (member 1)");
    check_gzip_error(dynamic_with(litlen_lengths({ { 'a', 1 }, { 256, 1 } }), { 1, 2 }).data(),
        "gzip: distance code is incomplete at offset 19 (member 1)");
}

TEST_CASE("deflate: a single one-bit code and an empty distance code are allowed, until used")
{
    // Only end-of-block, one bit long (zlib accepts this incomplete code).
    BitWriter lone = dynamic_with(litlen_lengths({ { 256, 1 } }), { 0 });
    lone.put_code(0, 1);
    Decoded decoded = gunzip(gzip_wrap(lone.data(), {}));
    INFO(decoded.message);
    CHECK(decoded.ok);
    CHECK(decoded.output.empty());

    // The unused half of a one-bit code.
    BitWriter unused = dynamic_with(litlen_lengths({ { 256, 1 } }), { 0 });
    unused.put_code(1, 1);
    check_gzip_error(unused.data(), "gzip: invalid literal/length code at offset 181 (member 1)");

    // A length with no distance codes at all.
    auto lengths = litlen_lengths({ { 'a', 2 }, { 256, 2 }, { 257, 1 } });
    auto codes = canonical_codes(lengths);
    BitWriter no_distances = dynamic_with(lengths, { 0 });
    no_distances.put_code(codes['a'], 2);
    no_distances.put_code(codes[257], 1);
    check_gzip_error(no_distances.data(), "gzip: invalid distance code at offset 181 (member 1)");
}

TEST_CASE("deflate: codes of up to 15 bits go through subtables")
{
    // Literal/length: 'A'..'M' 1..13 bits, length 3 (257) 14 bits, 'Z'
    // and end-of-block 15 bits. Distance codes 0..13: 1..14 bits, 14 and
    // 15: 15 bits. Both complete.
    std::vector<uint8_t> litlen(258, 0);
    for (unsigned i = 0; i < 13; ++i)
        litlen['A' + i] = uint8_t(i + 1);
    litlen[257] = 14;
    litlen['Z'] = 15;
    litlen[256] = 15;
    std::vector<uint8_t> distance(16, 0);
    for (unsigned i = 0; i < 14; ++i)
        distance[i] = uint8_t(i + 1);
    distance[14] = 15;
    distance[15] = 15;
    auto literal_codes = canonical_codes(litlen);
    auto distance_codes = canonical_codes(distance);

    BitWriter w = dynamic_with(litlen, distance);
    Bytes expected;
    auto literal = [&](unsigned symbol) {
        w.put_code(literal_codes[symbol], litlen[symbol]);
        expected.push_back(uint8_t(symbol));
    };
    auto match = [&](unsigned code, unsigned base, unsigned extra_bits, unsigned extra) {
        w.put_code(literal_codes[257], litlen[257]);
        w.put_code(distance_codes[code], distance[code]);
        w.put(extra, extra_bits);
        size_t from = expected.size() - (base + extra);
        for (int i = 0; i < 3; ++i)
            expected.push_back(expected[from + i]);
    };
    for (unsigned i = 0; i < 13; ++i)
        literal('A' + i);
    literal('Z');
    for (int i = 0; i < 200; ++i)
        literal('A' + i % 13);
    match(0, 1, 0, 0);    // distance 1, a 1-bit code
    match(15, 193, 6, 0); // distance 193, a 15-bit code
    match(14, 129, 6, 5); // distance 134, the other 15-bit code
    match(13, 97, 5, 31); // distance 128, 14 bits
    w.put_code(literal_codes[256], litlen[256]);

    Decoded decoded = gunzip(gzip_wrap(w.data(), expected));
    INFO(decoded.message);
    REQUIRE(decoded.ok);
    CHECK(decoded.output == expected);
}

// --- zstd frames ----------------------------------------------------------

namespace {

// A raw-literals, RLE-sequences compressed block: every sequence has the
// same codes; `bits` holds their extra bits in reading order.
Bytes rle_sequences_block(const Bytes& literals, size_t count, uint8_t ll_code, uint8_t of_code, uint8_t ml_code,
    const BackwardBitWriter& bits, bool marker = true)
{
    Bytes block;
    REQUIRE(literals.size() < 32);
    block.push_back(uint8_t(literals.size() << 3)); // raw, 1-byte header
    append(block, literals);
    REQUIRE(count < 128);
    block.push_back(uint8_t(count));
    block.push_back(0x54); // RLE, RLE, RLE
    block.push_back(ll_code);
    block.push_back(of_code);
    block.push_back(ml_code);
    append(block, bits.finish(marker));
    return block;
}

Bytes frame_with_blocks(std::initializer_list<std::pair<unsigned, Bytes>> blocks, uint8_t window_descriptor = 0)
{
    Bytes frame = zstd_frame_header(window_descriptor);
    size_t n = 0;
    for (auto& [type, content] : blocks) {
        bool last = ++n == blocks.size();
        uint32_t size = uint32_t(type == 1 ? 0 : content.size());
        put_block_header(frame, last, type, size);
        append(frame, content);
    }
    return frame;
}

Bytes raw_block_frame(const Bytes& data, uint8_t descriptor, uint8_t window_descriptor = 0)
{
    Bytes frame = { 0x28, 0xb5, 0x2f, 0xfd, descriptor };
    if (!(descriptor & 0x20))
        frame.push_back(window_descriptor);
    return frame;
}

void check_zstd_error(const Bytes& input, const std::string& expected_message, Error error = Error::EINVAL,
    const DecodeSettings& settings = {})
{
    Decoded decoded = unzstd(input, 1 << 16, settings);
    INFO(decoded.message);
    CHECK_FALSE(decoded.ok);
    CHECK(decoded.error == error);
    CHECK(decoded.message == expected_message);
}

// The 3-byte header of a compressed or treeless literals section (size
// formats 0 and 1).
void put_huffman_literals_header(Bytes& out, unsigned type, bool four_streams, size_t regenerated, size_t compressed)
{
    put_le(out, type | (four_streams ? 1u << 2 : 0u) | (regenerated << 4) | (compressed << 14), 3);
}

} // namespace

TEST_CASE("zstd: a crafted block with RLE sequence codes")
{
    // Literals "abcd", then match length 8 at offset 4: Offset_Value 7 is
    // code 2 with extra bits 3.
    BackwardBitWriter bits;
    bits.put(3, 2);
    Bytes block = rle_sequences_block(bytes_of("abcd"), 1, 4, 2, 5, bits);
    Decoded decoded = unzstd(frame_with_blocks({ { 2, block } }));
    INFO(decoded.message);
    REQUIRE(decoded.ok);
    CHECK(decoded.output == bytes_of("abcdabcdabcd"));

    // One extra bit, or two missing, in the sequences bitstream.
    BackwardBitWriter extra;
    extra.put(3, 2);
    extra.put(0, 1);
    check_zstd_error(frame_with_blocks({ { 2, rle_sequences_block(bytes_of("abcd"), 1, 4, 2, 5, extra) } }),
        "zstd: sequences bitstream at offset 19 (frame 1) has 1 bits left after 1 sequences");
    check_zstd_error(
        frame_with_blocks({ { 2, rle_sequences_block(bytes_of("abcd"), 1, 4, 2, 5, BackwardBitWriter()) } }),
        "zstd: sequences bitstream at offset 19 (frame 1) ends inside sequence 1 of 1");
}

TEST_CASE("zstd: offsets before the frame, beyond the window, and repeat offset 1 minus 1")
{
    BackwardBitWriter zero;
    zero.put(0, 3);
    check_zstd_error(frame_with_blocks({ { 2, rle_sequences_block(bytes_of("abcd"), 1, 4, 3, 0, zero) } }),
        "zstd: offset 5 of sequence 1 in the block at offset 6 (frame 1) reaches before the start of the frame (4 "
        "bytes decoded)");

    // A 1 KiB window, 2000 bytes decoded, then offset 1500.
    BackwardBitWriter far;
    far.put(1503 - 1024, 10);
    Bytes thousand(1000, 'x');
    check_zstd_error(
        frame_with_blocks({ { 0, thousand }, { 0, thousand }, { 2, rle_sequences_block({}, 1, 0, 10, 0, far) } }),
        "zstd: offset 1500 of sequence 1 in the block at offset 2012 (frame 1) exceeds the window of 1024 bytes");

    // No literals before the match and Offset_Value 3: the first repeat
    // offset (1 at the start of a frame) minus 1.
    BackwardBitWriter minus_one;
    minus_one.put(1, 1);
    check_zstd_error(frame_with_blocks({ { 2, rle_sequences_block({}, 1, 0, 1, 0, minus_one) } }),
        "zstd: sequence 1 in the block at offset 6 (frame 1) repeats offset 1 minus 1, which is 0");
}

TEST_CASE("zstd: sequences that overrun the literals or the block maximum")
{
    BackwardBitWriter bits;
    bits.put(3, 2);
    check_zstd_error(frame_with_blocks({ { 2, rle_sequences_block(bytes_of("ab"), 1, 4, 2, 5, bits) } }),
        "zstd: literal length 4 of sequence 1 in the block at offset 6 (frame 1) exceeds the 2 literals left");

    // Match length code 52 (65539 + 16 bits) with a 1 KiB window.
    BackwardBitWriter long_match;
    long_match.put(3, 2);
    long_match.put(0, 16);
    check_zstd_error(frame_with_blocks({ { 2, rle_sequences_block(bytes_of("abcd"), 1, 4, 2, 52, long_match) } }),
        "zstd: sequence 1 of the block at offset 6 (frame 1) takes the block past its maximum of 1024 bytes");

    // A code beyond the alphabet in RLE mode.
    check_zstd_error(frame_with_blocks({ { 2, rle_sequences_block({}, 1, 36, 2, 5, bits) } }),
        "zstd: RLE code 36 for literal lengths at offset 12 (frame 1) exceeds the maximum of 35");
}

TEST_CASE("zstd: FSE table descriptions with bad accuracy logs, too many symbols, or truncated")
{
    auto block_with_tables = [](uint8_t modes, const Bytes& tables) {
        Bytes block = { 0x00, 0x01, modes }; // no literals, 1 sequence
        append(block, tables);
        block.push_back(0x01); // a bitstream of nothing but its marker
        return frame_with_blocks({ { 2, block } });
    };
    check_zstd_error(block_with_tables(0x94, { 0x05, 2, 5 }),
        "zstd: FSE accuracy log 10 for literal lengths at offset 12 (frame 1) exceeds the maximum of 9");
    check_zstd_error(block_with_tables(0x64, { 0, 0x04, 5 }),
        "zstd: FSE accuracy log 9 for offsets at offset 13 (frame 1) exceeds the maximum of 8");
    check_zstd_error(block_with_tables(0x58, { 0, 2, 0x05 }),
        "zstd: FSE accuracy log 10 for match lengths at offset 14 (frame 1) exceeds the maximum of 9");

    // Accuracy 5, a zero probability, then zero-run flags of 3 forever.
    BitWriter zeros;
    zeros.put(0, 4);
    zeros.put(1, 5);
    for (int i = 0; i < 30; ++i)
        zeros.put(3, 2);
    Bytes tables = zeros.data();
    tables.push_back(2);
    tables.push_back(5);
    check_zstd_error(block_with_tables(0x94, tables),
        "zstd: FSE table description for literal lengths at offset 12 (frame 1) has more than 36 symbols");

    // The block ends inside the description.
    Bytes block = { 0x00, 0x01, 0x94, 0x00 };
    check_zstd_error(frame_with_blocks({ { 2, block } }),
        "zstd: truncated FSE table description for literal lengths at offset 12 (frame 1): it runs past the 1 bytes "
        "left");

    // Repeat mode with nothing to repeat.
    check_zstd_error(block_with_tables(0xfc, {}),
        "zstd: repeat mode for literal lengths at offset 12 (frame 1) with no earlier table in the frame");
    // Reserved bits in the modes byte.
    check_zstd_error(block_with_tables(0x55, { 0, 2, 5 }),
        "zstd: reserved bits 0x1 set in the compression modes at offset 11 (frame 1)");
}

TEST_CASE("zstd: an FSE table description that decodes")
{
    // Literal lengths with accuracy 5: symbols 0-3 have probability 0
    // (value 1 in 5 bits, then a zero-run flag of 3 and one of 0), symbol 4
    // all 32 points (value 33 in 6 bits, sent as 33 + 30 = 63), so every
    // state decodes literal length 4 with no state bits.
    BitWriter description;
    description.put(0, 4);
    description.put(1, 5);
    description.put(3, 2);
    description.put(0, 2);
    description.put(63, 6);
    Bytes block = { 0x20, 'a', 'b', 'c', 'd', 0x01, 0x94 };
    append(block, description.data());
    block.push_back(2); // offsets: RLE code 2
    block.push_back(5); // match lengths: RLE code 5 (8)
    BackwardBitWriter bits;
    bits.put(0, 5); // literal length state
    bits.put(3, 2); // offset extra bits: Offset_Value 7
    append(block, bits.finish());
    Decoded decoded = unzstd(frame_with_blocks({ { 2, block } }));
    INFO(decoded.message);
    REQUIRE(decoded.ok);
    CHECK(decoded.output == bytes_of("abcdabcdabcd"));
}

TEST_CASE("zstd: Huffman literals")
{
    // Weights [1] (direct): symbols 0 and 1, one bit each.
    Bytes tree = { 128, 0x10 };
    auto literals_block = [&](size_t regenerated, const BackwardBitWriter& stream, bool treeless = false) {
        Bytes block;
        Bytes body = treeless ? Bytes() : tree;
        append(body, stream.finish());
        put_huffman_literals_header(block, treeless ? 3 : 2, false, regenerated, body.size());
        append(block, body);
        block.push_back(0); // no sequences
        return block;
    };
    BackwardBitWriter stream;
    stream.put(1, 1);
    stream.put(0, 1);
    stream.put(1, 1);
    Decoded decoded = unzstd(frame_with_blocks({ { 2, literals_block(3, stream) } }));
    INFO(decoded.message);
    REQUIRE(decoded.ok);
    CHECK(decoded.output == Bytes({ 1, 0, 1 }));

    // The next block may reuse the table.
    decoded = unzstd(frame_with_blocks({ { 2, literals_block(3, stream) }, { 2, literals_block(3, stream, true) } }));
    REQUIRE(decoded.ok);
    CHECK(decoded.output == Bytes({ 1, 0, 1, 1, 0, 1 }));

    check_zstd_error(frame_with_blocks({ { 2, literals_block(3, stream, true) } }),
        "zstd: treeless literals at offset 9 (frame 1) with no earlier Huffman table in the frame");
    check_zstd_error(frame_with_blocks({ { 2, literals_block(4, stream) } }),
        "zstd: Huffman stream 1 at offset 14 (frame 1) ends before its 4 literals are decoded");
    check_zstd_error(frame_with_blocks({ { 2, literals_block(2, stream) } }),
        "zstd: Huffman stream 1 at offset 14 (frame 1) has 1 bits left after its 2 literals");
}

TEST_CASE("zstd: Huffman weights that do not form a prefix code")
{
    auto with_tree = [](const Bytes& tree) {
        Bytes block;
        Bytes body = tree;
        body.push_back(0x01);
        put_huffman_literals_header(block, 2, false, 1, body.size());
        append(block, body);
        block.push_back(0);
        return frame_with_blocks({ { 2, block } });
    };
    check_zstd_error(with_tree({ 129, 0x31 }),
        "zstd: Huffman weights at offset 12 (frame 1) do not form a prefix code of at most 11 bits (sum 5)");
    check_zstd_error(with_tree({ 129, 0xc1 }), "zstd: Huffman weight 12 of symbol 0 at offset 12 (frame 1) exceeds 11");
    check_zstd_error(with_tree({ 129, 0x00 }), "zstd: Huffman weights at offset 12 (frame 1) are all zero");
    check_zstd_error(with_tree({ 128, 0x20 }),
        "zstd: Huffman weights at offset 12 (frame 1) give 0 symbols weight 1; a prefix code needs an even number, "
        "at least 2");
    check_zstd_error(with_tree({ 129, 0xbb }),
        "zstd: Huffman weights at offset 12 (frame 1) do not form a prefix code of at most 11 bits (sum 2048)");
    check_zstd_error(with_tree({ 140 }),
        "zstd: truncated Huffman tree description at offset 12 (frame 1): 7 bytes of weights declared, 1 present");
}

TEST_CASE("zstd: four Huffman streams need a sound jump table")
{
    Bytes block;
    Bytes body = { 128, 0x10, 100, 0, 0, 0, 0, 0, 0x01, 0x01, 0x01, 0x01 };
    put_huffman_literals_header(block, 2, true, 8, body.size());
    append(block, body);
    block.push_back(0);
    check_zstd_error(frame_with_blocks({ { 2, block } }),
        "zstd: jump table at offset 14 (frame 1) gives streams of 100, 0 and 0 bytes, leaving none of the 4 for "
        "stream 4");

    Bytes few;
    Bytes tiny = { 128, 0x10, 1, 0, 1, 0, 1, 0, 0x01, 0x01, 0x01, 0x01 };
    put_huffman_literals_header(few, 2, true, 5, tiny.size());
    append(few, tiny);
    few.push_back(0);
    check_zstd_error(frame_with_blocks({ { 2, few } }),
        "zstd: literals section at offset 9 (frame 1) uses four streams for 5 literals (at least 6 needed)");
}

TEST_CASE("zstd: frame headers")
{
    Bytes reserved = raw_block_frame({}, 0x08);
    put_block_header(reserved, true, 0, 0);
    check_zstd_error(reserved, "zstd: reserved bit set in the frame header descriptor 0x08 at offset 4 (frame 1)");

    Bytes dictionary = { 0x28, 0xb5, 0x2f, 0xfd, 0x01, 0x00, 0x05 };
    put_block_header(dictionary, true, 0, 0);
    check_zstd_error(
        dictionary, "zstd: frame 1 at offset 0 needs dictionary 5; dictionaries are not supported", Error::ENOTSUP);

    // A dictionary ID of 0 means none.
    Bytes no_dictionary = { 0x28, 0xb5, 0x2f, 0xfd, 0x01, 0x00, 0x00 };
    put_block_header(no_dictionary, true, 0, 2);
    append(no_dictionary, bytes_of("hi"));
    CHECK(unzstd(no_dictionary).output == bytes_of("hi"));

    // Window exponent 14: 16 MiB, above the default 8 MiB.
    Bytes big = raw_block_frame({}, 0x00, 14 << 3);
    put_block_header(big, true, 0, 2);
    append(big, bytes_of("hi"));
    check_zstd_error(big,
        "zstd: window of 16777216 bytes at offset 4 (frame 1) exceeds the limit of 8388608 bytes (max_window_log 23)",
        Error::ENOMEM);
    DecodeSettings settings;
    settings.max_window_log = 24;
    CHECK(unzstd(big, 16, settings).output == bytes_of("hi"));

    // A single-segment frame whose content size lies.
    Bytes lies = raw_block_frame({}, 0x20);
    lies.push_back(5);
    put_block_header(lies, true, 0, 4);
    append(lies, bytes_of("abcd"));
    check_zstd_error(lies, "zstd: frame 1 at offset 0 declares 5 bytes of content but decodes to 4", Error::EBADMSG);

    Bytes truncated = { 0x28, 0xb5, 0x2f, 0xfd, 0xc0 }; // an 8-byte content size follows
    check_zstd_error(truncated, "zstd: truncated frame header at offset 4 (frame 1): 1 of 10 bytes present");
}

TEST_CASE("zstd: blocks")
{
    Bytes reserved = zstd_frame_header();
    put_block_header(reserved, true, 3, 0);
    check_zstd_error(reserved, "zstd: reserved block type 3 at offset 6 (frame 1)");

    Bytes big = frame_with_blocks({ { 0, Bytes(1025, 'x') } });
    check_zstd_error(big, "zstd: raw block of 1025 bytes at offset 6 (frame 1) exceeds the block maximum of 1024");

    Bytes rle = zstd_frame_header();
    put_block_header(rle, true, 1, 1000);
    rle.push_back('z');
    CHECK(unzstd(rle).output == Bytes(1000, 'z'));

    Bytes empty_sequences = { 0x10, 'a', 'b', 0x00, 0x00 };
    check_zstd_error(frame_with_blocks({ { 2, empty_sequences } }),
        "zstd: 1 bytes after the empty sequences section at offset 13 (frame 1)");

    Bytes cut = zstd_frame_header();
    put_block_header(cut, true, 0, 10);
    append(cut, bytes_of("abc"));
    check_zstd_error(cut, "zstd: truncated block at offset 6 (frame 1): 10 bytes declared, 3 present");
}

TEST_CASE("zstd: content checksums and skippable frames")
{
    Bytes data = bytes_of("hello, checksum");
    keel::Xxh64 hash;
    hash.update(data.data(), data.size());
    Bytes frame = zstd_frame_header(0, true);
    put_block_header(frame, true, 0, uint32_t(data.size()));
    append(frame, data);
    put_le(frame, uint32_t(hash.digest()), 4);
    CHECK(unzstd(frame).output == data);

    Bytes bad = frame;
    bad.back() ^= 0x80;
    Decoded decoded = unzstd(bad);
    CHECK(decoded.error == Error::EBADMSG);
    CHECK(contains(decoded.message, "zstd: XXH64 content checksum mismatch at offset 24 (frame 1): stored 0x"));

    Bytes skippable = { 0x53, 0x2a, 0x4d, 0x18, 10, 0, 0, 0, 1, 2, 3, 4, 5 };
    check_zstd_error(skippable, "zstd: truncated skippable frame at offset 0 (frame 1): 10 bytes declared, 5 present");

    Bytes after = frame;
    append(after, { 0x28, 0xb5 });
    check_zstd_error(after, "zstd: truncated frame magic at offset 28: 2 of 4 bytes present");
    DecodeSettings stop;
    stop.stop_at_unknown_data = true;
    decoded = unzstd(after, 64, stop);
    REQUIRE(decoded.ok);
    CHECK(decoded.result.consumed == frame.size());
}

// --- every truncation, every bit flip, every bound ---------------------------

namespace {

const char* kSmallStreams[] = {
    "small.gzip-9",
    "small.gzip-1",
    "small.zlib-all-flags",
    "small.zlib-fixed",
    "small.zlib-stored",
    "small.zstd-19",
    "small.zstd-1",
    "small.zstd-stream",
    "small.zstd-3--zstdwlog10",
};

} // namespace

TEST_CASE("every truncation of a stream is reported as truncated")
{
    for (const char* name : kSmallStreams) {
        const Fixture& f = fixture_named(fixtures(), name);
        Bytes input = read_file(f.compressed_path);
        Bytes expected = read_file(f.expected_path);
        INFO(name);
        for (size_t size = 0; size < input.size(); ++size) {
            INFO("prefix " << size);
            Bytes prefix(input.begin(), input.begin() + long(size));
            Decoded decoded = decode_buffer(f.format, prefix, expected.size());
            REQUIRE_FALSE(decoded.ok);
            CHECK(decoded.error == Error::EINVAL);
            if (size > 0) {
                INFO(decoded.message);
                CHECK((contains(decoded.message, "truncated") || contains(decoded.message, "ends before")));
            }
            Decoded sink = decode_sink(f.format, prefix);
            CHECK(sink.error == decoded.error);
            CHECK(sink.message == decoded.message);
        }
    }
}

TEST_CASE("every single-bit flip is caught or harmless")
{
    for (const char* name : kSmallStreams) {
        const Fixture& f = fixture_named(fixtures(), name);
        Bytes input = read_file(f.compressed_path);
        Bytes expected = read_file(f.expected_path);
        INFO(name);
        size_t harmless = 0;
        for (size_t bit = 0; bit < 8 * input.size(); ++bit) {
            Bytes flipped = input;
            flipped[bit / 8] ^= uint8_t(1 << (bit % 8));
            Decoded decoded = decode_buffer(f.format, flipped, expected.size() + 64);
            if (decoded.ok) {
                // Only fields no check covers (MTIME, OS, the window
                // size, the unused bit) may change; the data may not.
                INFO("bit " << bit);
                CHECK(decoded.output == expected);
                ++harmless;
            } else {
                CHECK(!decoded.message.empty());
                CHECK(decoded.message.size() < 255);
            }
        }
        CHECK(harmless < 8 * input.size() / 10);
    }
}

TEST_CASE("every output bound: success exactly when the output fits")
{
    for (const char* name : { "small.gzip-9", "small.zstd-19", "small.zlib-stored" }) {
        const Fixture& f = fixture_named(fixtures(), name);
        Bytes input = read_file(f.compressed_path);
        Bytes expected = read_file(f.expected_path);
        INFO(name);
        for (size_t capacity = 0; capacity <= expected.size() + 1; capacity += capacity < 64 ? 1 : 7) {
            Decoded decoded = decode_buffer(f.format, input, capacity);
            CHECK(decoded.ok == (capacity >= expected.size()));
            if (!decoded.ok)
                CHECK(decoded.error == Error::ENOSPC);
        }
        Decoded exact = decode_buffer(f.format, input, expected.size());
        CHECK(exact.ok);
    }
}

TEST_CASE("a failing sink stops decoding with its error")
{
    const Fixture& f = fixture_named(fixtures(), "text.gzip-6");
    Bytes input = read_file(f.compressed_path);
    SinkState state;
    state.fail_after = 100000;
    Decoded decoded = decode_sink(f.format, input, {}, &state);
    CHECK(decoded.error == Error::EIO);
    CHECK(contains(decoded.message, "gzip: the output sink failed with EIO after "));
    CHECK(state.output.size() <= 100000);
}
