// Fuzzes the console's line editor with raw terminal bytes: escape
// sequences cut anywhere, control characters, history, completion, lines
// far past the limit. Every finished line must be printable text within
// kMaxLine bytes, and a plain line typed afterwards must come back exactly
// (or be refused whole when too long), whatever state the bytes left.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <string>

#include "console/line_editor.h"

using keel::LineEditor;

namespace {

size_t g_output_bytes = 0;

void output(void*, const char* text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        g_output_bytes += text[i] != 0x7f; // reads every byte (ASan)
}

size_t complete(void*, const char* prefix, size_t length, char* out, size_t out_size)
{
    static const char* const kNames[] = { "help", "history", "ls", "lsmod", "mount", "mountinfo", "mounts" };
    if (length > 0 && prefix[0] == ' ')
        return 0;
    size_t matches = 0;
    size_t common = 0;
    for (const char* name : kNames) {
        if (strncmp(name, prefix, length) != 0)
            continue;
        size_t name_length = strlen(name);
        if (matches++ == 0) {
            common = name_length < out_size - 1 ? name_length : out_size - 1;
            memcpy(out, name, common);
        } else {
            size_t i = 0;
            while (i < common && out[i] == name[i])
                i++;
            common = i;
        }
    }
    out[common] = '\0';
    return matches;
}

void require(bool condition)
{
    if (!condition)
        abort();
}

void check_line(const LineEditor& editor)
{
    const char* line = editor.line();
    size_t length = strnlen(line, LineEditor::kMaxLine + 1);
    require(length <= LineEditor::kMaxLine);
    for (size_t i = 0; i < length; i++)
        require(line[i] >= 0x20 && line[i] < 0x7f);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static LineEditor* editor = [] {
        static LineEditor instance(output, nullptr, "keel> ");
        instance.set_completer(complete, nullptr);
        return &instance;
    }();
    // The editor lives on, as the console's does: history carries over.
    for (size_t i = 0; i < size; i++) {
        if (editor->feed(data[i]) == LineEditor::Event::Line)
            check_line(*editor);
    }
    // Whatever state the bytes left (an escape half read, a line half
    // typed): Ctrl-C, then a plain line, arrives exactly or is refused.
    editor->feed(0x03);
    std::string plain;
    for (size_t i = 0; i < size && plain.size() < 400; i++) {
        if (data[i] > 0x20 && data[i] < 0x7f)
            plain += char(data[i]);
    }
    LineEditor::Event last = LineEditor::Event::None;
    for (char c : plain) {
        last = editor->feed(uint8_t(c));
        require(last == LineEditor::Event::None);
    }
    last = editor->feed('\r');
    if (plain.size() > LineEditor::kMaxLine) {
        require(last == LineEditor::Event::TooLong);
        require(editor->line()[0] == '\0');
    } else {
        require(last == LineEditor::Event::Line);
        require(plain == editor->line());
    }
    return 0;
}
