// ELF64 structures and constants, written from the System V gABI, the
// x86_64 psABI and the GNU symbol-versioning/hash-table conventions. Only
// what Keel's module loader reads is here. The system <elf.h> is not used:
// the kernel has no C library, and the host build must see the same names.
//
// Module files need not be aligned in memory (a cpio archive aligns file
// data to 4 bytes), so these structures are never accessed in place: the
// parser copies them out with memcpy.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::elf {

// e_ident
constexpr size_t EI_NIDENT = 16;
constexpr size_t EI_CLASS = 4;
constexpr size_t EI_DATA = 5;
constexpr size_t EI_VERSION = 6;
constexpr size_t EI_OSABI = 7;
constexpr size_t EI_ABIVERSION = 8;
constexpr uint8_t ELFMAG0 = 0x7f;
constexpr uint8_t ELFCLASS64 = 2;
constexpr uint8_t ELFDATA2LSB = 1;
constexpr uint8_t EV_CURRENT = 1;
constexpr uint8_t ELFOSABI_SYSV = 0;
constexpr uint8_t ELFOSABI_GNU = 3;

constexpr uint16_t ET_DYN = 3;
constexpr uint16_t EM_X86_64 = 62;
constexpr uint16_t EM_AARCH64 = 183;
constexpr uint16_t PN_XNUM = 0xffff;

struct Ehdr {
    uint8_t e_ident[EI_NIDENT];
    uint16_t e_type;
    uint16_t e_machine;
    uint32_t e_version;
    uint64_t e_entry;
    uint64_t e_phoff;
    uint64_t e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize;
    uint16_t e_phentsize;
    uint16_t e_phnum;
    uint16_t e_shentsize;
    uint16_t e_shnum;
    uint16_t e_shstrndx;
};
static_assert(sizeof(Ehdr) == 64);

// Program headers
constexpr uint32_t PT_NULL = 0;
constexpr uint32_t PT_LOAD = 1;
constexpr uint32_t PT_DYNAMIC = 2;
constexpr uint32_t PT_INTERP = 3;
constexpr uint32_t PT_NOTE = 4;
constexpr uint32_t PT_SHLIB = 5;
constexpr uint32_t PT_PHDR = 6;
constexpr uint32_t PT_TLS = 7;
constexpr uint32_t PT_GNU_EH_FRAME = 0x6474e550;
constexpr uint32_t PT_GNU_STACK = 0x6474e551;
constexpr uint32_t PT_GNU_RELRO = 0x6474e552;
constexpr uint32_t PT_GNU_PROPERTY = 0x6474e553;

constexpr uint32_t PF_X = 1;
constexpr uint32_t PF_W = 2;
constexpr uint32_t PF_R = 4;

struct Phdr {
    uint32_t p_type;
    uint32_t p_flags;
    uint64_t p_offset;
    uint64_t p_vaddr;
    uint64_t p_paddr;
    uint64_t p_filesz;
    uint64_t p_memsz;
    uint64_t p_align;
};
static_assert(sizeof(Phdr) == 56);

// Section headers
constexpr uint32_t SHT_NULL = 0;
constexpr uint32_t SHT_PROGBITS = 1;
constexpr uint32_t SHT_STRTAB = 3;
constexpr uint32_t SHT_NOTE = 7;
constexpr uint32_t SHT_NOBITS = 8;

constexpr uint64_t SHF_WRITE = 0x1;
constexpr uint64_t SHF_ALLOC = 0x2;
constexpr uint64_t SHF_EXECINSTR = 0x4;

constexpr uint16_t SHN_UNDEF = 0;
constexpr uint16_t SHN_LORESERVE = 0xff00;
constexpr uint16_t SHN_ABS = 0xfff1;
constexpr uint16_t SHN_COMMON = 0xfff2;
constexpr uint16_t SHN_XINDEX = 0xffff;

struct Shdr {
    uint32_t sh_name;
    uint32_t sh_type;
    uint64_t sh_flags;
    uint64_t sh_addr;
    uint64_t sh_offset;
    uint64_t sh_size;
    uint32_t sh_link;
    uint32_t sh_info;
    uint64_t sh_addralign;
    uint64_t sh_entsize;
};
static_assert(sizeof(Shdr) == 64);

