#include "console/line_editor.h"

#include "lib/base/string.h"

namespace keel {

LineEditor::LineEditor(Output output, void* context, const char* prompt)
    : m_output(output)
    , m_context(context)
    , m_prompt(prompt)
{
}

void LineEditor::set_completer(Completer completer, void* context)
{
    m_completer = completer;
    m_completer_context = context;
}

void LineEditor::emit(const char* text, size_t length) { m_output(m_context, text, length); }
void LineEditor::emit(const char* text) { emit(text, strlen(text)); }

void LineEditor::print_prompt() { emit(m_prompt); }

// Rewrite the line from `position` to the end, blank `erase_extra` stale
// characters after it, and put the terminal cursor back at m_cursor.
void LineEditor::redraw_from(size_t position, size_t erase_extra)
{
    emit(m_buffer + position, m_length - position);
    for (size_t i = 0; i < erase_extra; i++)
        emit(" ", 1);
    for (size_t i = m_length + erase_extra; i > m_cursor; i--)
        emit("\b", 1);
}

void LineEditor::move_cursor_to(size_t position)
{
    while (m_cursor > position) {
        emit("\b", 1);
        m_cursor--;
    }
    if (position > m_cursor) {
        emit(m_buffer + m_cursor, position - m_cursor);
        m_cursor = position;
    }
}

void LineEditor::insert(char c)
{
    if (m_length == kMaxLine) {
        emit("\a", 1);
        m_overflow = true;
        return;
    }
    memmove(m_buffer + m_cursor + 1, m_buffer + m_cursor, m_length - m_cursor);
    m_buffer[m_cursor] = c;
    m_length++;
    m_buffer[m_length] = '\0';
    size_t from = m_cursor;
    m_cursor++;
    redraw_from(from, 0);
}

void LineEditor::erase_before_cursor(size_t count)
{
    if (count > m_cursor)
        count = m_cursor;
    if (count == 0)
        return;
    size_t start = m_cursor - count;
    move_cursor_to(start);
    memmove(m_buffer + start, m_buffer + start + count, m_length - start - count);
    m_length -= count;
    m_buffer[m_length] = '\0';
    if (m_length == 0)
        m_overflow = false;
    redraw_from(start, count);
}

void LineEditor::replace_line(const char* text)
{
    move_cursor_to(0);
    size_t old_length = m_length;
    size_t length = strnlen(text, kMaxLine);
    memcpy(m_buffer, text, length);
    m_buffer[length] = '\0';
    m_length = length;
    m_cursor = length;
    m_overflow = false;
    emit(m_buffer, length);
    size_t extra = old_length > length ? old_length - length : 0;
    for (size_t i = 0; i < extra; i++)
        emit(" ", 1);
    for (size_t i = 0; i < extra; i++)
        emit("\b", 1);
}

LineEditor::Event LineEditor::finish()
{
    emit("\r\n", 2);
    if (m_overflow) {
        m_overflow = false;
        m_length = m_cursor = 0;
        m_buffer[0] = '\0';
        m_done[0] = '\0';
        m_history_browse = 0;
        return Event::TooLong;
    }
    memcpy(m_done, m_buffer, m_length + 1);
    if (m_length > 0) {
        size_t newest = (m_history_next + kHistory - 1) % kHistory;
        bool duplicate = m_history_count > 0 && strcmp(m_history[newest], m_buffer) == 0;
        if (!duplicate) {
            memcpy(m_history[m_history_next], m_buffer, m_length + 1);
            m_history_next = (m_history_next + 1) % kHistory;
            if (m_history_count < kHistory)
                m_history_count++;
        }
    }
    m_length = m_cursor = 0;
    m_buffer[0] = '\0';
    m_history_browse = 0;
    return Event::Line;
}

void LineEditor::history_step(int direction)
{
    size_t target = m_history_browse;
    if (direction > 0 && target < m_history_count)
        target++;
    else if (direction < 0 && target > 0)
        target--;
    else
        return;
    if (m_history_browse == 0) {
        memcpy(m_saved, m_buffer, m_length + 1);
        m_saved_overflow = m_overflow;
    }
    m_history_browse = target;
    if (target == 0) {
        replace_line(m_saved);
        m_overflow = m_saved_overflow; // the line being typed is still cut
    } else
        replace_line(m_history[(m_history_next + kHistory - target) % kHistory]);
}

void LineEditor::complete()
{
    if (!m_completer || m_cursor != m_length)
        return;
    char completion[kMaxLine + 1];
    size_t matches = m_completer(m_completer_context, m_buffer, m_length, completion, sizeof(completion));
    size_t length = strnlen(completion, kMaxLine);
    if (matches == 0) {
        emit("\a", 1);
        return;
    }
    for (size_t i = m_length; i < length; i++)
        insert(completion[i]);
    if (matches == 1)
        insert(' ');
}

void LineEditor::run_escape_sequence(char final, unsigned parameter)
{
    switch (final) {
    case 'A': history_step(+1); break;
    case 'B': history_step(-1); break;
    case 'C':
        if (m_cursor < m_length)
            move_cursor_to(m_cursor + 1);
        break;
    case 'D':
        if (m_cursor > 0)
            move_cursor_to(m_cursor - 1);
        break;
    case 'H': move_cursor_to(0); break;
    case 'F': move_cursor_to(m_length); break;
    case '~':
        if (parameter == 1 || parameter == 7)
            move_cursor_to(0); // Home
        else if (parameter == 4 || parameter == 8)
            move_cursor_to(m_length); // End
        else if (parameter == 3 && m_cursor < m_length) {
            move_cursor_to(m_cursor + 1); // Delete
            erase_before_cursor(1);
        }
        break;
    default: break;
    }
}

LineEditor::Event LineEditor::feed(uint8_t byte)
{
    // A CR LF pair from a terminal is one Enter.
    bool after_cr = m_last_was_cr;
    m_last_was_cr = byte == '\r';
    if (byte == '\n' && after_cr)
        return Event::None;

    // Escape sequences: ESC [ (CSI) or ESC O (SS3), parameter bytes
    // 0x30-0x3f, intermediates 0x20-0x2f, then a final byte 0x40-0x7e. A
    // control character inside one ends it and is acted on, as terminals
    // do: a stray ESC must not swallow Enter or Ctrl-C.
    if (m_escape != Escape::None && (byte < 0x20 || byte > 0x7e)) {
        m_escape = Escape::None;
    } else if (m_escape == Escape::Esc) {
        m_escape = (byte == '[' || byte == 'O') ? Escape::Sequence : Escape::None;
        m_escape_parameter = 0;
        m_escape_parameter_digits = 0;
        return Event::None;
    } else if (m_escape == Escape::Sequence) {
        if (byte >= '0' && byte <= '9') {
            // The first parameter; more digits than a key code has, or a
            // second parameter, make the sequence one we ignore.
            if (m_escape_parameter_digits < 2)
                m_escape_parameter = m_escape_parameter * 10 + (byte - '0');
            if (m_escape_parameter_digits < 99)
                m_escape_parameter_digits++;
            return Event::None;
        }
        if (byte < 0x40) {
            if (byte == ';' || byte == ':')
                m_escape_parameter_digits = 99;
            return Event::None; // other parameter and intermediate bytes
        }
        m_escape = Escape::None;
        if (m_escape_parameter_digits > 2)
            return Event::None;
        run_escape_sequence(char(byte), m_escape_parameter);
        return Event::None;
    }

    switch (byte) {
    case '\r':
    case '\n': return finish();
    case 0x1b: m_escape = Escape::Esc; return Event::None;
    case 0x7f:
    case '\b': erase_before_cursor(1); return Event::None;
    case 0x01: move_cursor_to(0); return Event::None;        // Ctrl-A
    case 0x05: move_cursor_to(m_length); return Event::None; // Ctrl-E
    case 0x02:
        if (m_cursor > 0)
            move_cursor_to(m_cursor - 1);
        return Event::None; // Ctrl-B
    case 0x06:
        if (m_cursor < m_length)
            move_cursor_to(m_cursor + 1);
        return Event::None;                                       // Ctrl-F
    case 0x15: erase_before_cursor(m_cursor); return Event::None; // Ctrl-U
    case 0x17: {                                                  // Ctrl-W
        size_t start = m_cursor;
        while (start > 0 && m_buffer[start - 1] == ' ')
            start--;
        while (start > 0 && m_buffer[start - 1] != ' ')
            start--;
        erase_before_cursor(m_cursor - start);
        return Event::None;
    }
    case 0x03: // Ctrl-C
        emit("^C\r\n", 4);
        m_overflow = false;
        m_length = m_cursor = 0;
        m_buffer[0] = '\0';
        m_history_browse = 0;
        return Event::Cancel;
    case 0x0c: // Ctrl-L
        emit("\r\n", 2);
        print_prompt();
        emit(m_buffer, m_length);
        for (size_t i = m_length; i > m_cursor; i--)
            emit("\b", 1);
        return Event::None;
    case '\t': complete(); return Event::None;
    case 0x10: history_step(+1); return Event::None; // Ctrl-P
    case 0x0e: history_step(-1); return Event::None; // Ctrl-N
    default:
        if (byte >= 0x20 && byte < 0x7f)
            insert(char(byte));
        return Event::None;
    }
}

} // namespace keel
