// Shared by fuzz-gzip and fuzz-zstd: runs core/lib/compress on the input
// into a buffer and through a sink (with the smallest workspace it may
// have), and checks what must hold whatever the bytes: the two agree,
// nothing is written past the bound, a failure always comes with a
// message, a success consumed the whole input.
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "lib/compress/compress.h"

namespace compress_fuzz {

// Inputs stay small, so every run is quick; so does the output.
constexpr size_t kOutputBound = 1 << 20;
constexpr uint32_t kWindowLog = 20;

inline void check(bool condition)
{
    if (!condition)
        abort();
}

struct Outcome {
    bool ok = false;
    keel::Error error = keel::Error(0);
    std::string message;
    keel::DecompressResult result;
    std::vector<uint8_t> output;
};

struct Sink {
    std::vector<uint8_t> output;
};

inline keel::Result<void> collect(void* context, const uint8_t* data, size_t size)
{
    check(size > 0);
    auto* sink = static_cast<Sink*>(context);
    sink->output.insert(sink->output.end(), data, data + size);
    check(sink->output.size() <= kOutputBound);
    return {};
}

inline void finish(Outcome& outcome, keel::Result<keel::DecompressResult>& result, const char* message,
    size_t message_size, size_t input_size)
{
    check(strnlen(message, message_size) < message_size);
    outcome.ok = result.is_ok();
    outcome.message = message;
    if (outcome.ok) {
        outcome.result = result.value();
        check(outcome.message.empty());
        check(outcome.result.consumed == input_size);
        check(outcome.result.produced <= kOutputBound);
    } else {
        outcome.error = result.error();
        check(!outcome.message.empty());
    }
}

inline Outcome decode_buffer(keel::CompressionFormat format, const uint8_t* data, size_t size)
{
    static std::vector<uint8_t> workspace(
        keel::decompress_workspace_size(format, keel::DecompressTarget::Buffer, kWindowLog).minimum);
    // One byte more than the bound, as a canary.
    static std::vector<uint8_t> output(kOutputBound + 1);
    output[kOutputBound] = 0xa5;
    keel::Diagnostic diagnostic;
    char* const message = diagnostic.message;
    keel::DecompressOptions options;
    options.workspace = workspace.data();
    options.workspace_size = workspace.size();
    options.max_window_log = kWindowLog;
    options.diagnostic = &diagnostic;
    auto result = keel::decompress_to_buffer(format, data, size, output.data(), kOutputBound, options);
    check(output[kOutputBound] == 0xa5);
    Outcome outcome;
    finish(outcome, result, message, sizeof(diagnostic.message), size);
    if (outcome.ok)
        outcome.output.assign(output.begin(), output.begin() + long(outcome.result.produced));
    return outcome;
}

inline Outcome decode_sink(keel::CompressionFormat format, const uint8_t* data, size_t size)
{
    static std::vector<uint8_t> workspace(
        keel::decompress_workspace_size(format, keel::DecompressTarget::Sink, kWindowLog).minimum);
    keel::Diagnostic diagnostic;
    char* const message = diagnostic.message;
    keel::DecompressOptions options;
    options.workspace = workspace.data();
    options.workspace_size = workspace.size();
    options.max_window_log = kWindowLog;
    options.max_output = kOutputBound;
    options.diagnostic = &diagnostic;
    Sink sink;
    auto result = keel::decompress_to_sink(format, data, size, collect, &sink, options);
    Outcome outcome;
    finish(outcome, result, message, sizeof(diagnostic.message), size);
    outcome.output = std::move(sink.output);
    if (outcome.ok)
        check(outcome.output.size() == outcome.result.produced);
    return outcome;
}

// Both ways of decoding must agree. ENOSPC is reported in different words
// (a buffer, a bound) and, inside a stored block, with a different count.
inline Outcome decode_both(keel::CompressionFormat format, const uint8_t* input, size_t size)
{
    // An exact copy, so reads past the end are caught.
    std::vector<uint8_t> copy(input, input + size);
    const uint8_t* data = copy.data();
    Outcome buffer = decode_buffer(format, data, size);
    Outcome sink = decode_sink(format, data, size);
    check(buffer.ok == sink.ok);
    if (buffer.ok) {
        check(buffer.output == sink.output);
        check(buffer.result.frames == sink.result.frames);
    } else {
        check(buffer.error == sink.error);
        if (buffer.error != keel::Error::ENOSPC)
            check(buffer.message == sink.message);
    }
    return buffer;
}

} // namespace compress_fuzz