// Dynamic section
constexpr int64_t DT_NULL = 0;
constexpr int64_t DT_NEEDED = 1;
constexpr int64_t DT_PLTRELSZ = 2;
constexpr int64_t DT_PLTGOT = 3;
constexpr int64_t DT_HASH = 4;
constexpr int64_t DT_STRTAB = 5;
constexpr int64_t DT_SYMTAB = 6;
constexpr int64_t DT_RELA = 7;
constexpr int64_t DT_RELASZ = 8;
constexpr int64_t DT_RELAENT = 9;
constexpr int64_t DT_STRSZ = 10;
constexpr int64_t DT_SYMENT = 11;
constexpr int64_t DT_INIT = 12;
constexpr int64_t DT_FINI = 13;
constexpr int64_t DT_SONAME = 14;
constexpr int64_t DT_RPATH = 15;
constexpr int64_t DT_SYMBOLIC = 16;
constexpr int64_t DT_REL = 17;
constexpr int64_t DT_RELSZ = 18;
constexpr int64_t DT_RELENT = 19;
constexpr int64_t DT_PLTREL = 20;
constexpr int64_t DT_DEBUG = 21;
constexpr int64_t DT_TEXTREL = 22;
constexpr int64_t DT_JMPREL = 23;
constexpr int64_t DT_BIND_NOW = 24;
constexpr int64_t DT_INIT_ARRAY = 25;
constexpr int64_t DT_FINI_ARRAY = 26;
constexpr int64_t DT_INIT_ARRAYSZ = 27;
constexpr int64_t DT_FINI_ARRAYSZ = 28;
constexpr int64_t DT_RUNPATH = 29;
constexpr int64_t DT_FLAGS = 30;
constexpr int64_t DT_PREINIT_ARRAY = 32;
constexpr int64_t DT_PREINIT_ARRAYSZ = 33;
constexpr int64_t DT_SYMTAB_SHNDX = 34;
constexpr int64_t DT_RELRSZ = 35;
constexpr int64_t DT_RELR = 36;
constexpr int64_t DT_RELRENT = 37;
constexpr int64_t DT_GNU_PRELINKED = 0x6ffffdf5;
constexpr int64_t DT_GNU_CONFLICTSZ = 0x6ffffdf6;
constexpr int64_t DT_GNU_LIBLISTSZ = 0x6ffffdf7;
constexpr int64_t DT_CHECKSUM = 0x6ffffdf8;
constexpr int64_t DT_PLTPADSZ = 0x6ffffdf9;
constexpr int64_t DT_MOVEENT = 0x6ffffdfa;
constexpr int64_t DT_MOVESZ = 0x6ffffdfb;
constexpr int64_t DT_FEATURE_1 = 0x6ffffdfc;
constexpr int64_t DT_POSFLAG_1 = 0x6ffffdfd;
constexpr int64_t DT_SYMINSZ = 0x6ffffdfe;
constexpr int64_t DT_SYMINENT = 0x6ffffdff;
constexpr int64_t DT_GNU_HASH = 0x6ffffef5;
constexpr int64_t DT_TLSDESC_PLT = 0x6ffffef6;
constexpr int64_t DT_TLSDESC_GOT = 0x6ffffef7;
constexpr int64_t DT_GNU_CONFLICT = 0x6ffffef8;
constexpr int64_t DT_GNU_LIBLIST = 0x6ffffef9;
constexpr int64_t DT_CONFIG = 0x6ffffefa;
constexpr int64_t DT_DEPAUDIT = 0x6ffffefb;
constexpr int64_t DT_AUDIT = 0x6ffffefc;
constexpr int64_t DT_PLTPAD = 0x6ffffefd;
constexpr int64_t DT_MOVETAB = 0x6ffffefe;
constexpr int64_t DT_SYMINFO = 0x6ffffeff;
constexpr int64_t DT_VERSYM = 0x6ffffff0;
constexpr int64_t DT_RELACOUNT = 0x6ffffff9;
constexpr int64_t DT_RELCOUNT = 0x6ffffffa;
constexpr int64_t DT_FLAGS_1 = 0x6ffffffb;
constexpr int64_t DT_VERDEF = 0x6ffffffc;
constexpr int64_t DT_VERDEFNUM = 0x6ffffffd;
constexpr int64_t DT_VERNEED = 0x6ffffffe;
constexpr int64_t DT_VERNEEDNUM = 0x6fffffff;
constexpr int64_t DT_AUXILIARY = 0x7ffffffd;
constexpr int64_t DT_FILTER = 0x7fffffff;

// DT_FLAGS bits
constexpr uint64_t DF_TEXTREL = 0x4;
constexpr uint64_t DF_STATIC_TLS = 0x10;

struct Dyn {
    int64_t d_tag;
    uint64_t d_val; // d_val or d_ptr: the same bits
};
static_assert(sizeof(Dyn) == 16);

// Symbols
constexpr uint8_t STB_LOCAL = 0;
constexpr uint8_t STB_GLOBAL = 1;
constexpr uint8_t STB_WEAK = 2;
constexpr uint8_t STB_GNU_UNIQUE = 10;

