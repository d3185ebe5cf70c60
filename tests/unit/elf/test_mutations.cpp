// Hostile input: the real modules with one field corrupted at a time, every
// truncation, and random byte flips. parse() must refuse with ENOEXEC and a
// message naming the field and its value, and never crash (ASan, UBSan).
#include <catch2/catch.hpp>

#include <stddef.h>
#include <string.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "elf_test_support.h"
#include "lib/elf/module_image.h"

using elf_test::Bytes;
using elf_test::ElfEditor;
using keel::Diagnostic;
using keel::Error;
using keel::ModuleImage;
using namespace keel::elf;

namespace {

struct Mutation {
    const char* what;
    const char* module;
    std::function<void(ElfEditor&)> mutate;
    std::vector<const char*> expected; // substrings of the message
};

size_t field(size_t base, size_t member_offset) { return base + member_offset; }

#define PHDR_FIELD(editor, index, member) field((editor).phdr_offset(index), offsetof(Phdr, member))
#define EHDR_FIELD(member) offsetof(Ehdr, member)

// The first relocation of a table with the given type.
size_t find_rela(ElfEditor& editor, uint32_t type)
{
    uint64_t count = editor.dynamic_value(DT_RELASZ) / sizeof(Rela);
    for (uint64_t i = 0; i < count; ++i) {
        if (relocation_type(editor.get<Rela>(editor.rela_offset(i)).r_info) == type)
            return editor.rela_offset(i);
    }
    FAIL("no relocation of that type");
    return 0;
}

void set_rela_type(ElfEditor& editor, size_t offset, uint32_t type)
{
    Rela rela = editor.get<Rela>(offset);
    rela.r_info = (rela.r_info & ~uint64_t(0xffffffff)) | type;
    editor.put(offset, rela);
}

// Index of the first defined or undefined symbol.
uint32_t find_symbol(ElfEditor& editor, bool defined)
{
    for (uint32_t i = 1;; ++i) {
        if ((editor.get<Sym>(editor.symbol_offset(i)).st_shndx != SHN_UNDEF) == defined)
            return i;
    }
}

// Overwrites the dependency name "test.kmod" in test_cpp.kmod's string
// table with `text` (at most as long, NUL-padded).
void set_dependency_name(ElfEditor& editor, const char* text)
{
    size_t strtab = editor.vaddr_to_offset(editor.dynamic_value(DT_STRTAB));
    const Bytes& bytes = editor.bytes();
    static const char kOld[] = "test.kmod";
    for (size_t at = strtab; at + sizeof(kOld) <= bytes.size(); ++at) {
        if (memcmp(&bytes[at], kOld, sizeof(kOld)) == 0 && (at == strtab || bytes[at - 1] == 0)) {
            char replacement[sizeof(kOld)] = {};
            memcpy(replacement, text, strlen(text));
            memcpy(&editor.bytes()[at], replacement, sizeof(kOld));
            return;
        }
    }
    FAIL("no DT_NEEDED test.kmod");
}

const std::vector<Mutation>& mutations()
{
    static const std::vector<Mutation> list = {
        { "ELF class", "test.kmod", [](ElfEditor& e) { e.put<uint8_t>(EI_CLASS, 1); }, { "EI_CLASS", "1" } },
        { "magic", "test.kmod", [](ElfEditor& e) { e.put<uint8_t>(1, 'X'); }, { "magic", "7f 58 4c 46" } },
        { "e_machine", "test.kmod", [](ElfEditor& e) { e.put<uint16_t>(EHDR_FIELD(e_machine), 3); },
            { "e_machine 3", "EM_X86_64 (62) or EM_AARCH64 (183)" } },
        { "e_type", "test.kmod", [](ElfEditor& e) { e.put<uint16_t>(EHDR_FIELD(e_type), 2); },
            { "e_type 2", "ET_DYN" } },
        { "e_phoff beyond the file", "test.kmod", [](ElfEditor& e) { e.put<uint64_t>(EHDR_FIELD(e_phoff), 0x100000); },
            { "e_phoff 0x100000", "file size" } },
        { "e_phnum huge", "test.kmod", [](ElfEditor& e) { e.put<uint16_t>(EHDR_FIELD(e_phnum), 60000); },
            { "e_phnum 60000", "limit" } },
        { "e_phnum PN_XNUM", "test.kmod", [](ElfEditor& e) { e.put<uint16_t>(EHDR_FIELD(e_phnum), 0xffff); },
            { "PN_XNUM" } },
        { "e_phentsize", "test.kmod", [](ElfEditor& e) { e.put<uint16_t>(EHDR_FIELD(e_phentsize), 32); },
            { "e_phentsize 32" } },
        { "PT_LOAD writable and executable", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(PHDR_FIELD(e, e.find_phdr(PT_LOAD, 1), p_flags), PF_R | PF_W | PF_X); },
            { "PT_LOAD", "segment 1 is writable and executable" } },
        { "PT_LOAD p_offset beyond the file", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(PHDR_FIELD(e, e.find_phdr(PT_LOAD, 1), p_offset), 0x201000); },
            { "program header 2 (PT_LOAD): p_offset 0x201000 + p_filesz", "exceeds file size" } },
        { "PT_LOAD p_filesz over p_memsz", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(PHDR_FIELD(e, e.find_phdr(PT_LOAD, 1), p_filesz), 0x200000); },
            { "(PT_LOAD)", "p_filesz 0x200000 exceeds p_memsz" } },
        { "null symbol not null", "test.kmod", [](ElfEditor& e) { e.put<uint32_t>(e.symbol_offset(0), 0x7fff0000); },
            { "symbol 0" } },
        { "PT_LOAD p_memsz past the span limit", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(PHDR_FIELD(e, e.find_phdr(PT_LOAD, 2), p_memsz), 0xfffffffffffff000); },
            { "p_memsz 0xfffffffffffff000", "load span limit" } },
        { "PT_LOAD p_align", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(PHDR_FIELD(e, e.find_phdr(PT_LOAD, 0), p_align), 0x1001); },
            { "p_align 0x1001" } },
        { "PT_LOAD out of order", "test.kmod",
            [](ElfEditor& e) {
                // A page lower keeps p_offset and p_vaddr congruent but lands on the previous segment's page.
                size_t vaddr = PHDR_FIELD(e, e.find_phdr(PT_LOAD, 2), p_vaddr);
                e.put<uint64_t>(vaddr, e.get<uint64_t>(vaddr) - 0x1000);
            },
            { "overlaps the previous PT_LOAD" } },
        { "PT_INTERP", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(PHDR_FIELD(e, e.find_phdr(PT_GNU_STACK), p_type), PT_INTERP); },
            { "(PT_INTERP)", "no interpreter" } },
        { "PT_TLS", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(PHDR_FIELD(e, e.find_phdr(PT_GNU_STACK), p_type), PT_TLS); },
            { "(PT_TLS)", "thread-local storage is not supported" } },
        { "unknown segment type", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(PHDR_FIELD(e, e.find_phdr(PT_GNU_STACK), p_type), 0x60000123); },
            { "segment type unknown (0x60000123)" } },
        { "second PT_DYNAMIC", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(PHDR_FIELD(e, e.find_phdr(PT_GNU_STACK), p_type), PT_DYNAMIC); },
            { "2 PT_DYNAMIC" } },
        { "executable stack", "test.kmod",
            [](ElfEditor& e) {
                e.put<uint32_t>(PHDR_FIELD(e, e.find_phdr(PT_GNU_STACK), p_flags), PF_R | PF_W | PF_X);
            },
            { "PT_GNU_STACK", "executable stacks" } },
        { "PT_GNU_RELRO outside writable data", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(PHDR_FIELD(e, e.find_phdr(PT_GNU_RELRO), p_vaddr), 0x1000); },
            { "PT_GNU_RELRO", "p_vaddr 0x1000", "not inside a writable PT_LOAD" } },
        { "DT_TEXTREL", "test.kmod", [](ElfEditor& e) { e.put<int64_t>(e.find_dynamic(DT_FLAGS_1), DT_TEXTREL); },
            { "dynamic tag DT_TEXTREL: text relocations are not allowed" } },
        { "DF_TEXTREL", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(e.find_dynamic(DT_FLAGS) + 8, e.dynamic_value(DT_FLAGS) | DF_TEXTREL); },
            { "DT_FLAGS", "DF_TEXTREL" } },
        { "DT_REL", "test.kmod", [](ElfEditor& e) { e.put<int64_t>(e.find_dynamic(DT_FLAGS_1), DT_REL); },
            { "dynamic tag DT_REL:", "RELA" } },
        { "DT_INIT", "test.kmod", [](ElfEditor& e) { e.put<int64_t>(e.find_dynamic(DT_FLAGS_1), DT_INIT); },
            { "dynamic tag DT_INIT:" } },
        { "unknown dynamic tag", "test.kmod",
            [](ElfEditor& e) { e.put<int64_t>(e.find_dynamic(DT_FLAGS_1), 0x6ffffe00); },
            { "dynamic tag unknown (0x6ffffe00)" } },
        { "duplicate dynamic tag", "test.kmod",
            [](ElfEditor& e) { e.put<int64_t>(e.find_dynamic(DT_FLAGS_1), DT_SYMTAB); },
            { "DT_SYMTAB appears more than once" } },
        { "DT_PLTREL is DT_REL", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(e.find_dynamic(DT_PLTREL) + 8, uint64_t(DT_REL)); },
            { "DT_PLTREL 17" } },
        { "DT_RELAENT", "test.kmod", [](ElfEditor& e) { e.put<uint64_t>(e.find_dynamic(DT_RELAENT) + 8, 16); },
            { "DT_RELAENT 16" } },
        { "DT_RELASZ beyond the file", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(e.find_dynamic(DT_RELASZ) + 8, 24 * 100000); }, { "DT_RELASZ 0x" } },
        { "relocation type R_X86_64_PC32", "test.kmod",
            [](ElfEditor& e) { set_rela_type(e, find_rela(e, R_X86_64_RELATIVE), R_X86_64_PC32); },
            { "in DT_RELA: unsupported type R_X86_64_PC32 (2)" } },
        { "relocation type R_X86_64_TPOFF64", "test.kmod",
            [](ElfEditor& e) { set_rela_type(e, find_rela(e, R_X86_64_GLOB_DAT), R_X86_64_TPOFF64); },
            { "unsupported type R_X86_64_TPOFF64 (18)" } },
        { "relocation type unknown", "test.kmod",
            [](ElfEditor& e) { set_rela_type(e, find_rela(e, R_X86_64_64), 200); },
            { "unsupported type unknown (200)" } },
        { "PLT relocation type", "test.kmod",
            [](ElfEditor& e) { set_rela_type(e, e.jmprel_offset(0), R_X86_64_IRELATIVE); },
            { "relocation 0 in DT_JMPREL", "R_X86_64_IRELATIVE (37)" } },
        { "relocation into code", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(find_rela(e, R_X86_64_RELATIVE), 0x1000); },
            { "r_offset 0x1000", "not inside a writable PT_LOAD" } },
        { "relocation past the end of a segment", "test.kmod",
            [](ElfEditor& e) {
                Phdr last = e.phdr(e.find_phdr(PT_LOAD, 3));
                e.put<uint64_t>(find_rela(e, R_X86_64_RELATIVE), last.p_vaddr + last.p_memsz - 4);
            },
            { "(8 bytes) is not inside a writable PT_LOAD" } },
        { "relocation symbol out of range", "test.kmod",
            [](ElfEditor& e) {
                size_t offset = find_rela(e, R_X86_64_64);
                e.put<uint64_t>(offset + 8, (uint64_t(9999) << 32) | R_X86_64_64);
            },
            { "symbol index 9999 is out of range" } },
        { "RELATIVE with a symbol", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(find_rela(e, R_X86_64_RELATIVE) + 8, (uint64_t(1) << 32) | 8); },
            { "R_X86_64_RELATIVE has symbol 1" } },
        { "symbol name offset out of range", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.symbol_offset(1), 0xffff); },
            { "symbol 1", "name offset 0xffff", "outside DT_STRTAB" } },
        { "DT_STRSZ too small for the names", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(e.find_dynamic(DT_STRSZ) + 8, 4); },
            { "outside DT_STRTAB (DT_STRSZ 0x4)" } },
        { "DT_STRSZ beyond the file", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(e.find_dynamic(DT_STRSZ) + 8, 0x10000000); },
            { "DT_STRSZ 0x10000000", "not file data of a PT_LOAD" } },
        { "symbol type STT_TLS", "test.kmod",
            [](ElfEditor& e) {
                size_t offset = e.symbol_offset(find_symbol(e, true)) + offsetof(Sym, st_info);
                e.put<uint8_t>(offset, uint8_t((STB_GLOBAL << 4) | STT_TLS));
            },
            { "STT_TLS" } },
        { "symbol type STT_GNU_IFUNC", "test.kmod",
            [](ElfEditor& e) {
                size_t offset = e.symbol_offset(find_symbol(e, true)) + offsetof(Sym, st_info);
                e.put<uint8_t>(offset, uint8_t((STB_GLOBAL << 4) | STT_GNU_IFUNC));
            },
            { "STT_GNU_IFUNC" } },
        { "symbol outside the image", "test.kmod",
            [](ElfEditor& e) {
                e.put<uint64_t>(e.symbol_offset(find_symbol(e, true)) + offsetof(Sym, st_value), 0x900000);
            },
            { "st_value 0x900000", "not inside a PT_LOAD" } },
        { "absolute symbol", "test.kmod",
            [](ElfEditor& e) {
                e.put<uint16_t>(e.symbol_offset(find_symbol(e, true)) + offsetof(Sym, st_shndx), SHN_ABS);
            },
            { "st_shndx 0xfff1" } },
        { "versym index unknown", "test.kmod",
            [](ElfEditor& e) { e.put<uint16_t>(e.versym_offset(find_symbol(e, false)), 9); },
            { "version index 9", "neither DT_VERDEF nor DT_VERNEED" } },
        { "import with the module's own version", "test.kmod",
            [](ElfEditor& e) {
                uint32_t defined = find_symbol(e, true);
                e.put<uint16_t>(e.versym_offset(find_symbol(e, false)), e.get<uint16_t>(e.versym_offset(defined)));
            },
            { "is undefined but its version index", "TESTMOD_1.0" } },
        { "vn_next cycle (VERNEEDNUM larger than the chain)", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(e.find_dynamic(DT_VERNEEDNUM) + 8, 5); },
            { "DT_VERNEED entry 0: vn_next is 0", "cycle" } },
        { "vn_next cycle back to itself", "test_cpp.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.verneed_offset() + offsetof(Verneed, vn_next), 0); },
            { "vn_next is 0 but DT_VERNEEDNUM is 2" } },
        { "vn_next beyond the file", "test_cpp.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.verneed_offset() + offsetof(Verneed, vn_next), 0x7fffff00); },
            { "DT_VERNEED entry 1", "runs past the end of the file" } },
        { "more version nodes than the table of indices holds (one DT_VERNEED with 600)", "test.kmod",
            [](ElfEditor& e) {
                size_t need = e.verneed_offset();
                size_t first = need + e.get<uint32_t>(need + offsetof(Verneed, vn_aux));
                Vernaux version = e.get<Vernaux>(first);
                Bytes& bytes = e.bytes();
                while (bytes.size() % 16)
                    bytes.push_back(0);
                size_t start = bytes.size();
                constexpr uint16_t kCount = 600;
                bytes.resize(start + kCount * sizeof(Vernaux));
                for (uint16_t i = 0; i < kCount; ++i) {
                    version.vna_other = uint16_t(100 + i); // beyond the definitions' indices
                    version.vna_next = i + 1 < kCount ? sizeof(Vernaux) : 0;
                    e.put<Vernaux>(start + i * sizeof(Vernaux), version);
                }
                e.put<uint16_t>(need + offsetof(Verneed, vn_cnt), kCount);
                e.put<uint32_t>(need + offsetof(Verneed, vn_aux), uint32_t(start - need));
            },
            { "more than 512 version nodes" } },
        { "vn_file name", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.verneed_offset() + offsetof(Verneed, vn_file), 0x123456); },
            { "DT_VERNEED vn_file", "0x123456" } },
        { "vn_version", "test.kmod",
            [](ElfEditor& e) { e.put<uint16_t>(e.verneed_offset() + offsetof(Verneed, vn_version), 2); },
            { "vn_version 2" } },
        { "DT_GNU_HASH nbuckets 0", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.vaddr_to_offset(e.dynamic_value(DT_GNU_HASH)), 0); },
            { "DT_GNU_HASH: nbuckets is 0" } },
        { "DT_GNU_HASH symbol count over the limit", "test.kmod",
            [](ElfEditor& e) {
                size_t hash = e.vaddr_to_offset(e.dynamic_value(DT_GNU_HASH));
                size_t buckets = hash + 16 + e.get<uint32_t>(hash + 8) * 8;
                e.put<uint32_t>(buckets, 70000);
            },
            { "DT_GNU_HASH: the symbol count exceeds the limit of 65536" } },
        { "DT_GNU_HASH bucket below symoffset", "test.kmod",
            [](ElfEditor& e) {
                size_t hash = e.vaddr_to_offset(e.dynamic_value(DT_GNU_HASH));
                size_t buckets = hash + 16 + e.get<uint32_t>(hash + 8) * 8;
                e.put<uint32_t>(buckets, 1);
            },
            { "DT_GNU_HASH: bucket 0 starts at symbol 1, below symoffset" } },
        { "DT_SYMTAB without a hash table", "test.kmod",
            [](ElfEditor& e) { e.put<int64_t>(e.find_dynamic(DT_GNU_HASH), DT_DEBUG); },
            { "without DT_GNU_HASH or DT_HASH" } },
        { "DT_INIT_ARRAYSZ not a multiple of 8", "test_cpp.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(e.find_dynamic(DT_INIT_ARRAYSZ) + 8, 12); }, { "DT_INIT_ARRAYSZ 0xc" } },
        { "DT_INIT_ARRAY outside the image", "test_cpp.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(e.find_dynamic(DT_INIT_ARRAY) + 8, 0x800000); },
            { "DT_INIT_ARRAY 0x800000", "not inside a PT_LOAD" } },
        { "DT_FINI_ARRAY without its size", "test_cpp.kmod",
            [](ElfEditor& e) { e.put<int64_t>(e.find_dynamic(DT_FINI_ARRAYSZ), DT_DEBUG); },
            { "DT_FINI_ARRAY and DT_FINI_ARRAYSZ" } },
        { "note size", "test.kmod", [](ElfEditor& e) { e.put<uint32_t>(e.find_modinfo_note("license=") + 4, 0x1000); },
            { "PT_NOTE", "does not fit", "n_descsz 0x1000" } },
        { "note name size", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.find_modinfo_note("name="), 0xfffffff0); },
            { "does not fit", "n_namesz 0xfffffff0" } },
        { "modinfo string not NUL-terminated", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.find_modinfo_note("license=") + 4, 4); },
            { "n_descsz 4", "not NUL-terminated" } },
        { "modinfo without key", "test.kmod",
            [](ElfEditor& e) { e.put<uint8_t>(e.find_modinfo_note("license=") + 20 + 7, '-'); },
            { "'license-MIT' is not key=value" } },
        { "modinfo name missing", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.find_modinfo_note("name=") + 8, 2); }, { "no name=" } },
        { "modinfo license missing", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.find_modinfo_note("license=") + 8, 2); }, { "no license=" } },
        { "modinfo bad module name", "test.kmod",
            [](ElfEditor& e) { e.put<uint8_t>(e.find_modinfo_note("name=") + 20 + 5, 'T'); },
            { "name='Test'", "[a-z0-9_]" } },
        { "modinfo_version 2", "test.kmod",
            [](ElfEditor& e) { e.put<uint8_t>(e.find_modinfo_note("modinfo_version=") + 20 + 16, '2'); },
            { "modinfo_version='2'" } },
        { "modinfo parm type", "test.kmod",
            [](ElfEditor& e) { e.put<uint8_t>(e.find_modinfo_note("parm=verbose") + 20 + 13, 'c'); },
            { "parm='verbose:cool:Log more'", "TYPE" } },
        { "modinfo parm without storage", "test.kmod",
            [](ElfEditor& e) { e.put<uint8_t>(e.find_modinfo_note("parm=verbose") + 20 + 5, 'w'); },
            { "no symbol keel_param_werbose" } },
        { "modinfo parm storage size", "test.kmod",
            [](ElfEditor& e) { memcpy(&e.bytes()[e.find_modinfo_note("parm=verbose") + 20 + 13], "uint", 4); },
            { "keel_param_verbose has st_size 1, expected 8" } },
        { "e_shoff beyond the file", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(EHDR_FIELD(e_shoff), 0x7fffffff); }, { "e_shoff 0x7fffffff" } },
        { "e_shstrndx", "test.kmod", [](ElfEditor& e) { e.put<uint16_t>(EHDR_FIELD(e_shstrndx), 500); },
            { "e_shstrndx 500" } },
        { "section beyond the file", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(e.find_section(".comment") + offsetof(Shdr, sh_size), 0x100000); },
            { "(.comment)", "sh_size 0x100000", "exceeds file size" } },
        { ".keel_kabi version", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.get<Shdr>(e.find_section(".keel_kabi")).sh_offset, 2); },
            { ".keel_kabi", "version 2" } },
        { ".keel_kabi allocated", "test.kmod",
            [](ElfEditor& e) { e.put<uint64_t>(e.find_section(".keel_kabi") + offsetof(Shdr, sh_flags), SHF_ALLOC); },
            { ".keel_kabi", "must not be allocated" } },
        // An SHT_NULL section's offset and size are not checked against the
        // file, so one named .keel_kabi must be refused before it is read
        // (a fuzzer found the read past the end).
        { ".keel_kabi of type SHT_NULL", "test.kmod",
            [](ElfEditor& e) {
                e.put<uint32_t>(e.find_section(".keel_kabi") + offsetof(Shdr, sh_type), SHT_NULL);
                e.put<uint64_t>(e.find_section(".keel_kabi") + offsetof(Shdr, sh_offset), 0x7fffffff);
            },
            { ".keel_kabi", "sh_type 0", "expected PROGBITS" } },
        { ".keel_kabi of type SHT_NOTE", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.find_section(".keel_kabi") + offsetof(Shdr, sh_type), SHT_NOTE); },
            { ".keel_kabi", "sh_type 7", "expected PROGBITS" } },
        { ".keel_kabi count", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.get<Shdr>(e.find_section(".keel_kabi")).sh_offset + 4, 1000); },
            { ".keel_kabi", "count 1000" } },
        // A dependency name is a module name, never a path the loader would
        // load (and run) a file from.
        { "DT_NEEDED with a slash", "test_cpp.kmod", [](ElfEditor& e) { set_dependency_name(e, "x/p.kmod"); },
            { "DT_NEEDED 'x/p.kmod'", "module name" } },
        { "DT_NEEDED absolute", "test_cpp.kmod", [](ElfEditor& e) { set_dependency_name(e, "/run/x/p"); },
            { "DT_NEEDED '/run/x/p'" } },
        { "DT_NEEDED dot-dot", "test_cpp.kmod", [](ElfEditor& e) { set_dependency_name(e, "..kmod"); },
            { "DT_NEEDED '..kmod'" } },
        { "DT_NEEDED empty", "test_cpp.kmod", [](ElfEditor& e) { set_dependency_name(e, ""); }, { "DT_NEEDED ''" } },
        { "DT_NEEDED .kmod alone", "test_cpp.kmod", [](ElfEditor& e) { set_dependency_name(e, ".kmod"); },
            { "DT_NEEDED '.kmod'" } },
        { "DT_NEEDED upper case", "test_cpp.kmod", [](ElfEditor& e) { set_dependency_name(e, "Test.kmod"); },
            { "DT_NEEDED 'Test.kmod'" } },
        { "DT_NEEDED control character", "test_cpp.kmod", [](ElfEditor& e) { set_dependency_name(e, "te\x01t"); },
            { "DT_NEEDED '(non-printable)'" } },
        { ".keel_kabi name offset", "test.kmod",
            [](ElfEditor& e) { e.put<uint32_t>(e.get<Shdr>(e.find_section(".keel_kabi")).sh_offset + 8 + 8, 0x4000); },
            { ".keel_kabi", "entry 0", "name_offset 0x4000" } },
    };
    return list;
}

} // namespace

