// Turning a validated ModuleImage into a runnable image: copy the segments
// into place, then apply the relocations for the address the image will
// run at. Host-testable: `mapped` is any writable buffer, `load_address`
// the virtual address it will be visible at (they differ in the kernel,
// where the loader writes through a temporary mapping).
//
//     uint8_t* mapped = ...;                       // image.load_span() bytes
//     copy_segments(image, file, mapped);
//     TRY(apply_relocations(image, mapped, base, resolver, diagnostic));
//     // then: map each load segment with its flags, seal image.relro(),
//     // run init_array, call keel_module_init.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/elf/module_image.h"

namespace keel {

// Finds the address of an import (a symbol the module does not define): the
// kernel looks up symbol.name at symbol.version in the core's export table
// or in the module named symbol.version_file. An undefined weak symbol may
// resolve to 0. On failure, fill `diagnostic` and return the error (ENOENT
// for a missing symbol); apply_relocations() passes it on.
struct SymbolResolver {
    Result<uint64_t> (*resolve)(
        void* context, const ModuleImage::Symbol& symbol, uint32_t symbol_index, Diagnostic& diagnostic);
    void* context;
};

// Zeroes `mapped` (image.load_span() bytes: gaps and bss) and copies each
// load segment's file bytes to its vaddr. `file` is the buffer the image was
// parsed from.
void copy_segments(const ModuleImage& image, const uint8_t* file, uint8_t* mapped);

// Applies every relocation to `mapped` (image.load_span() bytes, filled by
// copy_segments) for an image running at `load_address`:
//   x86_64                AArch64
//   R_X86_64_RELATIVE     R_AARCH64_RELATIVE    B + A
//   R_X86_64_64           R_AARCH64_ABS64       S + A
//   R_X86_64_GLOB_DAT     R_AARCH64_GLOB_DAT    S (AArch64: S + A)
//   R_X86_64_JUMP_SLOT    R_AARCH64_JUMP_SLOT   S (AArch64: S + A)
//   R_X86_64_NONE         R_AARCH64_NONE        nothing
// where B is load_address and S a symbol's address: load_address + st_value
// for symbols the module defines (the resolver is not asked; modules use
// -fvisibility=hidden and bind to themselves), the resolver's answer for
// imports. Fails only when the resolver does; then the buffer is partly
// relocated and must be discarded.
Result<void> apply_relocations(const ModuleImage& image, uint8_t* mapped, uint64_t load_address,
    const SymbolResolver& resolver, Diagnostic& diagnostic);

} // namespace keel
