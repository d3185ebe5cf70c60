// The kernel console ("monitor") on the serial line.
//
// Adding a command is one definition in any kernel source file, with no
// table to edit: the linker collects every KEEL_CONSOLE_COMMAND into the
// .console_commands section, sorted by name.
//
//     static int uptime_command(int argc, char** argv) { ... return 0; }
//     KEEL_CONSOLE_COMMAND(uptime, "uptime", "", "show time since boot", uptime_command);
#pragma once

#include <stddef.h>

#include "console/line_editor.h"

namespace keel {

// The limits a user meets at the prompt (docs/console.md): a line of at
// most kConsoleMaxLine bytes (a longer one is refused whole), so at most
// kConsoleMaxWords words, the command's name included.
inline constexpr size_t kConsoleMaxLine = LineEditor::kMaxLine;
inline constexpr size_t kConsoleMaxWords = (kConsoleMaxLine + 1) / 2;

struct ConsoleCommand {
    const char* name;
    const char* usage;                 // arguments, e.g. "[code]"
    const char* help;                  // one line
    int (*run)(int argc, char** argv); // 0 on success
};

// In the kernel the linker script sorts the commands by section name; a
// host build (the console fuzzer) collects them unsorted in one section
// that the linker brackets with __start_/__stop_ symbols, unpadded by the
// address sanitizer.
#if KEEL_HOST
#define KEEL_CONSOLE_COMMAND(ident, name_, usage_, help_, function_)                                                   \
    [[gnu::used, gnu::section("keel_console_commands"),                                                                \
        clang::no_sanitize("address")]] static const ::keel::ConsoleCommand keel_console_command_##ident               \
        = { name_, usage_, help_, function_ }
#else
#define KEEL_CONSOLE_COMMAND(ident, name_, usage_, help_, function_)                                                   \
    [[gnu::used,                                                                                                       \
        gnu::section(".console_commands." #ident)]] static const ::keel::ConsoleCommand keel_console_command_##ident   \
        = { name_, usage_, help_, function_ }
#endif

// Start the monitor thread (after the scheduler and interrupts are up).
void console_start();

// The registered commands, sorted by name.
const ConsoleCommand* console_commands_begin();
const ConsoleCommand* console_commands_end();
const ConsoleCommand* find_console_command(const char* name);

// Run one command line as if typed (tests, scripted boots). The line is
// split in place. More than kConsoleMaxWords words, or arguments to a
// command whose usage is empty, are refused with a message and status 2
// before any command runs; an unknown command gives 127.
int console_execute(char* line);

// Wait for a byte from the console input (the serial IRQ feeds it).
int console_read_byte();

// Has Ctrl-C been typed since the command started? Consumes the input up
// to and including it. Commands that can run for long (cat of a large
// file, vfsbench) check it and stop.
bool console_interrupted();

} // namespace keel
