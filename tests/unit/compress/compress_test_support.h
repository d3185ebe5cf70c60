// Helpers for the core/lib/compress tests: decoding into exactly sized
// heap buffers (so AddressSanitizer sees any overrun), the fixtures the
// build generates, and bit writers for crafting DEFLATE and Zstandard
// streams by hand.
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/compress/compress.h"
#include "lib/compress/crc32.h"

namespace compress_test {

using Bytes = std::vector<uint8_t>;

inline Bytes read_file(const std::string& path)
{
    // In one read: a byte at a time through stream iterators took most of
    // the round-trip tests' time under the sanitizers.
    std::ifstream file(path, std::ios::binary | std::ios::ate);
    if (!file)
        throw std::runtime_error("cannot read " + path);
    Bytes bytes(size_t(file.tellg()));
    file.seekg(0);
    if (!file.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size())))
        throw std::runtime_error("cannot read " + path);
    return bytes;
}

struct Fixture {
    std::string name;
    keel::CompressionFormat format;
    std::string compressed_path;
    std::string expected_path;
    uint32_t window_log; // 0: the default limit decodes it
};

// The manifest tests/unit/compress/gen_fixtures.py wrote (COMPRESS_FIXTURES).
inline std::vector<Fixture> load_fixtures()
{
    const char* path = getenv("COMPRESS_FIXTURES");
    if (!path)
        throw std::runtime_error("COMPRESS_FIXTURES is not set");
    std::ifstream manifest(path);
    std::vector<Fixture> fixtures;
    std::string line;
    while (std::getline(manifest, line)) {
        if (line.empty())
            continue;
        std::istringstream fields(line);
        Fixture f;
        std::string format;
        std::string window_log;
        std::getline(fields, f.name, '\t');
        std::getline(fields, format, '\t');
        std::getline(fields, f.compressed_path, '\t');
        std::getline(fields, f.expected_path, '\t');
        std::getline(fields, window_log, '\t');
        f.format = format == "gzip" ? keel::CompressionFormat::Gzip : keel::CompressionFormat::Zstd;
        f.window_log = uint32_t(std::stoul(window_log));
        fixtures.push_back(f);
    }
    if (fixtures.empty())
        throw std::runtime_error(std::string("no fixtures in ") + path);
    return fixtures;
}

// Loaded once per test program.
inline const std::vector<Fixture>& fixtures()
{
    static const std::vector<Fixture> all = load_fixtures();
    return all;
}

inline Bytes bytes_of(const std::string& text) { return Bytes(text.begin(), text.end()); }

inline const Fixture& fixture_named(const std::vector<Fixture>& fixtures, const std::string& name)
{
    for (const Fixture& f : fixtures) {
        if (f.name == name)
            return f;
    }
    throw std::runtime_error("no fixture " + name);
}

struct Decoded {
    bool ok = false;
    keel::Error error = keel::Error(0);
    std::string message;
    keel::DecompressResult result;
    Bytes output;
};

struct DecodeSettings {
    uint32_t max_window_log = keel::kZstdDefaultMaxWindowLog;
    size_t max_output = SIZE_MAX;
    bool stop_at_unknown_data = false;
    bool minimum_workspace = false;
    keel::DecompressCounters* counters = nullptr;
};

// Input and workspace live in heap blocks of exactly their size.
struct Exact {
    explicit Exact(const Bytes& bytes)
        : size(bytes.size())
        , data(new uint8_t[bytes.size() ? bytes.size() : 1])
    {
        if (size)
            memcpy(data.get(), bytes.data(), size);
    }
    size_t size;
    std::unique_ptr<uint8_t[]> data;
};

// One workspace of each size, kept for every decode that needs it: the
// truncation and bit-flip tests decode tens of thousands of times, and a
// fresh allocation of megabytes each time cost ASan's allocator more than
// the decoding. Reuse hands each decode what the last one left there,
// which the decoder must not depend on.
inline uint8_t* shared_workspace(size_t size)
{
    static std::map<size_t, std::unique_ptr<uint8_t[]>> kept;
    std::unique_ptr<uint8_t[]>& workspace = kept[size];
    if (!workspace)
        workspace.reset(new uint8_t[size]);
    return workspace.get();
}

