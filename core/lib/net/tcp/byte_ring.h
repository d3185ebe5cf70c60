// A fixed-capacity ring of bytes: a connection's send buffer (unacknowledged
// and unsent data) and its receive buffer (data not yet read). Allocated
// once when the connection is created, freed once its user released it
// and it has no more use for it (Connection::drop_buffers_if_done).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::net::tcp {

class ByteRing {
public:
    ByteRing() = default;
    ~ByteRing();
    ByteRing(const ByteRing&) = delete;
    ByteRing& operator=(const ByteRing&) = delete;

    // False when out of memory.
    bool allocate(size_t capacity);
    // Frees the bytes: the ring holds nothing and takes nothing after.
    void release();

    bool allocated() const { return m_bytes; }
    size_t capacity() const { return m_capacity; }
    size_t size() const { return m_size; }
    size_t space() const { return m_capacity - m_size; }

    // Appends up to `length` bytes; returns how many fit.
    size_t write(const uint8_t* bytes, size_t length);
    // Copies `length` bytes starting `offset` bytes after the front, which
    // must exist, without consuming them.
    void peek(size_t offset, uint8_t* out, size_t length) const;
    // Consumes up to `length` bytes from the front into `out` (or nowhere
    // when null); returns how many.
    size_t read(uint8_t* out, size_t length);

private:
    uint8_t* m_bytes = nullptr;
    size_t m_capacity = 0;
    size_t m_start = 0;
    size_t m_size = 0;
};

} // namespace keel::net::tcp
