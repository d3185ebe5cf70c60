#include "elf_test_support.h"

#include <stdio.h>
#include <stdlib.h>

namespace elf_test {

using namespace keel::elf;

namespace {

[[noreturn]] void fail(const char* what)
{
    fprintf(stderr, "elf_test: %s\n", what);
    abort();
}

} // namespace

Bytes load_module(const char* name)
{
    const char* directory = getenv("KEEL_ELF_TEST_DIR");
    if (!directory)
        fail("KEEL_ELF_TEST_DIR is not set (run the test through meson test)");
    std::string path = std::string(directory) + "/" + name;
    FILE* file = fopen(path.c_str(), "rb");
    if (!file)
        fail(("cannot open " + path).c_str());
    Bytes bytes;
    uint8_t chunk[4096];
    size_t count;
    while ((count = fread(chunk, 1, sizeof(chunk), file)) > 0)
        bytes.insert(bytes.end(), chunk, chunk + count);
    fclose(file);
    return bytes;
}

size_t ElfEditor::phdr_offset(size_t index) const { return header().e_phoff + index * sizeof(Phdr); }

size_t ElfEditor::find_phdr(uint32_t type, size_t nth) const
{
    for (size_t i = 0; i < header().e_phnum; ++i) {
        if (phdr(i).p_type == type && nth-- == 0)
            return i;
    }
    fail("program header not found");
}

size_t ElfEditor::vaddr_to_offset(uint64_t vaddr) const
{
    for (size_t i = 0; i < header().e_phnum; ++i) {
        Phdr segment = phdr(i);
        if (segment.p_type == PT_LOAD && vaddr >= segment.p_vaddr && vaddr < segment.p_vaddr + segment.p_filesz)
            return segment.p_offset + (vaddr - segment.p_vaddr);
    }
    fail("vaddr not in the file");
}

size_t ElfEditor::find_dynamic(int64_t tag) const
{
    size_t offset = phdr(find_phdr(PT_DYNAMIC)).p_offset;
    for (;; offset += sizeof(Dyn)) {
        Dyn entry = get<Dyn>(offset);
        if (entry.d_tag == tag)
            return offset;
        if (entry.d_tag == DT_NULL)
            fail("dynamic tag not found");
    }
}

uint64_t ElfEditor::dynamic_value(int64_t tag) const { return get<Dyn>(find_dynamic(tag)).d_val; }

size_t ElfEditor::symbol_offset(uint32_t index) const
{
    return vaddr_to_offset(dynamic_value(DT_SYMTAB)) + index * sizeof(Sym);
}

size_t ElfEditor::rela_offset(uint64_t index) const
{
    return vaddr_to_offset(dynamic_value(DT_RELA)) + index * sizeof(Rela);
}

size_t ElfEditor::jmprel_offset(uint64_t index) const
{
    return vaddr_to_offset(dynamic_value(DT_JMPREL)) + index * sizeof(Rela);
}

size_t ElfEditor::versym_offset(uint32_t index) const { return vaddr_to_offset(dynamic_value(DT_VERSYM)) + index * 2; }

size_t ElfEditor::find_section(const char* name) const
{
    Ehdr ehdr = header();
    Shdr names = get<Shdr>(ehdr.e_shoff + ehdr.e_shstrndx * sizeof(Shdr));
    for (size_t i = 0; i < ehdr.e_shnum; ++i) {
        size_t offset = ehdr.e_shoff + i * sizeof(Shdr);
        Shdr section = get<Shdr>(offset);
        if (strcmp(reinterpret_cast<const char*>(m_bytes.data() + names.sh_offset + section.sh_name), name) == 0)
            return offset;
    }
    fail("section not found");
}

size_t ElfEditor::find_modinfo_note(const char* prefix) const
{
    Phdr notes = phdr(find_phdr(PT_NOTE));
    for (size_t offset = notes.p_offset; offset < notes.p_offset + notes.p_filesz;) {
        Nhdr note = get<Nhdr>(offset);
        size_t desc = offset + sizeof(Nhdr) + ((note.n_namesz + 3) & ~3u);
        if (note.n_namesz == 5 && memcmp(m_bytes.data() + offset + sizeof(Nhdr), "Keel", 5) == 0
            && strncmp(reinterpret_cast<const char*>(m_bytes.data() + desc), prefix, strlen(prefix)) == 0)
            return offset;
        offset = desc + ((note.n_descsz + 3) & ~3u);
    }
    fail("modinfo note not found");
}

namespace {

void check(bool condition, const char* what)
{
    if (!condition)
        fail(what);
}

size_t checked_strlen(const char* text)
{
    check(text != nullptr, "null string");
    return strlen(text);
}

} // namespace

size_t walk_image(const keel::ModuleImage& image)
{
    using keel::ModuleImage;
    size_t work = 0;
    uint64_t previous_end = 0;
    for (size_t i = 0; i < image.load_segment_count(); ++i) {
        ModuleImage::LoadSegment segment = image.load_segment(i);
        check(segment.vaddr >= previous_end, "segments overlap");
        check(segment.filesz <= segment.memsz, "filesz > memsz");
        check(segment.offset + segment.filesz <= image.file_size(), "segment outside the file");
        check(segment.vaddr + segment.memsz <= image.load_span(), "segment outside the span");
        check(!(segment.writable() && segment.executable()), "W+X segment");
        previous_end = segment.vaddr + segment.memsz;
        ++work;
    }
    check(image.load_span() <= ModuleImage::kMaxLoadSpan, "span over the limit");
    ModuleImage::Range relro = image.relro();
    check(relro.start <= relro.end && relro.end <= image.load_span(), "RELRO outside the span");
    if (image.soname())
        work += checked_strlen(image.soname());
    size_t needed = 0;
    image.for_each_needed([&](const char* name) {
        work += checked_strlen(name);
        ++needed;
    });
    check(needed == image.needed_count(), "needed count");
    for (uint32_t i = 0; i < image.symbol_count(); ++i) {
        ModuleImage::Symbol symbol = image.symbol(i);
        work += checked_strlen(symbol.name);
        if (symbol.version)
            work += checked_strlen(symbol.version);
        if (symbol.version_file)
            work += checked_strlen(symbol.version_file);
        // A hostile hash table may hide a symbol; whatever a lookup finds
        // must still be a defined symbol of that name.
        auto found = image.find_defined_symbol(symbol.name, symbol.version);
        if (found.is_ok()) {
            check(found.value() < image.symbol_count(), "lookup index");
            ModuleImage::Symbol match = image.symbol(found.value());
            check(match.defined && strcmp(match.name, symbol.name) == 0, "lookup by name");
        }
    }
    image.for_each_version_definition(
        [&](const ModuleImage::VersionDefinition& definition) { work += checked_strlen(definition.name); });
    image.for_each_version_need(
        [&](const ModuleImage::VersionNeed& need) { work += checked_strlen(need.file) + checked_strlen(need.name); });
    image.for_each_relocation([&](const ModuleImage::Relocation& relocation) {
        check(relocation.offset + 8 <= image.load_span() || relocation.type == R_X86_64_NONE, "relocation outside");
        check(relocation.symbol < image.symbol_count() || relocation.symbol == 0, "relocation symbol");
        ++work;
    });
    image.for_each_modinfo([&](const ModuleImage::ModinfoEntry& entry) {
        check(entry.key_length > 0 && entry.key[entry.key_length] == '=', "modinfo key");
        work += checked_strlen(entry.value);
    });
    check(image.modinfo("name") != nullptr, "modinfo name");
    for (size_t i = 0; i < image.kabi_count(); ++i) {
        ModuleImage::KabiEntry entry = image.kabi_entry(i);
        work += checked_strlen(entry.name) + checked_strlen(entry.node);
        ModuleImage::KabiEntry found;
        check(image.find_kabi_entry(entry.name, entry.node, found), "kabi lookup");
    }
    ModuleImage::PointerArray init = image.init_array();
    ModuleImage::PointerArray fini = image.fini_array();
    check(init.count == 0 || init.vaddr + init.count * 8 <= image.load_span(), "init_array outside");
    check(fini.count == 0 || fini.vaddr + fini.count * 8 <= image.load_span(), "fini_array outside");
    return work;
}

namespace {

keel::Result<uint64_t> invent_address(void*, const keel::ModuleImage::Symbol& symbol, uint32_t index, keel::Diagnostic&)
{
    checked_strlen(symbol.name);
    if (symbol.bind == STB_WEAK)
        return uint64_t(0);
    return 0xffffffffc0000000 + uint64_t(index) * 16;
}

} // namespace

keel::Result<void> load_into_buffer(const keel::ModuleImage& image, const Bytes& file, uint64_t load_address)
{
    // Exact size, so ASan catches any write past the span.
    Bytes mapped(image.load_span());
    keel::copy_segments(image, file.data(), mapped.data());
    keel::Diagnostic diagnostic;
    keel::SymbolResolver resolver { invent_address, nullptr };
    return keel::apply_relocations(image, mapped.data(), load_address, resolver, diagnostic);
}

} // namespace elf_test