TEST_CASE("each corrupted field is refused with ENOEXEC and a message naming it")
{
    for (const Mutation& mutation : mutations()) {
        Bytes bytes = elf_test::load_module(mutation.module);
        ElfEditor editor(bytes);
        mutation.mutate(editor);
        Diagnostic diagnostic;
        auto image = ModuleImage::parse(bytes.data(), bytes.size(), diagnostic);
        INFO(mutation.what << ": " << diagnostic.message);
        REQUIRE(image.is_error());
        CHECK(image.error() == Error::ENOEXEC);
        for (const char* expected : mutation.expected)
            CHECK_THAT(diagnostic.message, Catch::Contains(expected));
    }
}

TEST_CASE("every truncation of a module is refused cleanly")
{
    for (const char* name : { "test.kmod", "test_cpp.kmod" }) {
        Bytes full = elf_test::load_module(name);
        for (size_t size = 0; size < full.size(); ++size) {
            // An exact-size heap copy: ASan flags any read past `size`.
            Bytes prefix(full.begin(), full.begin() + size);
            Diagnostic diagnostic;
            auto image = ModuleImage::parse(prefix.empty() ? nullptr : prefix.data(), size, diagnostic);
            INFO(name << " truncated to " << size);
            REQUIRE(image.is_error());
            REQUIRE(diagnostic.message[0] != '\0');
        }
    }
}

