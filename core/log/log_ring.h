// The kernel log: a ring of variable-length records in a caller-provided
// byte buffer (any size; it is used from an 8-byte aligned start, in 8-byte
// units). When full, writing drops the oldest whole records.
//
// Layout. Every record is contiguous in the buffer: a 24-byte header
// (size, text length, level, flags, sequence number, timestamp) followed
// by the text, padded to 8 bytes. When a record does not fit between the
// write position and the end of the buffer, a wrap marker (a header whose
// size is 0) is written there and the record goes to offset 0. Because
// positions are 8-aligned, at least 8 bytes remain wherever a marker is
// needed, so the marker always fits; a marker is never needed at the very
// end. Positions are kept as ever-increasing 64-bit logical offsets
// (physical = logical % capacity) so "how much is live" is a subtraction.
//
// Readers ask for a sequence number; if that record was overwritten they
// get the oldest one still there, and Record::seq tells them how many they
// missed. Locking is the caller's: the kernel takes a spinlock around push
// and read.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

class LogRing {
public:
    static constexpr size_t kMaxTextLength = 1024;
    static constexpr size_t kHeaderSize = 24;

    struct Record {
        uint64_t seq;
        uint64_t ts_us;
        int level;          // 0 (KERN_EMERG) .. 7 (KERN_DEBUG)
        size_t text_length; // stored length, even if text_buf was smaller
        bool truncated;     // the pushed text was longer than kMaxTextLength
                            // or than the ring could hold
    };

    LogRing() = default;
    LogRing(void* buffer, size_t size) { init(buffer, size); }
    LogRing(const LogRing&) = delete;
    LogRing& operator=(const LogRing&) = delete;

    void init(void* buffer, size_t size);

    // Appends a record and returns its sequence number. Text beyond
    // kMaxTextLength (or beyond what the buffer can hold) is cut off;
    // levels outside 0..7 are clamped.
    uint64_t push(uint64_t ts_us, int level, const char* text, size_t length);

    // Reads record `seq`, or the oldest record when `seq` was overwritten.
    // Copies up to text_buf_size - 1 bytes of text and a NUL. False when
    // there is no record at or after `seq`.
    bool read(uint64_t seq, Record& out, char* text_buf, size_t text_buf_size) const;

    uint64_t first_seq() const { return m_first_seq; } // oldest record held
    uint64_t next_seq() const { return m_next_seq; }   // seq the next push gets
    size_t dropped() const { return m_dropped; }       // records overwritten so far
    size_t capacity() const { return m_capacity; }

private:
    struct Header {
        uint32_t size; // whole record including padding; 0 = wrap marker
        uint16_t text_length;
        uint8_t level;
        uint8_t flags;
        uint64_t seq;
        uint64_t ts_us;
    };
    static_assert(sizeof(Header) == kHeaderSize);

    Header header_at(uint64_t position) const;
    uint64_t next_wrap(uint64_t position) const;
    void drop_oldest();

    unsigned char* m_buffer = nullptr;
    size_t m_capacity = 0;
    uint64_t m_head = 0; // logical offset of the oldest record (or a marker)
    uint64_t m_tail = 0; // logical offset of the next write
    uint64_t m_first_seq = 0;
    uint64_t m_next_seq = 0;
    size_t m_dropped = 0;
    // Where the last read found its record, so sequential reads do not
    // rescan from the oldest record every time.
    mutable uint64_t m_cursor_seq = 0;
    mutable uint64_t m_cursor_position = 0;
};

} // namespace keel
