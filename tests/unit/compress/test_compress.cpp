// core/lib/compress as a whole on hostile input: every truncation point
// and every single-bit flip of real gzip and zstd streams, output bounds of
// every size, failing sinks, small workspaces and message buffers; and the
// checksums and the format detection on their own. test_gzip.cpp and
// test_zstd.cpp craft streams that break one rule each.
#include <catch2/catch.hpp>

#include <algorithm>

#include "compress_test_support.h"
#include "lib/compress/xxhash64.h"

using namespace compress_test;
using keel::CompressionFormat;
using keel::Error;

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
    keel::Diagnostic diagnostic;
    keel::DecompressOptions options;
    options.workspace = workspace.data();
    options.workspace_size = workspace.size();
    options.diagnostic = &diagnostic;
    auto result = keel::decompress_to_buffer(
        CompressionFormat::Gzip, input.data(), input.size(), out.data(), out.size(), options);
    CHECK(result.error() == Error::ENOMEM);
    CHECK(contains(diagnostic.message, "gzip: the workspace has"));

    options.max_window_log = 32;
    workspace.resize(need.minimum);
    options.workspace = workspace.data();
    options.workspace_size = workspace.size();
    auto window = keel::decompress_to_buffer(
        CompressionFormat::Gzip, input.data(), input.size(), out.data(), out.size(), options);
    CHECK(window.error() == Error::EINVAL);
    CHECK(std::string(diagnostic.message) == "gzip: max_window_log 32 is outside 10..31");

    // A format that is not gzip or zstd, and data that is not the format.
    options.max_window_log = keel::kZstdDefaultMaxWindowLog;
    std::vector<uint8_t> zstd_workspace(
        keel::decompress_workspace_size(CompressionFormat::Zstd, keel::DecompressTarget::Buffer).minimum);
    options.workspace = zstd_workspace.data();
    options.workspace_size = zstd_workspace.size();
    auto mismatch = keel::decompress_to_buffer(
        CompressionFormat::Zstd, input.data(), input.size(), out.data(), out.size(), options);
    CHECK(mismatch.error() == Error::EINVAL);
    CHECK(contains(diagnostic.message, "zstd: no zstd frame at offset 0: magic 0x"));
}

TEST_CASE("messages are cut to the diagnostic's capacity and always terminated")
{
    Bytes input = read_file(fixture_named(fixtures(), "small.gzip-9").compressed_path);
    input.resize(input.size() / 2);
    std::vector<uint8_t> workspace(
        keel::decompress_workspace_size(CompressionFormat::Gzip, keel::DecompressTarget::Buffer).recommended);
    std::vector<uint8_t> out(8192);
    keel::Diagnostic diagnostic;
    memset(diagnostic.message, 'x', sizeof(diagnostic.message));
    keel::DecompressOptions options;
    options.workspace = workspace.data();
    options.workspace_size = workspace.size();
    options.diagnostic = &diagnostic;
    auto result = keel::decompress_to_buffer(
        CompressionFormat::Gzip, input.data(), input.size(), out.data(), out.size(), options);
    CHECK(result.is_error());
    size_t length = strnlen(diagnostic.message, sizeof(diagnostic.message));
    CHECK(length < sizeof(diagnostic.message));
    CHECK(std::string(diagnostic.message).rfind("gzip: truncated", 0) == 0);
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
    CHECK(contains(decoded.message, "gzip: the output sink failed with EIO at offset "));
    CHECK(state.output.size() <= 100000);
}
