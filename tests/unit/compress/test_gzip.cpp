// The gzip decoder on streams crafted bit by bit to break one rule each:
// header fields and trailers, stored blocks, fixed codes outside the
// alphabet, dynamic headers whose code length codes or literal/length and
// distance codes are over-subscribed, incomplete or empty, repeats with
// nothing to repeat or running past the end, distances before the start of
// the member; and codes of every length up to 15 bits.
#include <catch2/catch.hpp>

#include <algorithm>

#include "compress_test_support.h"

using namespace compress_test;
using keel::CompressionFormat;
using keel::Error;

namespace {

Decoded gunzip(const Bytes& input, size_t capacity = 4096)
{
    return decode_buffer(CompressionFormat::Gzip, input, capacity);
}

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
    // The first member is text compressed by gzip -1, as in that fixture.
    size_t first_member_end = read_file(fixture_named(fixtures(), "text.gzip-1").compressed_path).size();

    // Corrupt the first member's stored CRC-32.
    Bytes crc = input;
    crc[first_member_end - 8] ^= 0xff;
    Decoded decoded = decode_buffer(CompressionFormat::Gzip, crc, read_file(f.expected_path).size());
    CHECK(decoded.error == Error::EBADMSG);
    CHECK(contains(decoded.message,
        "gzip: CRC-32 mismatch at offset " + std::to_string(first_member_end - 8) + " (member 1): stored 0x"));

    Bytes isize = input;
    isize[first_member_end - 1] ^= 0x01;
    decoded = decode_buffer(CompressionFormat::Gzip, isize, read_file(f.expected_path).size());
    CHECK(decoded.error == Error::EBADMSG);
    CHECK(contains(decoded.message,
        "gzip: ISIZE mismatch at offset " + std::to_string(first_member_end - 4) + " (member 1): stored "));
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
        "gzip: dynamic block header at offset 10 (member 1) declares 287 literal/length codes (at most 286)");

    BitWriter distance = dynamic_block();
    distance.put(0, 5);
    distance.put(30, 5); // 31 distance codes
    distance.put(0, 4);
    check_gzip_error(
        distance.data(), "gzip: dynamic block header at offset 11 (member 1) declares 31 distance codes (at most 30)");
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