TEST_CASE("random byte flips never crash the parser or the relocator")
{
    std::mt19937_64 random(20240601);
    size_t accepted = 0;
    for (const char* name : { "test.kmod", "test_cpp.kmod" }) {
        Bytes original = elf_test::load_module(name);
        // The headers and dynamic data live in the first pages; bias flips
        // there, where they reach the most checks.
        size_t hot = std::min<size_t>(original.size(), 0x2400);
        for (int iteration = 0; iteration < 2500; ++iteration) {
            Bytes bytes = original;
            int flips = 1 + int(random() % 4);
            for (int i = 0; i < flips; ++i) {
                size_t at = random() % (random() % 4 == 0 ? bytes.size() : hot);
                bytes[at] ^= uint8_t(1u << (random() % 8));
            }
            Diagnostic diagnostic;
            auto image = ModuleImage::parse(bytes.data(), bytes.size(), diagnostic);
            REQUIRE(strlen(diagnostic.message) < sizeof(diagnostic.message));
            if (image.is_error()) {
                REQUIRE(image.error() == Error::ENOEXEC);
                REQUIRE(diagnostic.message[0] != '\0');
                continue;
            }
            ++accepted;
            elf_test::walk_image(image.value());
            REQUIRE(elf_test::load_into_buffer(image.value(), bytes, 0xffffffff80000000).is_ok());
        }
    }
    // Flips in padding, .symtab or .comment leave a valid module.
    CHECK(accepted > 0);
}
