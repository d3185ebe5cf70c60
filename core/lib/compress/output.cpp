#include <stdarg.h>

#include "lib/base/format.h"
#include "lib/compress/internal.h"

namespace keel::compress {

Reporter::Reporter(const char* prefix, Diagnostic* diagnostic)
    : m_prefix(prefix)
    , m_message(diagnostic ? diagnostic->message : nullptr)
    , m_message_size(diagnostic ? sizeof(diagnostic->message) : 0)
{
    if (m_message && m_message_size > 0)
        m_message[0] = '\0';
}

Err Reporter::fail(Error error, const char* fmt, ...)
{
    if (m_message && m_message_size > 0) {
        size_t used = format(m_message, m_message_size, "%s: ", m_prefix);
        if (used < m_message_size) {
            va_list args;
            va_start(args, fmt);
            vformat(m_message + used, m_message_size - used, fmt, args);
            va_end(args);
        }
    }
    return Err(error);
}

OutputWindow::OutputWindow(uint8_t* buffer, size_t capacity, size_t max_output, Reporter& reporter)
    : pos(buffer)
    , end(buffer)
    , m_base(buffer)
    , m_capacity(capacity)
    , m_max_output(max_output)
    , m_bound_is_buffer(capacity <= max_output)
    , m_reporter(reporter)
    , m_flushed(buffer)
    , m_floor(buffer)
    , m_hashed(buffer)
{
    set_end();
}

OutputWindow::OutputWindow(
    uint8_t* buffer, size_t capacity, size_t max_output, DecompressSink sink, void* sink_context, Reporter& reporter)
    : OutputWindow(buffer, capacity, max_output, reporter)
{
    m_sink = sink;
    m_sink_context = sink_context;
    m_bound_is_buffer = false;
}

void OutputWindow::set_end()
{
    uint64_t allowed = m_max_output - m_discarded; // produced() never passes m_max_output
    end = m_base + (allowed < m_capacity ? size_t(allowed) : m_capacity);
}

void OutputWindow::begin_unit(size_t window, Checksum checksum)
{
    update_checksum();
    m_floor = pos;
    m_window = window;
    m_unit_start = produced();
    m_checksum = checksum;
    m_hashed = pos;
    m_crc32 = 0;
    m_xxh64.reset();
}

void OutputWindow::update_checksum()
{
    size_t size = size_t(pos - m_hashed);
    if (size == 0)
        return;
    if (m_checksum == Checksum::Crc32)
        m_crc32 = crc32_update(*m_crc32_tables, m_crc32, m_hashed, size);
    else if (m_checksum == Checksum::Xxh64)
        m_xxh64.update(m_hashed, size);
    m_hashed = pos;
}

Result<void> OutputWindow::flush(size_t input_offset)
{
    if (pos > m_flushed) {
        Result<void> result = m_sink(m_sink_context, m_flushed, size_t(pos - m_flushed));
        m_flushed = pos;
        if (result.is_error())
            return m_reporter.fail(result.error(), "the output sink failed with %s at offset %zu, after %llu bytes",
                error_name(result.error()), input_offset, static_cast<unsigned long long>(produced()));
    }
    return {};
}

Result<void> OutputWindow::make_room(size_t needed, size_t input_offset)
{
    if (produced() + needed > m_max_output || !m_sink) {
        if (m_bound_is_buffer) {
            return m_reporter.fail(Error::ENOSPC,
                "output at offset %zu does not fit in the %zu-byte buffer (%zu more bytes after %llu)", input_offset,
                m_capacity, needed, static_cast<unsigned long long>(produced()));
        }
        return m_reporter.fail(Error::ENOSPC,
            "output at offset %zu exceeds the bound of %llu bytes (%zu more bytes after %llu)", input_offset,
            static_cast<unsigned long long>(m_max_output), needed, static_cast<unsigned long long>(produced()));
    }

    update_checksum();
    TRY(flush(input_offset));
    size_t used = size_t(pos - m_base);
    size_t keep = min(used, m_window);
    size_t shift = used - keep;
    if (shift > 0) {
        memmove(m_base, pos - keep, keep);
        m_discarded += shift;
        m_floor = size_t(m_floor - m_base) > shift ? m_floor - shift : m_base;
        pos -= shift;
        m_flushed = pos;
        m_hashed = pos;
        set_end();
    }
    if (size_t(end - pos) < needed) {
        return m_reporter.fail(Error::ENOMEM,
            "the workspace leaves %zu bytes for the output window; offset %zu needs %zu bytes of history and %zu more",
            m_capacity, input_offset, keep, needed);
    }
    return {};
}

Result<void> OutputWindow::finish(size_t input_offset)
{
    update_checksum();
    if (m_sink)
        TRY(flush(input_offset));
    return {};
}

} // namespace keel::compress
