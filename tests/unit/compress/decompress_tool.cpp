// keel-decompress: runs core/lib/compress on a file, outside the test
// suite, for measuring speed and for trying inputs by hand.
//
//   keel-decompress [--sink] [--window-log N] [--repeat N] [--stats] [--expect FILE] [-o OUT] INPUT
//
// Prints the format, sizes and the best decode speed of --repeat runs (in
// MB/s of output per second of CPU time) to stderr; with --expect compares the output with FILE;
// --stats adds what the decoder met (DecompressCounters).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <string>
#include <vector>

#include "lib/compress/compress.h"

using namespace keel;

namespace {

std::vector<uint8_t> read_file(const char* path)
{
    FILE* file = fopen(path, "rb");
    if (!file) {
        perror(path);
        exit(2);
    }
    std::vector<uint8_t> data;
    uint8_t chunk[1 << 16];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), file)) > 0)
        data.insert(data.end(), chunk, chunk + got);
    fclose(file);
    return data;
}

// CPU time, so that other work on a shared machine skews the figure less.
double now()
{
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

Result<void> append(void* context, const uint8_t* data, size_t size)
{
    auto* out = static_cast<std::vector<uint8_t>*>(context);
    out->insert(out->end(), data, data + size);
    return {};
}

[[noreturn]] void usage()
{
    fprintf(stderr,
        "usage: keel-decompress [--sink] [--window-log N] [--repeat N] [--stats] [--expect FILE] [-o OUT] INPUT\n");
    exit(2);
}

} // namespace

int main(int argc, char** argv)
{
    bool sink = false;
    bool stats = false;
    uint32_t window_log = kZstdDefaultMaxWindowLog;
    int repeat = 1;
    const char* expect = nullptr;
    const char* output_path = nullptr;
    const char* input_path = nullptr;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--sink")
            sink = true;
        else if (arg == "--stats")
            stats = true;
        else if (arg == "--window-log" && i + 1 < argc)
            window_log = uint32_t(atoi(argv[++i]));
        else if (arg == "--repeat" && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (arg == "--expect" && i + 1 < argc)
            expect = argv[++i];
        else if (arg == "-o" && i + 1 < argc)
            output_path = argv[++i];
        else if (!input_path && arg[0] != '-')
            input_path = argv[i];
        else
            usage();
    }
    if (!input_path)
        usage();

    std::vector<uint8_t> input = read_file(input_path);
    CompressionFormat format = detect_compression(input.data(), input.size());
    if (format == CompressionFormat::None) {
        fprintf(stderr, "%s: neither gzip nor zstd\n", input_path);
        return 1;
    }
    std::vector<uint8_t> reference;
    if (expect)
        reference = read_file(expect);

    WorkspaceSize need
        = decompress_workspace_size(format, sink ? DecompressTarget::Sink : DecompressTarget::Buffer, window_log);
    std::vector<uint8_t> workspace(need.recommended);
    keel::Diagnostic diagnostic;
    char* const message = diagnostic.message;
    DecompressOptions options;
    options.workspace = workspace.data();
    options.workspace_size = workspace.size();
    options.max_window_log = window_log;
    options.diagnostic = &diagnostic;
    DecompressCounters counters;
    if (stats)
        options.counters = &counters;

    // Buffer mode needs the output size up front: the expected file's, or
    // a generous guess.
    size_t capacity = expect ? reference.size() : input.size() * 16 + (1 << 20);
    std::vector<uint8_t> output;
    double best = 1e30;
    DecompressResult result;
    for (int run = 0; run < repeat; ++run) {
        output.clear();
        if (!sink)
            output.resize(capacity);
        double start = now();
        auto decoded = sink
            ? decompress_to_sink(format, input.data(), input.size(), append, &output, options)
            : decompress_to_buffer(format, input.data(), input.size(), output.data(), capacity, options);
        double elapsed = now() - start;
        if (decoded.is_error()) {
            fprintf(stderr, "%s: %s (%s)\n", input_path, message, error_name(decoded.error()));
            return 1;
        }
        result = decoded.value();
        if (elapsed < best)
            best = elapsed;
    }
    output.resize(result.produced);
    fprintf(stderr, "%s: %s, %zu -> %zu bytes, %zu frames, workspace %zu bytes, best of %d: %.1f ms, %.1f MB/s\n",
        input_path, compression_format_name(format), result.consumed, result.produced, result.frames, workspace.size(),
        repeat, best * 1e3, double(result.produced) / best / 1e6);
    if (stats) {
        // DecompressCounters is all size_t fields, in declaration order.
        static const char* const kNames[] = { "gzip_members", "deflate_stored_blocks", "deflate_fixed_blocks",
            "deflate_dynamic_blocks", "gzip_extra_fields", "gzip_names", "gzip_comments", "gzip_header_crcs",
            "zstd_frames", "zstd_skippable_frames", "zstd_frames_with_content_size", "zstd_frames_with_checksum",
            "zstd_single_segment_frames", "zstd_raw_blocks", "zstd_rle_blocks", "zstd_compressed_blocks",
            "literals_raw", "literals_rle", "literals_huffman_1_stream", "literals_huffman_4_streams",
            "literals_treeless", "huffman_weights_direct", "huffman_weights_fse", "sequence_tables_predefined",
            "sequence_tables_rle", "sequence_tables_fse", "sequence_tables_repeat", "sequences", "repeat_offsets" };
        static_assert(sizeof(kNames) / sizeof(kNames[0]) * sizeof(size_t) == sizeof(DecompressCounters));
        const auto* values = reinterpret_cast<const size_t*>(&counters);
        for (size_t i = 0; i < sizeof(kNames) / sizeof(kNames[0]); ++i) {
            if (values[i])
                fprintf(stderr, "  %s: %zu\n", kNames[i], values[i] / size_t(repeat));
        }
    }
    if (expect && output != reference) {
        fprintf(stderr, "%s: output differs from %s\n", input_path, expect);
        return 1;
    }
    if (output_path) {
        FILE* file = fopen(output_path, "wb");
        if (!file || fwrite(output.data(), 1, output.size(), file) != output.size() || fclose(file) != 0) {
            perror(output_path);
            return 1;
        }
    }
    return 0;
}
