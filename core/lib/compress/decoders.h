// The entry points of the two decoders, called by compress.cpp once it has
// laid out the workspace. Private to core/lib/compress.
#pragma once

#include "lib/compress/internal.h"

namespace keel::compress {

struct DecoderContext {
    const uint8_t* input;
    size_t input_size;
    OutputWindow& out;
    Reporter& reporter;
    void* tables; // InflateTables or ZstdTables, aligned
    uint32_t max_window_log;
    bool stop_at_unknown_data;
    DecompressCounters* counters;
};

size_t gzip_tables_size();
size_t zstd_tables_size();

Result<DecompressResult> gzip_decompress(DecoderContext& context);
Result<DecompressResult> zstd_decompress(DecoderContext& context);

} // namespace keel::compress
