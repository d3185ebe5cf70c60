// Round trips against the real tools: every stream gen_fixtures.py made
// with gzip, zstd and zlib decodes to its data byte for byte, into a
// buffer of exactly the right size, through a sink with the smallest and
// the recommended workspace, and fails cleanly one byte short.
#include <catch2/catch.hpp>

#include "compress_test_support.h"

using namespace compress_test;
using keel::DecompressCounters;
using keel::Error;

namespace {

DecodeSettings settings_for(const Fixture& f)
{
    DecodeSettings settings;
    if (f.window_log)
        settings.max_window_log = f.window_log;
    return settings;
}

} // namespace

TEST_CASE("every fixture decodes into a buffer of exactly its size")
{
    DecompressCounters counters;
    for (const Fixture& f : fixtures()) {
        INFO(f.name);
        Bytes input = read_file(f.compressed_path);
        Bytes expected = read_file(f.expected_path);
        REQUIRE(keel::detect_compression(input.data(), input.size()) == f.format);
        DecodeSettings settings = settings_for(f);
        settings.counters = &counters;
        Decoded decoded = decode_buffer(f.format, input, expected.size(), settings);
        INFO(decoded.message);
        REQUIRE(decoded.ok);
        CHECK(decoded.message.empty());
        CHECK(decoded.result.consumed == input.size());
        CHECK(decoded.result.produced == expected.size());
        CHECK(decoded.output == expected);
    }

    // The fixtures reach every block type, table mode and header field.
    CHECK(counters.deflate_stored_blocks > 0);
    CHECK(counters.deflate_fixed_blocks > 0);
    CHECK(counters.deflate_dynamic_blocks > 0);
    CHECK(counters.gzip_extra_fields > 0);
    CHECK(counters.gzip_names > 0);
    CHECK(counters.gzip_comments > 0);
    CHECK(counters.gzip_header_crcs > 0);
    CHECK(counters.gzip_members > 0);
    CHECK(counters.zstd_skippable_frames > 0);
    CHECK(counters.zstd_frames_with_content_size > 0);
    CHECK(counters.zstd_frames_with_content_size < counters.zstd_frames);
    CHECK(counters.zstd_frames_with_checksum > 0);
    CHECK(counters.zstd_frames_with_checksum < counters.zstd_frames);
    CHECK(counters.zstd_single_segment_frames > 0);
    CHECK(counters.zstd_raw_blocks > 0);
    CHECK(counters.zstd_rle_blocks > 0);
    CHECK(counters.zstd_compressed_blocks > 0);
    CHECK(counters.literals_raw > 0);
    CHECK(counters.literals_rle > 0);
    CHECK(counters.literals_huffman_1_stream > 0);
    CHECK(counters.literals_huffman_4_streams > 0);
    CHECK(counters.literals_treeless > 0);
    CHECK(counters.huffman_weights_direct > 0);
    CHECK(counters.huffman_weights_fse > 0);
    CHECK(counters.sequence_tables_predefined > 0);
    CHECK(counters.sequence_tables_rle > 0);
    CHECK(counters.sequence_tables_fse > 0);
    CHECK(counters.sequence_tables_repeat > 0);
    CHECK(counters.repeat_offsets > 0);
}

TEST_CASE("every fixture decodes through a sink, with the minimum and the recommended workspace")
{
    for (const Fixture& f : fixtures()) {
        INFO(f.name);
        Bytes input = read_file(f.compressed_path);
        Bytes expected = read_file(f.expected_path);
        for (bool minimum : { true, false }) {
            INFO("minimum workspace " << minimum);
            DecodeSettings settings = settings_for(f);
            settings.minimum_workspace = minimum;
            SinkState state;
            Decoded decoded = decode_sink(f.format, input, settings, &state);
            INFO(decoded.message);
            REQUIRE(decoded.ok);
            CHECK(decoded.result.produced == expected.size());
            CHECK(decoded.output == expected);
        }
    }
}

TEST_CASE("one byte short of the output is ENOSPC, in a buffer and with max_output")
{
    for (const Fixture& f : fixtures()) {
        Bytes expected = read_file(f.expected_path);
        if (expected.empty())
            continue;
        INFO(f.name);
        Bytes input = read_file(f.compressed_path);
        Decoded buffer = decode_buffer(f.format, input, expected.size() - 1, settings_for(f));
        CHECK_FALSE(buffer.ok);
        CHECK(buffer.error == Error::ENOSPC);
        CHECK(contains(buffer.message, "buffer"));

        DecodeSettings settings = settings_for(f);
        settings.max_output = expected.size() - 1;
        Decoded sink = decode_sink(f.format, input, settings);
        CHECK_FALSE(sink.ok);
        CHECK(sink.error == Error::ENOSPC);
        CHECK(contains(sink.message, "bound"));
        CHECK(sink.output.size() <= expected.size() - 1);
        CHECK(std::equal(sink.output.begin(), sink.output.end(), expected.begin()));

        settings.max_output = expected.size();
        CHECK(decode_sink(f.format, input, settings).ok);
    }
}

TEST_CASE("a window above max_window_log is refused with ENOMEM, and decodes once allowed")
{
    const Fixture& f = fixture_named(fixtures(), "far.zstd-long");
    REQUIRE(f.window_log == 27);
    Bytes input = read_file(f.compressed_path);
    Bytes expected = read_file(f.expected_path);
    Decoded refused = decode_buffer(f.format, input, expected.size());
    CHECK(refused.error == Error::ENOMEM);
    CHECK(refused.message
        == "zstd: window of 134217728 bytes at offset 4 (frame 1) exceeds the limit of 8388608 bytes "
           "(max_window_log 23)");
    DecodeSettings settings;
    settings.max_window_log = 27;
    Decoded allowed = decode_buffer(f.format, input, expected.size(), settings);
    REQUIRE(allowed.ok);
    CHECK(allowed.output == expected);
}

TEST_CASE("stop_at_unknown_data ends at an uncompressed archive that follows")
{
    for (const char* name : { "text.gzip-9", "text.zstd-19", "joined.gzip-members", "joined.zstd-frames" }) {
        INFO(name);
        const Fixture& f = fixture_named(fixtures(), name);
        Bytes input = read_file(f.compressed_path);
        Bytes expected = read_file(f.expected_path);
        size_t compressed_size = input.size();
        const char cpio[] = "070701000000010000...";
        input.insert(input.end(), cpio, cpio + sizeof(cpio) - 1);

        Decoded strict = decode_buffer(f.format, input, expected.size());
        CHECK(strict.error == Error::EINVAL);
        CHECK(contains(strict.message, "trailing data at offset " + std::to_string(compressed_size)));

        DecodeSettings settings;
        settings.stop_at_unknown_data = true;
        Decoded stopped = decode_buffer(f.format, input, expected.size(), settings);
        REQUIRE(stopped.ok);
        CHECK(stopped.result.consumed == compressed_size);
        CHECK(stopped.output == expected);
    }
}