inline keel::DecompressOptions make_options(keel::CompressionFormat format, keel::DecompressTarget target,
    const DecodeSettings& settings, keel::Diagnostic* diagnostic)
{
    keel::WorkspaceSize need = keel::decompress_workspace_size(format, target, settings.max_window_log);
    size_t size = settings.minimum_workspace ? need.minimum : need.recommended;
    keel::DecompressOptions options;
    options.workspace = shared_workspace(size);
    options.workspace_size = size;
    options.max_window_log = settings.max_window_log;
    options.max_output = settings.max_output;
    options.stop_at_unknown_data = settings.stop_at_unknown_data;
    options.diagnostic = diagnostic;
    options.counters = settings.counters;
    return options;
}

inline void record(Decoded& decoded, keel::Result<keel::DecompressResult>& result, const char* message)
{
    decoded.ok = result.is_ok();
    if (decoded.ok)
        decoded.result = result.value();
    else
        decoded.error = result.error();
    decoded.message = message;
}

// Decodes into a buffer of exactly `capacity` bytes.
inline Decoded decode_buffer(
    keel::CompressionFormat format, const Bytes& input, size_t capacity, const DecodeSettings& settings = {})
{
    Exact in(input);
    std::unique_ptr<uint8_t[]> out(new uint8_t[capacity ? capacity : 1]);
    keel::Diagnostic diagnostic;
    char* const message = diagnostic.message;
    keel::DecompressOptions options = make_options(format, keel::DecompressTarget::Buffer, settings, &diagnostic);
    auto result = keel::decompress_to_buffer(format, in.data.get(), in.size, out.get(), capacity, options);
    Decoded decoded;
    record(decoded, result, message);
    if (decoded.ok)
        decoded.output.assign(out.get(), out.get() + decoded.result.produced);
    return decoded;
}

struct SinkState {
    Bytes output;
    size_t calls = 0;
    size_t fail_after = SIZE_MAX; // fail once this many bytes were received
};

inline keel::Result<void> collect(void* context, const uint8_t* data, size_t size)
{
    auto* state = static_cast<SinkState*>(context);
    ++state->calls;
    if (size == 0)
        return keel::Err(keel::Error::EINVAL); // the decoder never hands out nothing
    if (state->output.size() + size > state->fail_after)
        return keel::Err(keel::Error::EIO);
    state->output.insert(state->output.end(), data, data + size);
    return {};
}

