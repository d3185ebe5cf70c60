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

namespace keel {

struct ConsoleCommand {
    const char* name;
    const char* usage;                 // arguments, e.g. "[code]"
    const char* help;                  // one line
    int (*run)(int argc, char** argv); // 0 on success
};

#define KEEL_CONSOLE_COMMAND(ident, name_, usage_, help_, function_)                                                   \
    [[gnu::used,                                                                                                       \
        gnu::section(".console_commands." #ident)]] static const ::keel::ConsoleCommand keel_console_command_##ident   \
        = { name_, usage_, help_, function_ }

// Start the monitor thread (after the scheduler and interrupts are up).
void console_start();

// The registered commands, sorted by name.
const ConsoleCommand* console_commands_begin();
const ConsoleCommand* console_commands_end();
const ConsoleCommand* find_console_command(const char* name);

// Run one command line as if typed (tests, scripted boots).
int console_execute(char* line);

// Wait for a byte from the console input (the serial IRQ feeds it).
int console_read_byte();

} // namespace keel
