// The zstd decoder on frames crafted byte by byte to break one rule each:
// frame headers (reserved bit, dictionaries, windows above the limit,
// content sizes that lie), blocks (reserved type, above the block
// maximum), literals (Huffman weights that form no prefix code, streams
// that end early or leave bits over, treeless literals with no table, bad
// jump tables), sequences (FSE descriptions with bad accuracy logs, too
// many symbols or truncated, repeat mode with nothing to repeat, offsets
// before the frame or beyond the window, literal lengths past the
// literals) and checksums.
#include <catch2/catch.hpp>

#include <algorithm>

#include "compress_test_support.h"
#include "lib/compress/xxhash64.h"

using namespace compress_test;
using keel::CompressionFormat;
using keel::Error;

namespace {

Decoded unzstd(const Bytes& input, size_t capacity = 4096, const DecodeSettings& settings = {})
{
    return decode_buffer(CompressionFormat::Zstd, input, capacity, settings);
}

} // namespace

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

// A frame's magic, descriptor and (unless single-segment) window descriptor.
Bytes frame_start(uint8_t descriptor, uint8_t window_descriptor = 0)
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
    Bytes reserved = frame_start(0x08);
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
    Bytes big = frame_start(0x00, 14 << 3);
    put_block_header(big, true, 0, 2);
    append(big, bytes_of("hi"));
    check_zstd_error(big,
        "zstd: window of 16777216 bytes at offset 4 (frame 1) exceeds the limit of 8388608 bytes (max_window_log 23)",
        Error::ENOMEM);
    DecodeSettings settings;
    settings.max_window_log = 24;
    CHECK(unzstd(big, 16, settings).output == bytes_of("hi"));

    // A single-segment frame whose content size lies.
    Bytes lies = frame_start(0x20);
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
