#include "lib/net/tcp/byte_ring.h"

#include "lib/base/assert.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "lib/net/platform.h"

namespace keel::net::tcp {

ByteRing::~ByteRing() { net_free(m_bytes); }

bool ByteRing::allocate(size_t capacity)
{
    VERIFY(!m_bytes);
    m_bytes = static_cast<uint8_t*>(net_alloc(capacity));
    if (!m_bytes)
        return false;
    m_capacity = capacity;
    return true;
}

void ByteRing::release()
{
    net_free(m_bytes);
    m_bytes = nullptr;
    m_capacity = m_start = m_size = 0;
}

size_t ByteRing::write(const uint8_t* bytes, size_t length)
{
    length = min(length, space());
    if (!length)
        return 0;
    size_t end = (m_start + m_size) % (m_capacity ? m_capacity : 1);
    size_t first = min(length, m_capacity - end);
    memcpy(m_bytes + end, bytes, first);
    memcpy(m_bytes, bytes + first, length - first);
    m_size += length;
    return length;
}

void ByteRing::peek(size_t offset, uint8_t* out, size_t length) const
{
    VERIFY(offset + length <= m_size);
    if (!length)
        return;
    size_t begin = (m_start + offset) % m_capacity;
    size_t first = min(length, m_capacity - begin);
    memcpy(out, m_bytes + begin, first);
    memcpy(out + first, m_bytes, length - first);
}

size_t ByteRing::read(uint8_t* out, size_t length)
{
    length = min(length, m_size);
    if (out)
        peek(0, out, length);
    if (length) {
        m_start = (m_start + length) % m_capacity;
        m_size -= length;
    }
    return length;
}

} // namespace keel::net::tcp
