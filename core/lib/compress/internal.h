// Pieces the gzip and zstd decoders share: little-endian loads, the error
// reporter and the output window. Private to core/lib/compress.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "lib/compress/compress.h"
#include "lib/compress/crc32.h"
#include "lib/compress/xxhash64.h"

namespace keel::compress {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the decoders load little-endian fields directly");

inline uint16_t load16(const uint8_t* p)
{
    uint16_t value;
    memcpy(&value, p, 2);
    return value;
}

inline uint32_t load24(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16; }

inline uint32_t load32(const uint8_t* p)
{
    uint32_t value;
    memcpy(&value, p, 4);
    return value;
}

inline uint64_t load64(const uint8_t* p)
{
    uint64_t value;
    memcpy(&value, p, 8);
    return value;
}

// Index of the highest set bit; `value` must not be 0.
inline unsigned highest_bit(uint32_t value) { return 31 - unsigned(__builtin_clz(value)); }

inline uint64_t low_bits(uint64_t value, unsigned count) { return value & ((uint64_t(1) << count) - 1); }

// Formats failures into the caller's message buffer, prefixed with the
// format's name: "gzip: " or "zstd: ".
class Reporter {
public:
    Reporter(const char* prefix, Diagnostic* diagnostic);

    Err fail(Error error, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

private:
    const char* m_prefix;
    char* m_message;
    size_t m_message_size;
};

enum class Checksum : uint8_t { None, Crc32, Xxh64 };

// Where decoded bytes go. Decoders write at `pos` up to `end` directly and
// call make_room() when a write would pass `end`. In buffer mode `end` is
// the bound and make_room() fails with ENOSPC; in sink mode the buffer is
// the workspace's window: make_room() hands what was written to the sink,
// moves the last `window` bytes (the history matches may reach) to the
// start and carries on, failing with ENOSPC only at max_output.
//
// A frame (zstd) or member (gzip) is a unit: matches reach no further back
// than its start or its window, and its checksum covers its bytes only.
class OutputWindow {
public:
    OutputWindow(uint8_t* buffer, size_t capacity, size_t max_output, Reporter& reporter);
    OutputWindow(uint8_t* buffer, size_t capacity, size_t max_output, DecompressSink sink, void* sink_context,
        Reporter& reporter);

    uint8_t* pos;
    uint8_t* end;

    bool has_sink() const { return m_sink != nullptr; }

    // Starts a unit whose matches reach at most `window` bytes back.
    // Checksum::Crc32 needs set_crc32_tables() first.
    void begin_unit(size_t window, Checksum checksum);
    void set_crc32_tables(const Crc32Tables* tables) { m_crc32_tables = tables; }
    // Matches may not reach below floor() (the unit's start, or the
    // oldest byte still in the window) nor further back than window().
    // Between calls to make_room() the floor stays put.
    const uint8_t* floor() const { return m_floor; }
    size_t window() const { return m_window; }
    uint64_t unit_produced() const { return produced() - m_unit_start; }
    uint64_t produced() const { return m_discarded + uint64_t(pos - m_base); }

    // Makes `needed` bytes writable at `pos`, or fails: ENOSPC (with a
    // message naming `input_offset`) if that would pass the bound, the
    // sink's error, or ENOMEM if the workspace cannot hold the window and
    // `needed` more bytes.
    Result<void> make_room(size_t needed, size_t input_offset);

    // Brings the unit's checksum up to `pos`; cheap to call often.
    void update_checksum();
    uint32_t crc32() const { return m_crc32; }
    uint64_t xxh64() const { return m_xxh64.digest(); }

    // Hands everything not yet given to the sink (sink mode); the input
    // ended at `input_offset`.
    Result<void> finish(size_t input_offset);

private:
    void set_end();
    Result<void> flush(size_t input_offset);

    uint8_t* m_base;
    size_t m_capacity;
    uint64_t m_max_output;
    bool m_bound_is_buffer; // buffer mode with a buffer no larger than max_output
    DecompressSink m_sink = nullptr;
    void* m_sink_context = nullptr;
    Reporter& m_reporter;

    uint64_t m_discarded = 0; // bytes moved out of the buffer (sink mode)
    uint8_t* m_flushed;       // bytes before this were given to the sink
    uint8_t* m_floor;         // a match may not reach below this
    size_t m_window = 0;
    uint64_t m_unit_start = 0;

    Checksum m_checksum = Checksum::None;
    uint8_t* m_hashed; // the checksum covers bytes up to here
    uint32_t m_crc32 = 0;
    const Crc32Tables* m_crc32_tables = nullptr;
    Xxh64 m_xxh64;
};

// Copies a match of `length` bytes from `distance` bytes back; the regions
// may overlap (a distance shorter than the length repeats a pattern).
// `room` is end - out: with 16 bytes to spare the copy moves whole 8-byte
// words and may write up to 15 bytes of garbage past out + length, which
// later output overwrites.
inline void copy_match(uint8_t* out, size_t distance, size_t length, size_t room)
{
    const uint8_t* from = out - distance;
    if (distance >= 8 && room >= length + 16) {
        uint8_t* stop = out + length;
        do {
            memcpy(out, from, 8);
            memcpy(out + 8, from + 8, 8);
            out += 16;
            from += 16;
        } while (out < stop);
    } else if (distance == 1) {
        memset(out, *from, length);
    } else {
        for (size_t i = 0; i < length; ++i)
            out[i] = from[i];
    }
}

} // namespace keel::compress
