// Names of ELF constants, for messages that must say exactly what a module
// contains ("unsupported type R_X86_64_TPOFF64 (18)").
#include "lib/elf/elf.h"

namespace keel::elf {

const ModuleMachine* find_module_machine(uint16_t e_machine)
{
    if (e_machine == EM_X86_64)
        return &kModuleMachineX86_64;
    if (e_machine == EM_AARCH64)
        return &kModuleMachineAarch64;
    return nullptr;
}

const char* relocation_type_name(uint16_t e_machine, uint32_t type)
{
    if (e_machine != EM_AARCH64)
        return relocation_type_name(type);
    switch (type) {
    case R_AARCH64_NONE: return "R_AARCH64_NONE";
    case R_AARCH64_ABS64: return "R_AARCH64_ABS64";
    case R_AARCH64_COPY: return "R_AARCH64_COPY";
    case R_AARCH64_GLOB_DAT: return "R_AARCH64_GLOB_DAT";
    case R_AARCH64_JUMP_SLOT: return "R_AARCH64_JUMP_SLOT";
    case R_AARCH64_RELATIVE: return "R_AARCH64_RELATIVE";
    case R_AARCH64_TLS_DTPMOD: return "R_AARCH64_TLS_DTPMOD";
    case R_AARCH64_TLS_DTPREL: return "R_AARCH64_TLS_DTPREL";
    case R_AARCH64_TLS_TPREL: return "R_AARCH64_TLS_TPREL";
    case R_AARCH64_TLSDESC: return "R_AARCH64_TLSDESC";
    case R_AARCH64_IRELATIVE: return "R_AARCH64_IRELATIVE";
    default: return "unknown";
    }
}

const char* relocation_type_name(uint32_t value)
{
    switch (value) {
    case R_X86_64_NONE: return "R_X86_64_NONE";
    case R_X86_64_64: return "R_X86_64_64";
    case R_X86_64_PC32: return "R_X86_64_PC32";
    case R_X86_64_GOT32: return "R_X86_64_GOT32";
    case R_X86_64_PLT32: return "R_X86_64_PLT32";
    case R_X86_64_COPY: return "R_X86_64_COPY";
    case R_X86_64_GLOB_DAT: return "R_X86_64_GLOB_DAT";
    case R_X86_64_JUMP_SLOT: return "R_X86_64_JUMP_SLOT";
    case R_X86_64_RELATIVE: return "R_X86_64_RELATIVE";
    case R_X86_64_GOTPCREL: return "R_X86_64_GOTPCREL";
    case R_X86_64_32: return "R_X86_64_32";
    case R_X86_64_32S: return "R_X86_64_32S";
    case R_X86_64_16: return "R_X86_64_16";
    case R_X86_64_PC16: return "R_X86_64_PC16";
    case R_X86_64_8: return "R_X86_64_8";
    case R_X86_64_PC8: return "R_X86_64_PC8";
    case R_X86_64_DTPMOD64: return "R_X86_64_DTPMOD64";
    case R_X86_64_DTPOFF64: return "R_X86_64_DTPOFF64";
    case R_X86_64_TPOFF64: return "R_X86_64_TPOFF64";
    case R_X86_64_TLSGD: return "R_X86_64_TLSGD";
    case R_X86_64_TLSLD: return "R_X86_64_TLSLD";
    case R_X86_64_DTPOFF32: return "R_X86_64_DTPOFF32";
    case R_X86_64_GOTTPOFF: return "R_X86_64_GOTTPOFF";
    case R_X86_64_TPOFF32: return "R_X86_64_TPOFF32";
    case R_X86_64_PC64: return "R_X86_64_PC64";
    case R_X86_64_GOTOFF64: return "R_X86_64_GOTOFF64";
    case R_X86_64_GOTPC32: return "R_X86_64_GOTPC32";
    case R_X86_64_GOT64: return "R_X86_64_GOT64";
    case R_X86_64_GOTPCREL64: return "R_X86_64_GOTPCREL64";
    case R_X86_64_GOTPC64: return "R_X86_64_GOTPC64";
    case R_X86_64_GOTPLT64: return "R_X86_64_GOTPLT64";
    case R_X86_64_PLTOFF64: return "R_X86_64_PLTOFF64";
    case R_X86_64_SIZE32: return "R_X86_64_SIZE32";
    case R_X86_64_SIZE64: return "R_X86_64_SIZE64";
    case R_X86_64_GOTPC32_TLSDESC: return "R_X86_64_GOTPC32_TLSDESC";
    case R_X86_64_TLSDESC_CALL: return "R_X86_64_TLSDESC_CALL";
    case R_X86_64_TLSDESC: return "R_X86_64_TLSDESC";
    case R_X86_64_IRELATIVE: return "R_X86_64_IRELATIVE";
    case R_X86_64_RELATIVE64: return "R_X86_64_RELATIVE64";
    case R_X86_64_PC32_BND: return "R_X86_64_PC32_BND";
    case R_X86_64_PLT32_BND: return "R_X86_64_PLT32_BND";
    case R_X86_64_GOTPCRELX: return "R_X86_64_GOTPCRELX";
    case R_X86_64_REX_GOTPCRELX: return "R_X86_64_REX_GOTPCRELX";
    }
    return "unknown";
}

const char* dynamic_tag_name(int64_t value)
{
    switch (value) {
    case DT_NULL: return "DT_NULL";
    case DT_NEEDED: return "DT_NEEDED";
    case DT_PLTRELSZ: return "DT_PLTRELSZ";
    case DT_PLTGOT: return "DT_PLTGOT";
    case DT_HASH: return "DT_HASH";
    case DT_STRTAB: return "DT_STRTAB";
    case DT_SYMTAB: return "DT_SYMTAB";
    case DT_RELA: return "DT_RELA";
    case DT_RELASZ: return "DT_RELASZ";
    case DT_RELAENT: return "DT_RELAENT";
    case DT_STRSZ: return "DT_STRSZ";
    case DT_SYMENT: return "DT_SYMENT";
    case DT_INIT: return "DT_INIT";
    case DT_FINI: return "DT_FINI";
    case DT_SONAME: return "DT_SONAME";
    case DT_RPATH: return "DT_RPATH";
    case DT_SYMBOLIC: return "DT_SYMBOLIC";
    case DT_REL: return "DT_REL";
    case DT_RELSZ: return "DT_RELSZ";
    case DT_RELENT: return "DT_RELENT";
    case DT_PLTREL: return "DT_PLTREL";
    case DT_DEBUG: return "DT_DEBUG";
    case DT_TEXTREL: return "DT_TEXTREL";
    case DT_JMPREL: return "DT_JMPREL";
    case DT_BIND_NOW: return "DT_BIND_NOW";
    case DT_INIT_ARRAY: return "DT_INIT_ARRAY";
    case DT_FINI_ARRAY: return "DT_FINI_ARRAY";
    case DT_INIT_ARRAYSZ: return "DT_INIT_ARRAYSZ";
    case DT_FINI_ARRAYSZ: return "DT_FINI_ARRAYSZ";
    case DT_RUNPATH: return "DT_RUNPATH";
    case DT_FLAGS: return "DT_FLAGS";
    case DT_PREINIT_ARRAY: return "DT_PREINIT_ARRAY";
    case DT_PREINIT_ARRAYSZ: return "DT_PREINIT_ARRAYSZ";
    case DT_SYMTAB_SHNDX: return "DT_SYMTAB_SHNDX";
    case DT_RELRSZ: return "DT_RELRSZ";
    case DT_RELR: return "DT_RELR";
    case DT_RELRENT: return "DT_RELRENT";
    case DT_GNU_PRELINKED: return "DT_GNU_PRELINKED";
    case DT_GNU_CONFLICTSZ: return "DT_GNU_CONFLICTSZ";
    case DT_GNU_LIBLISTSZ: return "DT_GNU_LIBLISTSZ";
    case DT_CHECKSUM: return "DT_CHECKSUM";
    case DT_PLTPADSZ: return "DT_PLTPADSZ";
    case DT_MOVEENT: return "DT_MOVEENT";
    case DT_MOVESZ: return "DT_MOVESZ";
    case DT_FEATURE_1: return "DT_FEATURE_1";
    case DT_POSFLAG_1: return "DT_POSFLAG_1";
    case DT_SYMINSZ: return "DT_SYMINSZ";
    case DT_SYMINENT: return "DT_SYMINENT";
    case DT_GNU_HASH: return "DT_GNU_HASH";
    case DT_TLSDESC_PLT: return "DT_TLSDESC_PLT";
    case DT_TLSDESC_GOT: return "DT_TLSDESC_GOT";
    case DT_GNU_CONFLICT: return "DT_GNU_CONFLICT";
    case DT_GNU_LIBLIST: return "DT_GNU_LIBLIST";
    case DT_CONFIG: return "DT_CONFIG";
    case DT_DEPAUDIT: return "DT_DEPAUDIT";
    case DT_AUDIT: return "DT_AUDIT";
    case DT_PLTPAD: return "DT_PLTPAD";
    case DT_MOVETAB: return "DT_MOVETAB";
    case DT_SYMINFO: return "DT_SYMINFO";
    case DT_VERSYM: return "DT_VERSYM";
    case DT_RELACOUNT: return "DT_RELACOUNT";
    case DT_RELCOUNT: return "DT_RELCOUNT";
    case DT_FLAGS_1: return "DT_FLAGS_1";
    case DT_VERDEF: return "DT_VERDEF";
    case DT_VERDEFNUM: return "DT_VERDEFNUM";
    case DT_VERNEED: return "DT_VERNEED";
    case DT_VERNEEDNUM: return "DT_VERNEEDNUM";
    case DT_AUXILIARY: return "DT_AUXILIARY";
    case DT_FILTER: return "DT_FILTER";
    }
    return "unknown";
}

const char* segment_type_name(uint32_t value)
{
    switch (value) {
    case PT_NULL: return "PT_NULL";
    case PT_LOAD: return "PT_LOAD";
    case PT_DYNAMIC: return "PT_DYNAMIC";
    case PT_INTERP: return "PT_INTERP";
    case PT_NOTE: return "PT_NOTE";
    case PT_SHLIB: return "PT_SHLIB";
    case PT_PHDR: return "PT_PHDR";
    case PT_TLS: return "PT_TLS";
    case PT_GNU_EH_FRAME: return "PT_GNU_EH_FRAME";
    case PT_GNU_STACK: return "PT_GNU_STACK";
    case PT_GNU_RELRO: return "PT_GNU_RELRO";
    case PT_GNU_PROPERTY: return "PT_GNU_PROPERTY";
    }
    return "unknown";
}

} // namespace keel::elf
