// The state of the console fuzzer's stand-ins (console_stubs.cpp).
#pragma once

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

// Output past this much, or this many looks at the input (cat checks per
// 512 bytes read, vfsbench per 4096 lookups), count as the user pressing
// Ctrl-C: long runs are the user's choice, not a finding.
inline constexpr size_t kConsoleOutputBudget = 1 << 20;
inline constexpr size_t kConsolePollBudget = 64;

struct ConsoleStubState {
    size_t output_bytes = 0;
    size_t polls = 0;
    uint64_t checksum = 0;
    int console_level = 7;
    uint64_t cycles = 0;
    int exit_code = -1; // poweroff's code; 1000 for reboot
    jmp_buf exit;       // where poweroff and reboot return to
};

extern ConsoleStubState g_console_stub;
