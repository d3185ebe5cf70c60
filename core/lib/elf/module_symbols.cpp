// ModuleImage: hash tables, symbol versions, symbols, relocations and the
// init/fini arrays, with their accessors.
#include "lib/elf/module_image.h"

#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"

namespace keel {

using namespace elf;

namespace {

// The hash functions the tables were built with (GNU: Bernstein's djb2;
// DT_HASH: the System V ABI's ELF hash).
uint32_t gnu_hash(const char* name)
{
    uint32_t hash = 5381;
    for (const auto* c = reinterpret_cast<const unsigned char*>(name); *c; ++c)
        hash = hash * 33 + *c;
    return hash;
}

uint32_t sysv_hash(const char* name)
{
    uint32_t hash = 0;
    for (const auto* c = reinterpret_cast<const unsigned char*>(name); *c; ++c) {
        hash = (hash << 4) + *c;
        uint32_t high = hash & 0xf0000000;
        if (high)
            hash ^= high >> 24;
        hash &= ~high;
    }
    return hash;
}

// Version tables are walked through offsets; this caps the total number of
// entries so a hostile file cannot make the walk long.
constexpr uint32_t kMaxVersionEntries = 4 * ModuleImage::kMaxVersions;

} // namespace

Result<void> ModuleImage::parse_hash_tables(Diagnostic& diagnostic)
{
    uint32_t gnu_count = 0;
    if (m_has_gnu_hash) {
        uint64_t offset = m_gnu_hash_offset;
        uint32_t bucket_count = read<uint32_t>(offset);
        uint32_t symbol_offset = read<uint32_t>(offset + 4);
        uint32_t bloom_size = read<uint32_t>(offset + 8);
        if (bucket_count == 0)
            return reject(diagnostic, "DT_GNU_HASH: nbuckets is 0");
        if (symbol_offset > kMaxSymbols)
            return reject(
                diagnostic, "DT_GNU_HASH: symoffset %u exceeds the limit of %u symbols", symbol_offset, kMaxSymbols);
        // 32-bit counts times small sizes cannot overflow 64 bits.
        uint64_t buckets = offset + 16 + uint64_t(bloom_size) * 8;
        uint64_t chains = buckets + uint64_t(bucket_count) * 4;
        if (!file_range(offset, chains - offset))
            return reject(diagnostic, "DT_GNU_HASH: bloom size %u and nbuckets %u run past the end of the file",
                bloom_size, bucket_count);
        // The table does not store the symbol count: it is one past the end
        // of the chain that starts highest.
        uint32_t highest = 0;
        for (uint32_t i = 0; i < bucket_count; ++i) {
            uint32_t start = read<uint32_t>(buckets + uint64_t(i) * 4);
            if (start != 0 && start < symbol_offset)
                return reject(diagnostic, "DT_GNU_HASH: bucket %u starts at symbol %u, below symoffset %u", i, start,
                    symbol_offset);
            highest = max(highest, start);
        }
        gnu_count = symbol_offset;
        if (highest != 0) {
            uint32_t index = highest;
            for (;; ++index) {
                if (index >= kMaxSymbols)
                    return reject(diagnostic, "DT_GNU_HASH: the symbol count exceeds the limit of %u", kMaxSymbols);
                uint64_t entry = chains + uint64_t(index - symbol_offset) * 4;
                if (!file_range(entry, 4))
                    return reject(
                        diagnostic, "DT_GNU_HASH: the chain of symbol %u runs past the end of the file", index);
                if (read<uint32_t>(entry) & 1)
                    break;
            }
            gnu_count = index + 1;
        }
    }

    uint32_t hash_count = 0;
    if (m_has_hash) {
        uint64_t offset = m_hash_offset;
        uint32_t bucket_count = read<uint32_t>(offset);
        uint32_t chain_count = read<uint32_t>(offset + 4);
        if (bucket_count == 0)
            return reject(diagnostic, "DT_HASH: nbucket is 0");
        if (chain_count > kMaxSymbols)
            return reject(diagnostic, "DT_HASH: nchain %u exceeds the limit of %u symbols", chain_count, kMaxSymbols);
        uint64_t words = uint64_t(bucket_count) + chain_count;
        if (!file_range(offset + 8, words * 4))
            return reject(
                diagnostic, "DT_HASH: nbucket %u + nchain %u run past the end of the file", bucket_count, chain_count);
        for (uint64_t i = 0; i < words; ++i) {
            uint32_t value = read<uint32_t>(offset + 8 + i * 4);
            if (value >= chain_count)
                return reject(
                    diagnostic, "DT_HASH: entry %lu holds symbol %u, beyond nchain %u", i, value, chain_count);
        }
        hash_count = chain_count;
    }

    if (m_has_gnu_hash && m_has_hash && gnu_count != hash_count)
        return reject(
            diagnostic, "DT_HASH nchain %u disagrees with the DT_GNU_HASH symbol count %u", hash_count, gnu_count);
    m_symbol_count = m_has_gnu_hash ? gnu_count : hash_count;
    if (!file_range(m_symtab_offset, uint64_t(m_symbol_count) * sizeof(Sym)))
        return reject(diagnostic, "DT_SYMTAB: %u symbols run past the end of the file", m_symbol_count);
    if (m_has_versym && !file_range(m_versym_offset, uint64_t(m_symbol_count) * 2))
        return reject(diagnostic, "DT_VERSYM: %u entries run past the end of the file", m_symbol_count);
    return {};
}

Result<void> ModuleImage::parse_versions(Diagnostic& diagnostic)
{
    // Version indices must be unique: symbols name their version by index.
    uint16_t seen[2 * kMaxVersions];
    uint32_t seen_count = 0;
    uint32_t entries = 0;
    auto record = [&](uint16_t index, const char* table, uint32_t entry) -> Result<void> {
        // The entry limit alone allows more nodes than `seen` holds.
        if (seen_count == sizeof(seen) / sizeof(seen[0]))
            return reject(diagnostic, "%s entry %u: more than %u version nodes", table, entry, seen_count);
        if (index < 2 || index > VERSYM_VERSION)
            return reject(diagnostic, "%s entry %u: version index %u is reserved or out of range", table, entry, index);
        for (uint32_t i = 0; i < seen_count; ++i) {
            if (seen[i] == index)
                return reject(diagnostic, "%s entry %u: version index %u is used twice", table, entry, index);
        }
        seen[seen_count++] = index;
        return {};
    };
    auto count_entry = [&](const char* table, uint32_t entry) -> Result<void> {
        if (++entries > kMaxVersionEntries)
            return reject(diagnostic, "%s entry %u: the version tables exceed the limit of %u entries", table, entry,
                kMaxVersionEntries);
        return {};
    };

    uint64_t offset = m_verdef_offset;
    bool base_seen = false;
    for (uint32_t i = 0; i < m_verdef_count; ++i) {
        TRY(count_entry("DT_VERDEF", i));
        if (!file_range(offset, sizeof(Verdef)))
            return reject(
                diagnostic, "DT_VERDEF entry %u at file offset 0x%lx runs past the end of the file", i, offset);
        Verdef definition = read<Verdef>(offset);
        if (definition.vd_version != VER_DEF_CURRENT)
            return reject(diagnostic, "DT_VERDEF entry %u: vd_version %u, expected 1", i, definition.vd_version);
        if (definition.vd_cnt == 0)
            return reject(diagnostic, "DT_VERDEF entry %u: vd_cnt 0 (no name)", i);
        uint64_t aux = offset + definition.vd_aux;
        for (uint16_t j = 0; j < definition.vd_cnt; ++j) {
            TRY(count_entry("DT_VERDEF", i));
            if (!file_range(aux, sizeof(Verdaux)))
                return reject(diagnostic,
                    "DT_VERDEF entry %u: name %u at file offset 0x%lx runs past the end of the file", i, j, aux);
            Verdaux name = read<Verdaux>(aux);
            TRY(check_string(name.vda_name, "DT_VERDEF", diagnostic));
            if (j + 1 < definition.vd_cnt && name.vda_next == 0)
                return reject(diagnostic, "DT_VERDEF entry %u: vda_next is 0 before vd_cnt %u names (a cycle)", i,
                    definition.vd_cnt);
            aux += name.vda_next;
        }
        if (definition.vd_flags & VER_FLG_BASE) {
            // The base entry names the file itself, not a version node.
            if (base_seen || definition.vd_ndx != VER_NDX_GLOBAL)
                return reject(
                    diagnostic, "DT_VERDEF entry %u: a second base entry or vd_ndx %u is not 1", i, definition.vd_ndx);
            base_seen = true;
        } else {
            TRY(record(definition.vd_ndx, "DT_VERDEF", i));
        }
        if (i + 1 < m_verdef_count && definition.vd_next == 0)
            return reject(
                diagnostic, "DT_VERDEF entry %u: vd_next is 0 but DT_VERDEFNUM is %u (a cycle)", i, m_verdef_count);
        offset += definition.vd_next;
    }

    offset = m_verneed_offset;
    for (uint32_t i = 0; i < m_verneed_count; ++i) {
        TRY(count_entry("DT_VERNEED", i));
        if (!file_range(offset, sizeof(Verneed)))
            return reject(
                diagnostic, "DT_VERNEED entry %u at file offset 0x%lx runs past the end of the file", i, offset);
        Verneed need = read<Verneed>(offset);
        if (need.vn_version != VER_NEED_CURRENT)
            return reject(diagnostic, "DT_VERNEED entry %u: vn_version %u, expected 1", i, need.vn_version);
        TRY(check_string(need.vn_file, "DT_VERNEED vn_file", diagnostic));
        uint64_t aux = offset + need.vn_aux;
        for (uint16_t j = 0; j < need.vn_cnt; ++j) {
            TRY(count_entry("DT_VERNEED", i));
            if (!file_range(aux, sizeof(Vernaux)))
                return reject(diagnostic,
                    "DT_VERNEED entry %u: version %u at file offset 0x%lx runs past the end of the file", i, j, aux);
            Vernaux version = read<Vernaux>(aux);
            TRY(check_string(version.vna_name, "DT_VERNEED vna_name", diagnostic));
            TRY(record(version.vna_other, "DT_VERNEED", i));
            if (j + 1 < need.vn_cnt && version.vna_next == 0)
                return reject(diagnostic, "DT_VERNEED entry %u: vna_next is 0 before vn_cnt %u versions (a cycle)", i,
                    need.vn_cnt);
            aux += version.vna_next;
        }
        if (i + 1 < m_verneed_count && need.vn_next == 0)
            return reject(
                diagnostic, "DT_VERNEED entry %u: vn_next is 0 but DT_VERNEEDNUM is %u (a cycle)", i, m_verneed_count);
        offset += need.vn_next;
    }
    return {};
}

Result<void> ModuleImage::parse_symbols(Diagnostic& diagnostic)
{
    // Symbol 0 is reserved; the gABI has it all zero, and accessors that
    // return it must not hand out a wild name pointer.
    if (m_symbol_count > 0) {
        Sym null = raw_symbol(0);
        if (null.st_name != 0 || null.st_info != 0 || null.st_other != 0 || null.st_shndx != 0 || null.st_value != 0
            || null.st_size != 0)
            return reject(diagnostic, "symbol 0: the reserved null symbol is not all zero");
        TRY(check_string(0, "symbol 0", diagnostic));
    }
    for (uint32_t i = 1; i < m_symbol_count; ++i) {
        Sym raw = raw_symbol(i);
        if (!valid_string(raw.st_name)) {
            char what[32]; // formatted only for the message: this loop is hot
            format(what, sizeof(what), "symbol %u", i);
            return check_string(raw.st_name, what, diagnostic);
        }
        const char* name = string_at(raw.st_name);
        uint8_t type = symbol_type(raw.st_info);
        uint8_t bind = symbol_bind(raw.st_info);
        if (type == STT_TLS)
            return reject(diagnostic, "symbol %u '%s': STT_TLS: thread-local storage is not supported", i, name);
        if (type == STT_GNU_IFUNC)
            return reject(diagnostic, "symbol %u '%s': STT_GNU_IFUNC: indirect functions are not supported", i, name);
        if (type != STT_NOTYPE && type != STT_OBJECT && type != STT_FUNC && type != STT_SECTION && type != STT_FILE)
            return reject(diagnostic, "symbol %u '%s': symbol type %u is not supported", i, name, type);
        if (bind == STB_GNU_UNIQUE)
            return reject(diagnostic, "symbol %u '%s': STB_GNU_UNIQUE binding is not supported", i, name);
        if (bind != STB_LOCAL && bind != STB_GLOBAL && bind != STB_WEAK)
            return reject(diagnostic, "symbol %u '%s': symbol binding %u is not supported", i, name, bind);
        bool defined = raw.st_shndx != SHN_UNDEF;
        bool marker = raw.st_shndx == SHN_ABS && raw.st_value == 0 && raw.st_size == 0;
        if (raw.st_shndx >= SHN_LORESERVE && !marker)
            return reject(diagnostic,
                "symbol %u '%s': st_shndx 0x%x (absolute or common) is not supported: symbols live in a PT_LOAD", i,
                name, raw.st_shndx);
        if (defined && !marker && !find_segment(raw.st_value, raw.st_size))
            return reject(diagnostic, "symbol %u '%s': st_value 0x%lx + st_size 0x%lx is not inside a PT_LOAD", i, name,
                raw.st_value, raw.st_size);
        if (!m_has_versym)
            continue;
        uint16_t index = read<uint16_t>(m_versym_offset + uint64_t(i) * 2) & VERSYM_VERSION;
        if (index <= VER_NDX_GLOBAL)
            continue;
        const char* version;
        const char* file;
        if (!find_version(index, version, file))
            return reject(
                diagnostic, "symbol %u '%s': version index %u is in neither DT_VERDEF nor DT_VERNEED", i, name, index);
        if (defined && file)
            return reject(diagnostic,
                "symbol %u '%s' is defined but its version index %u is the needed version %s of %s", i, name, index,
                version, file);
        if (!defined && !file)
            return reject(diagnostic,
                "symbol %u '%s' is undefined but its version index %u is the module's own version %s", i, name, index,
                version);
    }
    return {};
}

Result<void> ModuleImage::check_relocation_table(
    const char* table, uint64_t offset, uint64_t count, Diagnostic& diagnostic)
{
    // Most entries are RELATIVE into the segment the previous one wrote
    // to (a big module has a thousand of them): that case is decided with
    // a few comparisons, everything else takes the full checks below.
    uint64_t writable_start = 1;
    uint64_t writable_last = 0; // highest r_offset whose 8 bytes fit in the cached segment
    const uint32_t relative = m_machine->relative;
    for (uint64_t i = 0; i < count; ++i) {
        Rela rela = read<Rela>(offset + i * sizeof(Rela));
        if (rela.r_info == uint64_t(relative) && rela.r_offset >= writable_start && rela.r_offset <= writable_last)
            continue;
        uint32_t type = relocation_type(rela.r_info);
        uint32_t symbol = relocation_symbol(rela.r_info);
        auto type_name = [&] { return relocation_type_name(m_machine->e_machine, type); };
        switch (m_machine->kind(type)) {
        case RelocationKind::None:
            // Ignored, but its symbol index is still checked: accessors
            // promise that every relocation names a real symbol or 0.
            if (symbol != 0 && symbol >= m_symbol_count)
                return reject(diagnostic, "relocation %lu in %s: %s symbol index %u is out of range (symbol count %u)",
                    i, table, type_name(), symbol, m_symbol_count);
            continue;
        case RelocationKind::Relative:
            if (symbol != 0)
                return reject(
                    diagnostic, "relocation %lu in %s: %s has symbol %u (expected 0)", i, table, type_name(), symbol);
            break;
        case RelocationKind::Absolute64:
        case RelocationKind::GlobDat:
        case RelocationKind::JumpSlot: {
            if (symbol == 0 || symbol >= m_symbol_count)
                return reject(diagnostic, "relocation %lu in %s: %s symbol index %u is out of range (symbol count %u)",
                    i, table, type_name(), symbol, m_symbol_count);
            Sym raw = raw_symbol(symbol);
            if (raw.st_shndx == SHN_UNDEF && symbol_bind(raw.st_info) == STB_LOCAL)
                return reject(diagnostic, "relocation %lu in %s: symbol %u '%s' is undefined and local", i, table,
                    symbol, string_at(raw.st_name));
            if (raw.st_shndx == SHN_ABS)
                return reject(diagnostic, "relocation %lu in %s: symbol %u '%s' is an absolute version marker", i,
                    table, symbol, string_at(raw.st_name));
            break;
        }
        case RelocationKind::Unsupported:
            return reject(diagnostic, "relocation %lu in %s: unsupported type %s (%u)", i, table, type_name(), type);
        }
        const LoadSegment* segment = find_segment(rela.r_offset, 8);
        if (!segment || !segment->writable())
            return reject(diagnostic, "relocation %lu in %s: r_offset 0x%lx (8 bytes) is not inside a writable PT_LOAD",
                i, table, rela.r_offset);
        // find_segment found the 8 bytes inside it, so memsz >= 8.
        writable_start = segment->vaddr;
        writable_last = segment->vaddr + segment->memsz - 8;
    }
    return {};
}

Result<void> ModuleImage::parse_relocations(Diagnostic& diagnostic)
{
    TRY(check_relocation_table("DT_RELA", m_rela_offset, m_rela_count, diagnostic));
    TRY(check_relocation_table("DT_JMPREL", m_jmprel_offset, m_jmprel_count, diagnostic));
    return {};
}

Result<void> ModuleImage::parse_arrays(Diagnostic& diagnostic)
{
    if (m_init_array.count > 0 && !find_segment(m_init_array.vaddr, m_init_array.count * 8))
        return reject(diagnostic, "DT_INIT_ARRAY 0x%lx + DT_INIT_ARRAYSZ 0x%lx is not inside a PT_LOAD",
            m_init_array.vaddr, m_init_array.count * 8);
    if (m_fini_array.count > 0 && !find_segment(m_fini_array.vaddr, m_fini_array.count * 8))
        return reject(diagnostic, "DT_FINI_ARRAY 0x%lx + DT_FINI_ARRAYSZ 0x%lx is not inside a PT_LOAD",
            m_fini_array.vaddr, m_fini_array.count * 8);
    return {};
}

Sym ModuleImage::raw_symbol(uint32_t index) const { return read<Sym>(m_symtab_offset + uint64_t(index) * sizeof(Sym)); }

ModuleImage::VersionDefinition ModuleImage::read_version_definition(uint64_t& offset) const
{
    Verdef definition = read<Verdef>(offset);
    Verdaux name = read<Verdaux>(offset + definition.vd_aux);
    offset += definition.vd_next;
    return { string_at(name.vda_name), definition.vd_ndx, definition.vd_flags };
}

bool ModuleImage::find_version(uint16_t index, const char*& name, const char*& file) const
{
    // The walks of for_each_version_definition and for_each_version_need,
    // stopping at the first match (symbol lookups call this for every
    // versioned symbol they look at).
    uint64_t offset = m_verdef_offset;
    for (uint32_t i = 0; i < m_verdef_count; ++i) {
        Verdef definition = read<Verdef>(offset);
        if (!(definition.vd_flags & VER_FLG_BASE) && definition.vd_ndx == index) {
            name = string_at(read<Verdaux>(offset + definition.vd_aux).vda_name);
            file = nullptr;
            return true;
        }
        offset += definition.vd_next;
    }
    offset = m_verneed_offset;
    for (uint32_t i = 0; i < m_verneed_count; ++i) {
        Verneed need = read<Verneed>(offset);
        uint64_t aux = offset + need.vn_aux;
        for (uint16_t j = 0; j < need.vn_cnt; ++j) {
            Vernaux entry = read<Vernaux>(aux);
            if (entry.vna_other == index) {
                name = string_at(entry.vna_name);
                file = string_at(need.vn_file);
                return true;
            }
            aux += entry.vna_next;
        }
        offset += need.vn_next;
    }
    return false;
}

ModuleImage::Symbol ModuleImage::symbol(uint32_t index) const
{
    Sym raw = raw_symbol(index);
    Symbol symbol = {};
    symbol.name = string_at(raw.st_name);
    symbol.value = raw.st_value;
    symbol.size = raw.st_size;
    symbol.type = symbol_type(raw.st_info);
    symbol.bind = symbol_bind(raw.st_info);
    symbol.visibility = symbol_visibility(raw.st_other);
    symbol.defined = raw.st_shndx != SHN_UNDEF;
    symbol.version_marker = raw.st_shndx == SHN_ABS;
    if (m_has_versym && index > 0) {
        uint16_t versym = read<uint16_t>(m_versym_offset + uint64_t(index) * 2);
        uint16_t version_index = versym & VERSYM_VERSION;
        symbol.version_hidden = versym & VERSYM_HIDDEN;
        if (version_index > VER_NDX_GLOBAL && !find_version(version_index, symbol.version, symbol.version_file)) {
            symbol.version = nullptr; // unreachable: parse_symbols checked every index
            symbol.version_file = nullptr;
        }
    }
    return symbol;
}

bool ModuleImage::symbol_matches(uint32_t index, const char* name, const char* version) const
{
    Sym raw = raw_symbol(index);
    uint8_t visibility = symbol_visibility(raw.st_other);
    if (raw.st_shndx == SHN_UNDEF || raw.st_shndx == SHN_ABS || symbol_bind(raw.st_info) == STB_LOCAL
        || visibility == STV_HIDDEN || visibility == STV_INTERNAL)
        return false;
    if (strcmp(string_at(raw.st_name), name) != 0)
        return false;
    uint16_t versym = m_has_versym ? read<uint16_t>(m_versym_offset + uint64_t(index) * 2) : VER_NDX_GLOBAL;
    if (!version)
        return !(versym & VERSYM_HIDDEN);
    const char* found_name;
    const char* found_file;
    uint16_t version_index = versym & VERSYM_VERSION;
    return version_index > VER_NDX_GLOBAL && find_version(version_index, found_name, found_file)
        && strcmp(found_name, version) == 0;
}

Result<uint32_t> ModuleImage::find_defined_symbol(const char* name, const char* version) const
{
    if (m_has_gnu_hash) {
        uint64_t offset = m_gnu_hash_offset;
        uint32_t bucket_count = read<uint32_t>(offset);
        uint32_t symbol_offset = read<uint32_t>(offset + 4);
        uint64_t buckets = offset + 16 + uint64_t(read<uint32_t>(offset + 8)) * 8;
        uint64_t chains = buckets + uint64_t(bucket_count) * 4;
        uint32_t hash = gnu_hash(name);
        // parse_hash_tables checked that every chain ends (bit 0 set) below
        // the symbol count; the bound is there anyway.
        for (uint32_t i = read<uint32_t>(buckets + uint64_t(hash % bucket_count) * 4); i != 0 && i < m_symbol_count;
             ++i) {
            uint32_t chain = read<uint32_t>(chains + uint64_t(i - symbol_offset) * 4);
            if ((chain | 1) == (hash | 1) && symbol_matches(i, name, version))
                return i;
            if (chain & 1)
                break;
        }
        return Err(Error::ENOENT);
    }
    if (m_has_hash) {
        uint32_t bucket_count = read<uint32_t>(m_hash_offset);
        uint32_t chain_count = read<uint32_t>(m_hash_offset + 4);
        uint64_t chains = m_hash_offset + 8 + uint64_t(bucket_count) * 4;
        uint32_t i = read<uint32_t>(m_hash_offset + 8 + uint64_t(sysv_hash(name) % bucket_count) * 4);
        // Chains may loop in a hostile file: never take more steps than entries.
        for (uint32_t steps = 0; i != 0 && steps < chain_count; ++steps) {
            if (symbol_matches(i, name, version))
                return i;
            i = read<uint32_t>(chains + uint64_t(i) * 4);
        }
        return Err(Error::ENOENT);
    }
    for (uint32_t i = 1; i < m_symbol_count; ++i) {
        if (symbol_matches(i, name, version))
            return i;
    }
    return Err(Error::ENOENT);
}

} // namespace keel
