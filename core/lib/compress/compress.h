// Decompression of gzip (RFC 1952 over RFC 1951 DEFLATE) and Zstandard
// (RFC 8878) streams, for compressed initramfs images and anything else
// that arrives compressed and hostile.
//
// The whole compressed input is in memory; the output goes either into a
// buffer of fixed size or, in pieces, to a sink callback. Nothing is
// allocated: the caller gives a workspace of the size
// decompress_workspace_size() states, which holds the Huffman and FSE
// tables and, for a sink, the history window. Decoding never writes past
// the output buffer or the bound, never reads past the input, and stops at
// the first malformation with an error code and, if the caller gave a
// buffer, a message that names the offset into the compressed input:
//
//   gzip: CRC-32 mismatch at offset 1234 (member 2): stored 0x1c291ca3, computed 0x8a4d6e5f
//   zstd: truncated block header at offset 98 (frame 1): 2 of 3 bytes present
//
// Usage, into a buffer:
//
//   CompressionFormat format = detect_compression(data, size);
//   size_t need = decompress_workspace_size(format, DecompressTarget::Buffer).recommended;
//   char message[256];
//   DecompressOptions options;
//   options.workspace = allocate(need);
//   options.workspace_size = need;
//   options.message = message;
//   options.message_size = sizeof(message);
//   auto result = decompress_to_buffer(format, data, size, out, out_size, options);
//   if (result.is_error())
//       log("initramfs: %s", message);
//
// docs/compression.md lists every limit and message.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel {

enum class CompressionFormat : uint8_t {
    None, // neither gzip nor zstd
    Gzip,
    Zstd,
};

// Which format `data` starts with, by its magic number: 1f 8b for gzip;
// 28 b5 2f fd (a Zstandard frame) or 5? 2a 4d 18 (a skippable frame) for
// zstd. Nothing beyond the magic is checked.
CompressionFormat detect_compression(const void* data, size_t size);

// "gzip", "zstd" or "none".
const char* compression_format_name(CompressionFormat format);

// Zstandard windows: 8 MiB by default (the size RFC 8878 recommends every
// decoder to support and zstd -19 uses), at most 2 GiB.
constexpr uint32_t kZstdDefaultMaxWindowLog = 23;
constexpr uint32_t kZstdMinWindowLog = 10;
constexpr uint32_t kZstdMaxWindowLog = 31;

// Receives the decompressed bytes in order. An error it returns stops
// decoding and is returned unchanged.
using DecompressSink = Result<void> (*)(void* context, const uint8_t* data, size_t size);

// Optional counters of what the decoders met, for tests that want to know
// their inputs exercised every feature. Incremented, never reset.
struct DecompressCounters {
    // gzip
    size_t gzip_members = 0;
    size_t deflate_stored_blocks = 0;
    size_t deflate_fixed_blocks = 0;
    size_t deflate_dynamic_blocks = 0;
    size_t gzip_extra_fields = 0; // FEXTRA
    size_t gzip_names = 0;        // FNAME
    size_t gzip_comments = 0;     // FCOMMENT
    size_t gzip_header_crcs = 0;  // FHCRC
    // zstd
    size_t zstd_frames = 0;
    size_t zstd_skippable_frames = 0;
    size_t zstd_frames_with_content_size = 0;
    size_t zstd_frames_with_checksum = 0;
    size_t zstd_single_segment_frames = 0;
    size_t zstd_raw_blocks = 0;
    size_t zstd_rle_blocks = 0;
    size_t zstd_compressed_blocks = 0;
    size_t literals_raw = 0;
    size_t literals_rle = 0;
    size_t literals_huffman_1_stream = 0;
    size_t literals_huffman_4_streams = 0;
    size_t literals_treeless = 0;
    size_t huffman_weights_direct = 0;
    size_t huffman_weights_fse = 0;
    size_t sequence_tables_predefined = 0; // one per table (3 per block at most)
    size_t sequence_tables_rle = 0;
    size_t sequence_tables_fse = 0;
    size_t sequence_tables_repeat = 0;
    size_t sequences = 0;
    size_t repeat_offsets = 0; // sequences that used offset value 1-3
};

struct DecompressOptions {
    // Tables (and, for a sink, the history window): at least
    // decompress_workspace_size(...).minimum bytes, any alignment. The
    // decoder keeps no pointer to it after returning.
    void* workspace = nullptr;
    size_t workspace_size = 0;

    // Fail with ENOSPC rather than produce more bytes than this. With a
    // buffer the bound is the smaller of this and the buffer's size; with
    // a sink, set it: a few bytes of input can stand for far more output.
    size_t max_output = SIZE_MAX;

    // Zstandard frames whose window exceeds 2^max_window_log bytes are
    // refused with ENOMEM (a single-segment frame's window is its content
    // size). kZstdMinWindowLog..kZstdMaxWindowLog. A sink needs the window
    // in the workspace; into a buffer it costs nothing, so raising the
    // limit there only lets frames claim more.
    uint32_t max_window_log = kZstdDefaultMaxWindowLog;

    // After the first complete gzip member or zstd frame, bytes that do
    // not start another one end decoding successfully instead of failing
    // with EINVAL; DecompressResult::consumed says where they begin (an
    // initramfs may continue with an uncompressed archive there).
    bool stop_at_unknown_data = false;

    // Receives a description of the failure ("gzip: ..." or "zstd: ...");
    // cleared at the start.
    Diagnostic* diagnostic = nullptr;

    DecompressCounters* counters = nullptr;
};

struct DecompressResult {
    size_t consumed = 0; // input bytes decoded (all of them unless stop_at_unknown_data)
    size_t produced = 0; // output bytes
    size_t frames = 0;   // gzip members or zstd frames (skippable frames included)
};

// Errors, for both functions:
//   EINVAL   malformed or truncated input, or input not in `format`
//   EBADMSG  a checksum does not match (CRC-32, ISIZE, header CRC-16,
//            XXH64) or a frame's content size is not what its header says
//   ENOSPC   the output would exceed the buffer or max_output
//   ENOTSUP  a feature this decoder refuses: a gzip compression method
//            other than deflate, a zstd frame that needs a dictionary
//   ENOMEM   a zstd window above max_window_log, or a workspace smaller
//            than the stream needs
//   anything the sink returns
Result<DecompressResult> decompress_to_buffer(CompressionFormat format, const void* input, size_t input_size,
    void* output, size_t output_size, const DecompressOptions& options);

Result<DecompressResult> decompress_to_sink(CompressionFormat format, const void* input, size_t input_size,
    DecompressSink sink, void* sink_context, const DecompressOptions& options);

enum class DecompressTarget : uint8_t { Buffer, Sink };

struct WorkspaceSize {
    // Below this the decoder fails with ENOMEM.
    size_t minimum;
    // What to allocate: with a sink, the window is kept in the workspace
    // and moved down whenever the space after it fills; here that costs at
    // most one extra copy of the output.
    size_t recommended;
};

// The workspace `format` needs for `target`, with zstd windows of up to
// 2^max_window_log bytes (ignored for gzip, whose window is 32 KiB).
// Buffer: gzip 17 KiB (Huffman and CRC-32 tables), zstd 146 KiB (FSE and
// Huffman tables, a block's literals). Sink: gzip adds the 32 KiB window
// and 16 KiB (minimum) or 64 KiB (recommended); zstd adds the window and
// 128 KiB (minimum) or twice the window and 128 KiB (recommended).
WorkspaceSize decompress_workspace_size(
    CompressionFormat format, DecompressTarget target, uint32_t max_window_log = kZstdDefaultMaxWindowLog);

} // namespace keel
