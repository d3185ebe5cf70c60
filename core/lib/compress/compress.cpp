#include "lib/compress/compress.h"

#include "lib/compress/decoders.h"

namespace keel {

using namespace compress;

namespace {

// Tables are aligned to a cache line; the workspace may start anywhere.
constexpr size_t kTableAlignment = 64;

// With a sink, a gzip member keeps its 32 KiB window; the decoder asks for
// at most 16 KiB (a piece of a stored block) at a time.
constexpr size_t kGzipWindow = 32768;
constexpr size_t kGzipMinimumRoom = 16384;
constexpr size_t kGzipRecommendedRoom = 65536;
// A zstd block regenerates at most 128 KiB.
constexpr size_t kZstdBlockRoom = 131072;

size_t tables_size(CompressionFormat format)
{
    size_t size = format == CompressionFormat::Gzip ? gzip_tables_size() : zstd_tables_size();
    return size + kTableAlignment;
}

const char* prefix_of(CompressionFormat format)
{
    switch (format) {
    case CompressionFormat::Gzip: return "gzip";
    case CompressionFormat::Zstd: return "zstd";
    case CompressionFormat::None: break;
    }
    return "decompress";
}

struct Target {
    uint8_t* buffer;
    size_t size;
    DecompressSink sink;
    void* sink_context;
};

Result<DecompressResult> run(CompressionFormat format, const void* input, size_t input_size, const Target& target,
    const DecompressOptions& options)
{
    Reporter reporter(prefix_of(format), options.diagnostic);
    if (format != CompressionFormat::Gzip && format != CompressionFormat::Zstd)
        return reporter.fail(Error::EINVAL, "no decoder for format %u", unsigned(format));
    if (!input && input_size > 0)
        return reporter.fail(Error::EINVAL, "no input buffer");
    if (options.max_window_log < kZstdMinWindowLog || options.max_window_log > kZstdMaxWindowLog) {
        return reporter.fail(Error::EINVAL, "max_window_log %u is outside %u..%u", options.max_window_log,
            kZstdMinWindowLog, kZstdMaxWindowLog);
    }
    DecompressTarget kind = target.sink ? DecompressTarget::Sink : DecompressTarget::Buffer;
    WorkspaceSize need = decompress_workspace_size(format, kind, options.max_window_log);
    if (!options.workspace || options.workspace_size < need.minimum) {
        return reporter.fail(Error::ENOMEM, "the workspace has %zu bytes; %s needs at least %zu",
            options.workspace ? options.workspace_size : 0, target.sink ? "decoding to a sink" : "decoding",
            need.minimum);
    }

    auto address = reinterpret_cast<uintptr_t>(options.workspace);
    auto* tables = reinterpret_cast<uint8_t*>(align_up(address, uintptr_t(kTableAlignment)));
    size_t used = tables_size(format);
    uint8_t* after_tables = static_cast<uint8_t*>(options.workspace) + used;
    size_t left = options.workspace_size - used;

    static const uint8_t kNoInput = 0;
    const auto* bytes = input_size > 0 ? static_cast<const uint8_t*>(input) : &kNoInput;
    if (target.sink) {
        OutputWindow out(after_tables, left, options.max_output, target.sink, target.sink_context, reporter);
        DecoderContext context { bytes, input_size, out, reporter, tables, options.max_window_log,
            options.stop_at_unknown_data, options.counters };
        return format == CompressionFormat::Gzip ? gzip_decompress(context) : zstd_decompress(context);
    }
    static uint8_t no_output;
    OutputWindow out(
        target.buffer ? target.buffer : &no_output, target.buffer ? target.size : 0, options.max_output, reporter);
    DecoderContext context { bytes, input_size, out, reporter, tables, options.max_window_log,
        options.stop_at_unknown_data, options.counters };
    return format == CompressionFormat::Gzip ? gzip_decompress(context) : zstd_decompress(context);
}

} // namespace

CompressionFormat detect_compression(const void* data, size_t size)
{
    const auto* p = static_cast<const uint8_t*>(data);
    if (size >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return CompressionFormat::Gzip;
    if (size >= 4) {
        uint32_t magic = load32(p);
        if (magic == 0xfd2fb528 || (magic & 0xfffffff0) == 0x184d2a50)
            return CompressionFormat::Zstd;
    }
    return CompressionFormat::None;
}

const char* compression_format_name(CompressionFormat format)
{
    switch (format) {
    case CompressionFormat::Gzip: return "gzip";
    case CompressionFormat::Zstd: return "zstd";
    case CompressionFormat::None: return "none";
    }
    return "none";
}

WorkspaceSize decompress_workspace_size(CompressionFormat format, DecompressTarget target, uint32_t max_window_log)
{
    if (format != CompressionFormat::Gzip && format != CompressionFormat::Zstd)
        return { 0, 0 };
    size_t tables = tables_size(format);
    if (target == DecompressTarget::Buffer)
        return { tables, tables };
    if (format == CompressionFormat::Gzip)
        return { tables + kGzipWindow + kGzipMinimumRoom, tables + kGzipWindow + kGzipRecommendedRoom };
    if (max_window_log > kZstdMaxWindowLog)
        max_window_log = kZstdMaxWindowLog;
    size_t window = size_t(1) << max_window_log;
    return { tables + window + kZstdBlockRoom, tables + 2 * window + kZstdBlockRoom };
}

Result<DecompressResult> decompress_to_buffer(CompressionFormat format, const void* input, size_t input_size,
    void* output, size_t output_size, const DecompressOptions& options)
{
    return run(format, input, input_size, { static_cast<uint8_t*>(output), output_size, nullptr, nullptr }, options);
}

Result<DecompressResult> decompress_to_sink(CompressionFormat format, const void* input, size_t input_size,
    DecompressSink sink, void* sink_context, const DecompressOptions& options)
{
    if (!sink) {
        compress::Reporter reporter(prefix_of(format), options.diagnostic);
        return reporter.fail(Error::EINVAL, "no sink");
    }
    return run(format, input, input_size, { nullptr, 0, sink, sink_context }, options);
}

} // namespace keel
