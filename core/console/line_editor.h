// A line editor for the serial console, independent of any device: feed it
// the bytes a terminal sends, it echoes through a callback and hands back
// complete lines. Understands printable text, Backspace/DEL, Ctrl-A/E
// (home/end), Ctrl-B/F and the arrow keys, Ctrl-U (kill line), Ctrl-W (kill
// word), Ctrl-C (cancel), Ctrl-L (redraw), Up/Down (history) and Tab
// (completion through a callback).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

class LineEditor {
public:
    static constexpr size_t kMaxLine = 256;
    static constexpr size_t kHistory = 16;

    using Output = void (*)(void* context, const char* text, size_t length);
    // Fill `out` with the unique completion of `prefix` (or the longest
    // common prefix of several); returns how many candidates matched.
    using Completer = size_t (*)(void* context, const char* prefix, size_t length, char* out, size_t out_size);

    LineEditor(Output output, void* context, const char* prompt);
    void set_completer(Completer completer, void* context);

    enum class Event { None, Line, Cancel, TooLong };
    // Process one input byte. On Event::Line, line() holds the finished
    // line; on Event::TooLong the line was longer than kMaxLine and is
    // gone (not in the history either).
    Event feed(uint8_t byte);
    const char* line() const { return m_done; }

    void print_prompt();

private:
    void emit(const char* text, size_t length);
    void emit(const char* text);
    void insert(char c);
    void erase_before_cursor(size_t count);
    void move_cursor_to(size_t position);
    void redraw_from(size_t position, size_t erase_extra);
    void replace_line(const char* text);
    Event finish();
    void history_step(int direction);
    void complete();
    void run_escape_sequence(char final, unsigned parameter);

    Output m_output;
    void* m_context;
    const char* m_prompt;
    Completer m_completer = nullptr;
    void* m_completer_context = nullptr;

    char m_buffer[kMaxLine + 1] = {};
    size_t m_length = 0;
    size_t m_cursor = 0;
    // Bytes were dropped from the line being edited: it is refused at its
    // end unless replaced (history) or emptied first.
    bool m_overflow = false;
    char m_done[kMaxLine + 1] = {};

    char m_history[kHistory][kMaxLine + 1] = {};
    size_t m_history_count = 0;      // entries stored (<= kHistory)
    size_t m_history_next = 0;       // slot the next entry goes to
    size_t m_history_browse = 0;     // 0 = editing a new line, k = k-th most recent
    char m_saved[kMaxLine + 1] = {}; // the new line while browsing the history
    bool m_saved_overflow = false;

    enum class Escape { None, Esc, Sequence } m_escape = Escape::None;
    unsigned m_escape_parameter = 0;
    unsigned m_escape_parameter_digits = 0;
    bool m_last_was_cr = false;
};

} // namespace keel