inline Decoded decode_sink(keel::CompressionFormat format, const Bytes& input, const DecodeSettings& settings = {},
    SinkState* state_out = nullptr)
{
    Exact in(input);
    keel::Diagnostic diagnostic;
    char* const message = diagnostic.message;
    keel::DecompressOptions options = make_options(format, keel::DecompressTarget::Sink, settings, &diagnostic);
    SinkState local;
    SinkState& state = state_out ? *state_out : local;
    auto result = keel::decompress_to_sink(format, in.data.get(), in.size, collect, &state, options);
    Decoded decoded;
    record(decoded, result, message);
    decoded.output = state.output;
    return decoded;
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Bits in DEFLATE's order: each value's least significant bit first.
class BitWriter {
public:
    void put(uint32_t value, unsigned count)
    {
        for (unsigned i = 0; i < count; ++i) {
            if (m_bit == 0)
                m_bytes.push_back(0);
            m_bytes.back() |= uint8_t(((value >> i) & 1) << m_bit);
            m_bit = (m_bit + 1) & 7;
        }
    }
    // A Huffman code: its most significant bit first.
    void put_code(uint32_t code, unsigned length)
    {
        for (unsigned i = length; i-- > 0;)
            put((code >> i) & 1, 1);
    }
    void align() { m_bit = 0; }
    void bytes(const Bytes& data)
    {
        align();
        m_bytes.insert(m_bytes.end(), data.begin(), data.end());
    }
    const Bytes& data() const { return m_bytes; }

private:
    Bytes m_bytes;
    unsigned m_bit = 0;
};

// Canonical codes for the given lengths (RFC 1951 3.2.2).
inline std::vector<uint32_t> canonical_codes(const std::vector<uint8_t>& lengths)
{
    unsigned counts[16] = {};
    for (uint8_t length : lengths)
        ++counts[length];
    counts[0] = 0;
    uint32_t next[16] = {};
    uint32_t code = 0;
    for (unsigned length = 1; length < 16; ++length) {
        code = (code + counts[length - 1]) << 1;
        next[length] = code;
    }
    std::vector<uint32_t> codes(lengths.size());
    for (size_t s = 0; s < lengths.size(); ++s) {
        if (lengths[s])
            codes[s] = next[lengths[s]]++;
    }
    return codes;
}

// A code length code in which every symbol has a code (16, 17, 18, 0, 1
// and 2 five bits long, the rest four), so any sequence can be written.
struct CodeLengthCode {
    std::vector<uint8_t> lengths;
    std::vector<uint32_t> codes;
    CodeLengthCode()
        : lengths(19, 4)
    {
        for (unsigned s : { 16u, 17u, 18u, 0u, 1u, 2u })
            lengths[s] = 5;
        codes = canonical_codes(lengths);
    }
    void put(BitWriter& w, unsigned symbol) const { w.put_code(codes[symbol], lengths[symbol]); }
};

// Writes a dynamic block header (after BFINAL and BTYPE) that sends
// `sequence`, a list of code length symbols with their extra bits, for
// `litlen_count` + `distance_count` lengths.
inline void put_dynamic_header(BitWriter& w, unsigned litlen_count, unsigned distance_count,
    const std::vector<std::pair<unsigned, unsigned>>& sequence, const CodeLengthCode& code_lengths = CodeLengthCode())
{
    static const unsigned kOrder[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };
    w.put(litlen_count - 257, 5);
    w.put(distance_count - 1, 5);
    w.put(19 - 4, 4);
    for (unsigned symbol : kOrder)
        w.put(code_lengths.lengths[symbol], 3);
    for (auto [symbol, extra] : sequence) {
        code_lengths.put(w, symbol);
        if (symbol == 16)
            w.put(extra, 2);
        else if (symbol == 17)
            w.put(extra, 3);
        else if (symbol == 18)
            w.put(extra, 7);
    }
}

// The plain sequence for a list of lengths (no repeat codes).
inline std::vector<std::pair<unsigned, unsigned>> plain_lengths(const std::vector<uint8_t>& lengths)
{
    std::vector<std::pair<unsigned, unsigned>> sequence;
    for (uint8_t length : lengths)
        sequence.push_back({ length, 0 });
    return sequence;
}

// A gzip member around `deflate`, whose trailer claims `data`.
inline Bytes gzip_wrap(const Bytes& deflate, const Bytes& data)
{
    Bytes member = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
    member.insert(member.end(), deflate.begin(), deflate.end());
    static keel::Crc32Tables tables = [] {
        keel::Crc32Tables t;
        keel::crc32_make_tables(t);
        return t;
    }();
    uint32_t crc = keel::crc32_update(tables, 0, data.data(), data.size());
    uint32_t size = uint32_t(data.size());
    for (int i = 0; i < 4; ++i)
        member.push_back(uint8_t(crc >> (8 * i)));
    for (int i = 0; i < 4; ++i)
        member.push_back(uint8_t(size >> (8 * i)));
    return member;
}

// A Zstandard bitstream read backwards: fields are given in the order the
// decoder reads them; the writer puts the first one in the highest bits,
// under the end marker.
class BackwardBitWriter {
public:
    void put(uint64_t value, unsigned count) { m_fields.push_back({ value, count }); }
    Bytes finish(bool marker = true) const
    {
        std::vector<bool> bits; // least significant first
        for (auto it = m_fields.rbegin(); it != m_fields.rend(); ++it) {
            for (unsigned i = 0; i < it->second; ++i)
                bits.push_back((it->first >> i) & 1);
        }
        if (marker)
            bits.push_back(true);
        Bytes bytes((bits.size() + 7) / 8, 0);
        for (size_t i = 0; i < bits.size(); ++i) {
            if (bits[i])
                bytes[i / 8] |= uint8_t(1 << (i % 8));
        }
        return bytes;
    }

private:
    std::vector<std::pair<uint64_t, unsigned>> m_fields;
};

inline void put_le(Bytes& out, uint64_t value, unsigned size)
{
    for (unsigned i = 0; i < size; ++i)
        out.push_back(uint8_t(value >> (8 * i)));
}

inline void append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

// A Zstandard frame header: no content size, no checksum, a window of
// 2^(10 + exponent) bytes.
inline Bytes zstd_frame_header(uint8_t window_descriptor = 0, bool checksum = false)
{
    Bytes frame = { 0x28, 0xb5, 0x2f, 0xfd, uint8_t(checksum ? 0x04 : 0x00), window_descriptor };
    return frame;
}

// A block header: type 0 raw, 1 RLE, 2 compressed.
inline void put_block_header(Bytes& out, bool last, unsigned type, uint32_t size)
{
    put_le(out, (size << 3) | (type << 1) | (last ? 1 : 0), 3);
}

} // namespace compress_test
