// Running one console line: split it into words, find the command, check
// what every command may rely on, call it. Builds for the kernel and for
// the host, where the console fuzzer runs the commands on the host VFS.
#include "console/console.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"

namespace keel {

const ConsoleCommand* find_console_command(const char* name)
{
    for (const ConsoleCommand* command = console_commands_begin(); command != console_commands_end(); command++) {
        if (strcmp(command->name, name) == 0)
            return command;
    }
    return nullptr;
}

int console_execute(char* line)
{
    // A typed line never has more words than this (one byte and a space
    // each); a longer line handed in by other means is refused whole.
    const char* words[kConsoleMaxWords + 1];
    auto count = split_words(line, words, kConsoleMaxWords + 1);
    if (count.is_error()) {
        console_print("console: more than %zu words; nothing run\n", kConsoleMaxWords);
        return 2;
    }
    if (count.value() == 0)
        return 0;
    char** argv = const_cast<char**>(words);
    const ConsoleCommand* command = find_console_command(argv[0]);
    if (!command) {
        console_print("%s: command not found (try 'help')\n", argv[0]);
        return 127;
    }
    if (command->usage[0] == '\0' && count.value() > 1) {
        console_print("%s: takes no arguments\n", argv[0]);
        return 2;
    }
    return command->run(int(count.value()), argv);
}

} // namespace keel
