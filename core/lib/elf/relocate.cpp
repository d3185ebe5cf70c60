#include "lib/elf/relocate.h"

#include "lib/base/string.h"

namespace keel {

using namespace elf;

void copy_segments(const ModuleImage& image, const uint8_t* file, uint8_t* mapped)
{
    // Segments are sorted by address and do not overlap (parse checked), so
    // every byte of the span is written exactly once: file data where a
    // segment has it, then zeros in the gaps and in .bss. Data goes first:
    // under QEMU's TCG, stores to a page that still holds translated code
    // (a freed module's text) are slow until one of them overwrites that
    // code, and a module loaded again lands its text where it was.
    for (size_t i = 0; i < image.load_segment_count(); ++i) {
        ModuleImage::LoadSegment segment = image.load_segment(i);
        memcpy(mapped + segment.vaddr, file + segment.offset, segment.filesz);
    }
    uint64_t written = 0;
    for (size_t i = 0; i < image.load_segment_count(); ++i) {
        ModuleImage::LoadSegment segment = image.load_segment(i);
        memset(mapped + written, 0, segment.vaddr - written);
        written = segment.vaddr + segment.filesz;
    }
    memset(mapped + written, 0, image.load_span() - written);
}

namespace {

Result<uint64_t> symbol_address(const ModuleImage& image, const ModuleImage::Relocation& relocation,
    uint64_t load_address, const SymbolResolver& resolver, Diagnostic& diagnostic)
{
    ModuleImage::Symbol symbol = image.symbol(relocation.symbol);
    if (symbol.defined)
        return load_address + symbol.value;
    if (!resolver.resolve)
        return reject_with(Error::ENOENT, diagnostic, "relocation %lu in %s: import '%s' and no resolver",
            relocation.table_index, relocation.table, symbol.name);
    diagnostic.clear();
    auto address = resolver.resolve(resolver.context, symbol, relocation.symbol, diagnostic);
    if (address.is_error()) {
        if (diagnostic.message[0] == '\0')
            reject_with(address.error(), diagnostic, "relocation %lu in %s: import '%s'%s%s%s%s is not available (%s)",
                relocation.table_index, relocation.table, symbol.name, symbol.version ? " version " : "",
                symbol.version ? symbol.version : "", symbol.version_file ? " from " : "",
                symbol.version_file ? symbol.version_file : "", error_name(address.error()));
        return Err(address.error());
    }
    return address.value();
}

// Everything but RELATIVE: decoded, with imports resolved.
Result<void> apply_decoded(const ModuleImage& image, const ModuleImage::Relocation& relocation, uint8_t* mapped,
    uint64_t load_address, bool slot_addend, const SymbolResolver& resolver, Diagnostic& diagnostic)
{
    // Unsigned arithmetic: addresses wrap like the CPU's, with no UB.
    uint64_t value;
    switch (relocation.kind) {
    case RelocationKind::None: return {};
    case RelocationKind::Relative: value = load_address + uint64_t(relocation.addend); break;
    case RelocationKind::Absolute64:
        value
            = TRY(symbol_address(image, relocation, load_address, resolver, diagnostic)) + uint64_t(relocation.addend);
        break;
    case RelocationKind::GlobDat:
    case RelocationKind::JumpSlot:
        value = TRY(symbol_address(image, relocation, load_address, resolver, diagnostic));
        if (slot_addend)
            value += uint64_t(relocation.addend);
        break;
    case RelocationKind::Unsupported:
    default:
        // parse() refuses every other type; kept so a change there cannot
        // silently skip a relocation here.
        return reject(diagnostic, "relocation %lu in %s: unsupported type %s (%u)", relocation.table_index,
            relocation.table, relocation_type_name(image.machine(), relocation.type), relocation.type);
    }
    // parse() checked the 8 bytes lie in a writable segment, so inside the span.
    memcpy(mapped + relocation.offset, &value, sizeof(value));
    return {};
}

} // namespace

Result<void> apply_relocations(const ModuleImage& image, uint8_t* mapped, uint64_t load_address,
    const SymbolResolver& resolver, Diagnostic& diagnostic)
{
    diagnostic.clear();
    // x86_64's psABI defines GLOB_DAT and JUMP_SLOT as S (any addend is not
    // applied), AArch64's as S + A.
    const bool slot_addend = elf::find_module_machine(image.machine())->slot_addend;
    const uint64_t relative_info = image.relative_info();
    for (int plt = 0; plt < 2; ++plt) {
        ModuleImage::RawRelocations table = image.raw_relocations(plt != 0);
        for (uint64_t k = 0; k < table.count; ++k) {
            Rela raw;
            memcpy(&raw, table.entries + k * sizeof(raw), sizeof(raw));
            // Most of a module's relocations are RELATIVE (B + A): written
            // straight from the entry. parse() checked every entry's 8 bytes
            // lie in a writable segment, so inside the span.
            if (raw.r_info == relative_info) {
                uint64_t value = load_address + uint64_t(raw.r_addend);
                memcpy(mapped + raw.r_offset, &value, sizeof(value));
                continue;
            }
            TRY(apply_decoded(
                image, image.relocation(table.first + k), mapped, load_address, slot_addend, resolver, diagnostic));
        }
    }
    return {};
}

} // namespace keel
