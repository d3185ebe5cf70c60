// The console's line editor, byte by byte as a terminal sends them.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "console/line_editor.h"

using keel::LineEditor;

namespace {

struct Terminal {
    std::string screen;
    LineEditor editor { [](void* context, const char* text, size_t length) {
                           static_cast<Terminal*>(context)->screen.append(text, length);
                       },
        this, "> " };

    // Feeds `bytes`; returns every line and refusal, in order.
    std::vector<std::string> type(const std::string& bytes)
    {
        std::vector<std::string> events;
        for (unsigned char byte : bytes) {
            switch (editor.feed(byte)) {
            case LineEditor::Event::Line: events.push_back(editor.line()); break;
            case LineEditor::Event::TooLong: events.push_back("<too long>"); break;
            case LineEditor::Event::Cancel: events.push_back("<cancel>"); break;
            case LineEditor::Event::None: break;
            }
        }
        return events;
    }
};

using Events = std::vector<std::string>;

} // namespace

TEST_CASE("line editor: a line longer than the limit is refused whole, never run cut")
{
    Terminal t;
    std::string fits(LineEditor::kMaxLine, 'a');
    CHECK(t.type(fits + "\r") == Events { fits });
    std::string long_line = "insmod x " + std::string(300, 'o');
    CHECK(t.type(long_line + "\r") == Events { "<too long>" });
    CHECK(t.screen.find('\a') != std::string::npos); // the bell still rings at the limit
    // The next line is fine, and the refused one is not in the history.
    CHECK(t.type("ls\r") == Events { "ls" });
    CHECK(t.type("\x1b[A\x1b[A\r") == Events { fits });
    // Browsing the history and back does not make a cut line whole.
    CHECK(t.type(long_line + "\x1b[A\x1b[B\r") == Events { "<too long>" });
    // Emptying the line does: what was dropped no longer matters.
    CHECK(t.type(long_line + "\x15" + "pwd\r") == Events { "pwd" });
    // Recalling a whole line from the history replaces a cut one.
    CHECK(t.type(long_line + "\x1b[A\r") == Events { "pwd" });
    CHECK(t.type(long_line + "\x03" + "mem\r") == Events { "<cancel>", "mem" });
}

TEST_CASE("line editor: escape sequences, and control characters that end them")
{
    Terminal t;
    CHECK(t.type("uptim\x1b[D\x1b[Ce\r") == Events { "uptime" });
    CHECK(t.type("bc\x1b[Ha\x1b[Fd\r") == Events { "abcd" });
    CHECK(t.type("bc\x1b[1~a\x1b[4~d\r") == Events { "abcd" });
    CHECK(t.type("abxc\x1b[D\x1b[D\x1b[3~\r") == Events { "abc" });
    // Modified keys (ESC [ 1 ; 5 C) are ignored whole: nothing inserted.
    CHECK(t.type("ab\x1b[1;5Cc\x1b[200~d\r") == Events { "abcd" });
    // A stray ESC, or a sequence cut short, does not eat Enter or Ctrl-C.
    CHECK(t.type("ls\x1b\r") == Events { "ls" });
    CHECK(t.type("ls\x1b[1\r") == Events { "ls" });
    CHECK(t.type("ls\x1bO\x03") == Events { "<cancel>" });
    // CR LF is one Enter; a lone LF is one too.
    CHECK(t.type("a\r\nb\n") == Events { "a", "b" });
    // Bytes outside ASCII and other control characters are dropped.
    CHECK(t.type("m\x80\xff"
                 "e\x04m\r")
        == Events { "mem" });
}
