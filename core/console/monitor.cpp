// The monitor: a prompt on the serial console that reads lines with the
// line editor and runs the matching command.
#include "arch/irq.h"
#include "arch/serial.h"
#include "console/console.h"
#include "console/line_editor.h"
#include "lib/base/string.h"
#include "log/log.h"
#include "sched/thread.h"
#include "sync/interrupts.h"
#include "sync/wait_queue.h"

extern "C" const keel::ConsoleCommand __console_commands_start[];
extern "C" const keel::ConsoleCommand __console_commands_end[];

namespace keel {

namespace {

constexpr const char* kPrompt = "keel> ";
constexpr size_t kInputSize = 1024;

// Bytes from the serial interrupt to the monitor thread: single producer
// (the IRQ handler), single consumer (the monitor), interrupts off while
// either touches the indices.
uint8_t g_input[kInputSize];
size_t g_input_head = 0;
size_t g_input_tail = 0;
WaitQueue g_input_waiters;

void drain_serial_input()
{
    int byte;
    while ((byte = arch::serial_try_read()) >= 0) {
        size_t next = (g_input_head + 1) % kInputSize;
        if (next != g_input_tail) { // full: drop, the sender types too fast
            g_input[g_input_head] = uint8_t(byte);
            g_input_head = next;
        }
    }
    g_input_waiters.wake_all();
}

void serial_interrupt(arch::InterruptFrame&)
{
    drain_serial_input();
    arch::end_of_interrupt();
}

void editor_output(void*, const char* text, size_t length) { console_write(text, length); }

size_t complete_command(void*, const char* prefix, size_t length, char* out, size_t out_size)
{
    for (size_t i = 0; i < length; i++) {
        if (prefix[i] == ' ')
            return 0; // only command names complete
    }
    size_t matches = 0;
    size_t common = 0;
    for (const ConsoleCommand* command = console_commands_begin(); command != console_commands_end(); command++) {
        if (strncmp(command->name, prefix, length) != 0)
            continue;
        size_t name_length = strlen(command->name);
        if (matches == 0) {
            common = name_length < out_size - 1 ? name_length : out_size - 1;
            memcpy(out, command->name, common);
        } else {
            size_t i = 0;
            while (i < common && out[i] == command->name[i])
                i++;
            common = i;
        }
        matches++;
    }
    out[common] = '\0';
    return matches;
}

int monitor_thread(void*)
{
    static LineEditor editor(editor_output, nullptr, kPrompt);
    editor.set_completer(complete_command, nullptr);
    editor.print_prompt();
    for (;;) {
        int byte = console_read_byte();
        switch (editor.feed(uint8_t(byte))) {
        case LineEditor::Event::Line: {
            static char line[LineEditor::kMaxLine + 1];
            memcpy(line, editor.line(), strlen(editor.line()) + 1);
            console_execute(line);
            editor.print_prompt();
            break;
        }
        case LineEditor::Event::TooLong:
            console_print("console: line longer than %zu bytes; nothing run\n", LineEditor::kMaxLine);
            editor.print_prompt();
            break;
        case LineEditor::Event::Cancel: editor.print_prompt(); break;
        case LineEditor::Event::None: break;
        }
    }
}

} // namespace

const ConsoleCommand* console_commands_begin() { return __console_commands_start; }
const ConsoleCommand* console_commands_end() { return __console_commands_end; }

int console_read_byte()
{
    InterruptDisabler no_interrupts;
    while (g_input_head == g_input_tail)
        g_input_waiters.sleep_locked();
    uint8_t byte = g_input[g_input_tail];
    g_input_tail = (g_input_tail + 1) % kInputSize;
    return byte;
}

bool console_interrupted()
{
    InterruptDisabler no_interrupts;
    for (size_t at = g_input_tail; at != g_input_head; at = (at + 1) % kInputSize) {
        if (g_input[at] == 0x03) {
            g_input_tail = (at + 1) % kInputSize;
            return true;
        }
    }
    return false;
}

void console_start()
{
    arch::serial_attach_interrupt(serial_interrupt);
    arch::serial_enable_rx_interrupt();
    // Bytes that arrived before the interrupt was enabled.
    {
        InterruptDisabler no_interrupts;
        drain_serial_input();
    }
    auto thread = thread_create("monitor", monitor_thread, nullptr);
    if (thread.is_error()) {
        log_err("console: cannot start the monitor (%s)", error_name(thread.error()));
        return;
    }
    thread_detach(thread.value());
}

} // namespace keel
