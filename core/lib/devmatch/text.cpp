#include "lib/devmatch/text.h"

#include "lib/base/format.h"

namespace keel::devmatch {

TextBuffer::TextBuffer(char* buffer, size_t size)
    : m_buffer(buffer)
    , m_size(buffer ? size : 0)
{
    if (m_size > 0)
        m_buffer[0] = '\0';
    else
        m_overflow = true;
}

void TextBuffer::append(const char* fmt, ...)
{
    if (m_overflow)
        return;
    va_list args;
    va_start(args, fmt);
    size_t added = vformat(m_buffer + m_length, m_size - m_length, fmt, args);
    va_end(args);
    if (added >= m_size - m_length) {
        m_overflow = true;
        m_length = m_size - 1;
        return;
    }
    m_length += added;
}

void TextBuffer::append_char(char c)
{
    if (m_overflow)
        return;
    if (m_length + 1 >= m_size) {
        m_overflow = true;
        return;
    }
    m_buffer[m_length++] = c;
    m_buffer[m_length] = '\0';
}

void TextBuffer::field32(const char* name, bool exact, uint32_t value)
{
    if (exact)
        append("%s%08X", name, value);
    else
        append("%s*", name);
}

void TextBuffer::field8(const char* name, bool exact, uint8_t value)
{
    if (exact)
        append("%s%02X", name, value);
    else
        append("%s*", name);
}

void TextBuffer::add_wildcard()
{
    if (m_length == 0 || m_buffer[m_length - 1] != '*')
        append_char('*');
}

Result<size_t> TextBuffer::finish() const
{
    if (m_overflow)
        return Err(Error::ERANGE);
    return m_length;
}

} // namespace keel::devmatch
