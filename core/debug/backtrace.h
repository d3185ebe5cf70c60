// Frame-pointer backtraces, symbolized with the kernel's embedded symbol
// table (and, through the symbolizer hook, with loaded modules' symbols).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

// Print "  [<address>] function+0xoff/0xsize" lines to the console for
// `rip` and then the frame chain starting at `rbp`.
void print_backtrace(uint64_t rip, uint64_t rbp);

// Describe one address: "function+0x1c/0x80" or "module:function+0x10"
// into `buffer`; returns false when nothing is known about it.
bool symbolize(uint64_t address, char* buffer, size_t size);

// Loaded modules register a symbolizer so faults inside them name
// module+offset and the nearest module symbol.
using Symbolizer = bool (*)(uint64_t address, char* buffer, size_t size);
void set_module_symbolizer(Symbolizer symbolizer);

// The loader registers a printer for "Modules linked in: ..." in oopses.
using ModuleLister = void (*)();
void set_module_lister(ModuleLister lister);
void print_loaded_modules();

// The kernel's own symbol table (embedded at link time). `name` as the table
// stores it: without the keel:: namespace ("vfs::walk", "kernel_main").
bool kernel_symbol_address(const char* name, uint64_t& address);

} // namespace keel
