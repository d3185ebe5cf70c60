#include "debug/backtrace.h"

#include "arch/memory_layout.h"
#include "debug/ksyms.h"
#include "lib/base/format.h"
#include "log/log.h"

extern "C" const char __ksyms_start[];
extern "C" const char __ksyms_end[];

namespace keel {

namespace {

constexpr int kMaxFrames = 32;
Symbolizer g_module_symbolizer = nullptr;

const SymbolTable* kernel_symbols()
{
    static SymbolTable table;
    static bool parsed = false;
    static bool valid = false;
    if (!parsed) {
        parsed = true;
        auto result = SymbolTable::parse(__ksyms_start, size_t(__ksyms_end - __ksyms_start));
        if (result.is_ok()) {
            table = result.release_value();
            valid = true;
        }
    }
    return valid ? &table : nullptr;
}

// A frame pointer we are willing to dereference: aligned and inside kernel
// memory (the direct map, the vmalloc region or the kernel image), so a
// corrupted chain ends the walk instead of faulting inside a panic.
bool plausible_frame(uint64_t rbp)
{
    if (rbp == 0 || (rbp & 7) != 0)
        return false;
    bool in_direct_map = rbp >= arch::kDirectMapBase && rbp < arch::kDirectMapBase + arch::kDirectMapMax;
    bool in_vmalloc = rbp >= arch::kVmallocBase && rbp < arch::kVmallocBase + arch::kVmallocSize;
    bool in_image = rbp >= arch::kKernelVirtBase && rbp < 0xfffffffffffff000;
    return in_direct_map || in_vmalloc || in_image;
}

void print_frame(uint64_t address)
{
    char description[160];
    if (symbolize(address, description, sizeof(description)))
        console_print("  [<%016llx>] %s\n", (unsigned long long)address, description);
    else
        console_print("  [<%016llx>] ?\n", (unsigned long long)address);
}

} // namespace

bool symbolize(uint64_t address, char* buffer, size_t size)
{
    if (const SymbolTable* table = kernel_symbols()) {
        SymbolInfo info;
        if (table->lookup(address, info)) {
            format(buffer, size, "%s+0x%llx/0x%llx", info.name, (unsigned long long)info.offset,
                (unsigned long long)info.size);
            return true;
        }
    }
    if (g_module_symbolizer)
        return g_module_symbolizer(address, buffer, size);
    return false;
}

void print_backtrace(uint64_t rip, uint64_t rbp)
{
    console_print("Call Trace:\n");
    print_frame(rip);
    for (int depth = 0; depth < kMaxFrames && plausible_frame(rbp); depth++) {
        auto* frame = reinterpret_cast<const uint64_t*>(rbp);
        uint64_t return_address = frame[1];
        if (return_address == 0)
            break;
        // Return addresses point after the call; step back into it so the
        // line names the calling function even when the call is its last
        // instruction.
        print_frame(return_address - 1);
        // Interrupt entry links to the interrupted frame, which may live on
        // another stack, so the chain need not grow monotonically; the depth
        // limit ends a corrupted loop.
        rbp = frame[0];
    }
}

void set_module_symbolizer(Symbolizer symbolizer) { g_module_symbolizer = symbolizer; }

namespace {
ModuleLister g_module_lister = nullptr;
}

void set_module_lister(ModuleLister lister) { g_module_lister = lister; }

void print_loaded_modules()
{
    if (g_module_lister)
        g_module_lister();
}

bool kernel_symbol_address(const char* name, uint64_t& address)
{
    const SymbolTable* table = kernel_symbols();
    if (!table)
        return false;
    auto result = table->find(name);
    if (result.is_error())
        return false;
    address = result.value();
    return true;
}

} // namespace keel