constexpr uint8_t STT_NOTYPE = 0;
constexpr uint8_t STT_OBJECT = 1;
constexpr uint8_t STT_FUNC = 2;
constexpr uint8_t STT_SECTION = 3;
constexpr uint8_t STT_FILE = 4;
constexpr uint8_t STT_COMMON = 5;
constexpr uint8_t STT_TLS = 6;
constexpr uint8_t STT_GNU_IFUNC = 10;

constexpr uint8_t STV_DEFAULT = 0;
constexpr uint8_t STV_INTERNAL = 1;
constexpr uint8_t STV_HIDDEN = 2;
constexpr uint8_t STV_PROTECTED = 3;

struct Sym {
    uint32_t st_name;
    uint8_t st_info;  // bind << 4 | type
    uint8_t st_other; // visibility in the low 2 bits
    uint16_t st_shndx;
    uint64_t st_value;
    uint64_t st_size;
};
static_assert(sizeof(Sym) == 24);

constexpr uint8_t symbol_bind(uint8_t info) { return info >> 4; }
constexpr uint8_t symbol_type(uint8_t info) { return info & 0xf; }
constexpr uint8_t symbol_visibility(uint8_t other) { return other & 0x3; }

// Relocations (x86_64 psABI numbering)
constexpr uint32_t R_X86_64_NONE = 0;
constexpr uint32_t R_X86_64_64 = 1;
constexpr uint32_t R_X86_64_PC32 = 2;
constexpr uint32_t R_X86_64_GOT32 = 3;
constexpr uint32_t R_X86_64_PLT32 = 4;
constexpr uint32_t R_X86_64_COPY = 5;
constexpr uint32_t R_X86_64_GLOB_DAT = 6;
constexpr uint32_t R_X86_64_JUMP_SLOT = 7;
constexpr uint32_t R_X86_64_RELATIVE = 8;
constexpr uint32_t R_X86_64_GOTPCREL = 9;
constexpr uint32_t R_X86_64_32 = 10;
constexpr uint32_t R_X86_64_32S = 11;
constexpr uint32_t R_X86_64_16 = 12;
constexpr uint32_t R_X86_64_PC16 = 13;
constexpr uint32_t R_X86_64_8 = 14;
constexpr uint32_t R_X86_64_PC8 = 15;
constexpr uint32_t R_X86_64_DTPMOD64 = 16;
constexpr uint32_t R_X86_64_DTPOFF64 = 17;
constexpr uint32_t R_X86_64_TPOFF64 = 18;
constexpr uint32_t R_X86_64_TLSGD = 19;
constexpr uint32_t R_X86_64_TLSLD = 20;
constexpr uint32_t R_X86_64_DTPOFF32 = 21;
constexpr uint32_t R_X86_64_GOTTPOFF = 22;
constexpr uint32_t R_X86_64_TPOFF32 = 23;
constexpr uint32_t R_X86_64_PC64 = 24;
constexpr uint32_t R_X86_64_GOTOFF64 = 25;
constexpr uint32_t R_X86_64_GOTPC32 = 26;
constexpr uint32_t R_X86_64_GOT64 = 27;
constexpr uint32_t R_X86_64_GOTPCREL64 = 28;
constexpr uint32_t R_X86_64_GOTPC64 = 29;
constexpr uint32_t R_X86_64_GOTPLT64 = 30;
constexpr uint32_t R_X86_64_PLTOFF64 = 31;
constexpr uint32_t R_X86_64_SIZE32 = 32;
constexpr uint32_t R_X86_64_SIZE64 = 33;
constexpr uint32_t R_X86_64_GOTPC32_TLSDESC = 34;
constexpr uint32_t R_X86_64_TLSDESC_CALL = 35;
constexpr uint32_t R_X86_64_TLSDESC = 36;
constexpr uint32_t R_X86_64_IRELATIVE = 37;
constexpr uint32_t R_X86_64_RELATIVE64 = 38;
constexpr uint32_t R_X86_64_PC32_BND = 39;  // deprecated (MPX)
constexpr uint32_t R_X86_64_PLT32_BND = 40; // deprecated (MPX)
constexpr uint32_t R_X86_64_GOTPCRELX = 41;
constexpr uint32_t R_X86_64_REX_GOTPCRELX = 42;

struct Rela {
    uint64_t r_offset;
    uint64_t r_info; // symbol << 32 | type
    int64_t r_addend;
};
static_assert(sizeof(Rela) == 24);

constexpr uint32_t relocation_symbol(uint64_t info) { return uint32_t(info >> 32); }
constexpr uint32_t relocation_type(uint64_t info) { return uint32_t(info); }

