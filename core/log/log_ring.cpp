#include "log/log_ring.h"

#include "lib/base/string.h"
#include "lib/base/utility.h"

namespace keel {

namespace {

constexpr uint8_t kFlagTruncated = 1;
constexpr size_t kUnit = 8;

} // namespace

void LogRing::init(void* buffer, size_t size)
{
    auto start = reinterpret_cast<uintptr_t>(buffer);
    uintptr_t aligned = align_up(start, uintptr_t(kUnit));
    size_t skip = aligned - start;
    m_buffer = reinterpret_cast<unsigned char*>(aligned);
    m_capacity = size > skip ? align_down(size - skip, kUnit) : 0;
    // A ring that cannot hold a header and one unit of text holds nothing.
    if (m_capacity < kHeaderSize + kUnit)
        m_capacity = 0;
    m_head = m_tail = 0;
    m_first_seq = m_next_seq = 0;
    m_dropped = 0;
    m_cursor_seq = 0;
    m_cursor_position = 0;
}

LogRing::Header LogRing::header_at(uint64_t position) const
{
    // A wrap marker may sit in the last 8 bytes of the buffer, so only its
    // size field can be read before knowing it is a record.
    Header header {};
    const unsigned char* place = m_buffer + position % m_capacity;
    memcpy(&header.size, place, sizeof(header.size));
    if (header.size != 0)
        memcpy(&header, place, sizeof(header));
    return header;
}

uint64_t LogRing::next_wrap(uint64_t position) const { return (position / m_capacity + 1) * m_capacity; }

void LogRing::drop_oldest()
{
    uint32_t size = header_at(m_head).size;
    if (size == 0) {
        m_head = next_wrap(m_head);
        return;
    }
    m_head += size;
    ++m_first_seq;
    ++m_dropped;
}

uint64_t LogRing::push(uint64_t ts_us, int level, const char* text, size_t length)
{
    uint64_t seq = m_next_seq++;
    if (m_capacity == 0) {
        m_first_seq = m_next_seq;
        ++m_dropped;
        return seq;
    }

    bool truncated = false;
    size_t max_text = min(kMaxTextLength, m_capacity - kHeaderSize);
    if (length > max_text) {
        length = max_text;
        truncated = true;
    }
    uint64_t record_size = align_up(kHeaderSize + length, kUnit);

    uint64_t start = m_tail;
    if (m_tail % m_capacity + record_size > m_capacity)
        start = next_wrap(m_tail);
    uint64_t end = start + record_size;

    while (end - m_head > m_capacity) {
        if (m_head == m_tail) {
            // Nothing left to drop: skip the unusable end of the buffer
            // without a marker, since no reader will walk over it.
            m_head = m_tail = start;
            break;
        }
        drop_oldest();
    }
    if (start != m_tail) {
        Header marker {};
        memcpy(m_buffer + m_tail % m_capacity, &marker.size, sizeof(marker.size));
    }

    Header header {};
    header.size = static_cast<uint32_t>(record_size);
    header.text_length = static_cast<uint16_t>(length);
    header.level = static_cast<uint8_t>(min(max(level, 0), 7));
    header.flags = truncated ? kFlagTruncated : 0;
    header.seq = seq;
    header.ts_us = ts_us;
    unsigned char* place = m_buffer + start % m_capacity;
    memcpy(place, &header, sizeof(header));
    if (length > 0)
        memcpy(place + kHeaderSize, text, length);
    m_tail = end;
    return seq;
}

bool LogRing::read(uint64_t seq, Record& out, char* text_buf, size_t text_buf_size) const
{
    if (m_capacity == 0 || m_first_seq == m_next_seq || seq >= m_next_seq)
        return false;
    if (seq < m_first_seq)
        seq = m_first_seq;

    uint64_t position = m_head;
    uint64_t current = m_first_seq;
    if (m_cursor_seq >= m_first_seq && m_cursor_seq <= seq && m_cursor_seq < m_next_seq) {
        position = m_cursor_position;
        current = m_cursor_seq;
    }
    Header header = header_at(position);
    for (;;) {
        if (header.size == 0) {
            position = next_wrap(position);
        } else if (current == seq) {
            break;
        } else {
            position += header.size;
            ++current;
        }
        header = header_at(position);
    }
    m_cursor_seq = seq;
    m_cursor_position = position;

    out.seq = header.seq;
    out.ts_us = header.ts_us;
    out.level = header.level;
    out.text_length = header.text_length;
    out.truncated = (header.flags & kFlagTruncated) != 0;
    if (text_buf_size > 0) {
        size_t n = min(size_t(header.text_length), text_buf_size - 1);
        memcpy(text_buf, m_buffer + position % m_capacity + kHeaderSize, n);
        text_buf[n] = '\0';
    }
    return true;
}

} // namespace keel