// GNU symbol versioning (.gnu.version, .gnu.version_d, .gnu.version_r)
constexpr uint16_t VER_NDX_LOCAL = 0;
constexpr uint16_t VER_NDX_GLOBAL = 1;
constexpr uint16_t VERSYM_HIDDEN = 0x8000;
constexpr uint16_t VERSYM_VERSION = 0x7fff;
constexpr uint16_t VER_DEF_CURRENT = 1;
constexpr uint16_t VER_NEED_CURRENT = 1;
constexpr uint16_t VER_FLG_BASE = 0x1;
constexpr uint16_t VER_FLG_WEAK = 0x2;

struct Verdef {
    uint16_t vd_version;
    uint16_t vd_flags;
    uint16_t vd_ndx;
    uint16_t vd_cnt; // Verdaux entries: the name, then the parents
    uint32_t vd_hash;
    uint32_t vd_aux;  // from this Verdef to its first Verdaux
    uint32_t vd_next; // from this Verdef to the next; 0 ends the chain
};
static_assert(sizeof(Verdef) == 20);

struct Verdaux {
    uint32_t vda_name;
    uint32_t vda_next;
};
static_assert(sizeof(Verdaux) == 8);

struct Verneed {
    uint16_t vn_version;
    uint16_t vn_cnt;
    uint32_t vn_file;
    uint32_t vn_aux;
    uint32_t vn_next;
};
static_assert(sizeof(Verneed) == 16);

struct Vernaux {
    uint32_t vna_hash;
    uint16_t vna_flags;
    uint16_t vna_other; // the version index symbols use
    uint32_t vna_name;
    uint32_t vna_next;
};
static_assert(sizeof(Vernaux) == 16);

// Notes
struct Nhdr {
    uint32_t n_namesz;
    uint32_t n_descsz;
    uint32_t n_type;
};
static_assert(sizeof(Nhdr) == 12);

// AArch64 relocations (ELF for the Arm 64-bit Architecture): the ones a
// module may carry.
constexpr uint32_t R_AARCH64_NONE = 0;
constexpr uint32_t R_AARCH64_ABS64 = 257;
constexpr uint32_t R_AARCH64_COPY = 1024;
constexpr uint32_t R_AARCH64_GLOB_DAT = 1025;
constexpr uint32_t R_AARCH64_JUMP_SLOT = 1026;
constexpr uint32_t R_AARCH64_RELATIVE = 1027;
constexpr uint32_t R_AARCH64_TLS_DTPMOD = 1028;
constexpr uint32_t R_AARCH64_TLS_DTPREL = 1029;
constexpr uint32_t R_AARCH64_TLS_TPREL = 1030;
constexpr uint32_t R_AARCH64_TLSDESC = 1031;
constexpr uint32_t R_AARCH64_IRELATIVE = 1032;

// What a module's relocation does, whichever machine numbers it: the five
// the loader applies (every other type is refused).
enum class RelocationKind : uint8_t {
    Unsupported,
    None,
    Relative,   // B + A
    Absolute64, // S + A
    GlobDat,    // S
    JumpSlot,   // S
};

// A machine modules are built for: its e_machine and its numbers for the
// five relocations.
struct ModuleMachine {
    uint16_t e_machine;
    const char* name; // "EM_X86_64"
    uint32_t none, relative, absolute64, glob_dat, jump_slot;
    // GLOB_DAT and JUMP_SLOT are S + A (AArch64) rather than S (x86_64).
    bool slot_addend;

    constexpr RelocationKind kind(uint32_t type) const
    {
        return type == none      ? RelocationKind::None
            : type == relative   ? RelocationKind::Relative
            : type == absolute64 ? RelocationKind::Absolute64
            : type == glob_dat   ? RelocationKind::GlobDat
            : type == jump_slot  ? RelocationKind::JumpSlot
                                 : RelocationKind::Unsupported;
    }
};

inline constexpr ModuleMachine kModuleMachineX86_64 { EM_X86_64, "EM_X86_64", R_X86_64_NONE, R_X86_64_RELATIVE,
    R_X86_64_64, R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT, false };
inline constexpr ModuleMachine kModuleMachineAarch64 { EM_AARCH64, "EM_AARCH64", R_AARCH64_NONE, R_AARCH64_RELATIVE,
    R_AARCH64_ABS64, R_AARCH64_GLOB_DAT, R_AARCH64_JUMP_SLOT, true };

// The machine `e_machine` names, or nullptr when modules are never built for it.
const ModuleMachine* find_module_machine(uint16_t e_machine);

// Names for diagnostics: "R_X86_64_PC32", "DT_TEXTREL", "PT_TLS". Each
// returns "unknown" for a value it does not know, so a message can always
// print the name followed by the number. Relocation types are numbered per
// machine (x86_64's without one).
const char* relocation_type_name(uint32_t type);
const char* relocation_type_name(uint16_t e_machine, uint32_t type);
const char* dynamic_tag_name(int64_t tag);
const char* segment_type_name(uint32_t type);

} // namespace keel::elf
