// kmodinfo: what the console's `modinfo` prints, for a .kmod on the host
// (loader/commands.cpp print_modinfo); `--check-against CORE`: would that
// core load the module, and if not, why, in the loader's words; and
// `--list-nodes CORE`: the version nodes a core offers, released or not.
//
// The module is read by the kernel's own code: the signature trailer by
// lib/crypto, the ELF image by lib/elf's ModuleImage, and the loader's
// checks themselves by lib/kabi/module_check.h (signature policy, entry
// points, imports from the core and from other modules): the loader and
// this tool call the same functions, which write the same messages.
//
// A core is described by its manifest (CORE.manifest beside CORE.elf, or
// given directly; the SDK ships lib/keel/keel.manifest): its nodes, each
// export's hash and declaration, its built-in keys, blocklists and
// sig_enforce setting (docs/sdk.md, "Checking a module before shipping
// it"). An ELF without a manifest beside it is read the old way: the
// export table keel::g_kabi_core_table through its symbol table, with no
// keyring (signatures are then not checked).
#include "elf_file.h"
#include "tool.h"
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <deque>
#include <sstream>
#include <string>
#include <vector>

// After the C and C++ library headers: lib/errno.h takes the E* macros away.
#include "lib/crypto/endorsement.h"
#include "lib/crypto/module_signature.h"
#include "lib/devmatch/device_table.h"
#include "lib/elf/module_image.h"
#include "lib/kabi/module_check.h"

using namespace keel;
using namespace keel::tools;

namespace {

const char* const kUsage
    = "usage: kmodinfo MODULE.kmod\n"
      "       kmodinfo --check-against CORE [--sig-enforce] [--key FILE.endorsement ...] [-L DIR ...] MODULE.kmod ...\n"
      "       kmodinfo --list-nodes CORE\n"
      "The first prints what the console's `modinfo` prints. The second tells whether CORE (its manifest, or\n"
      "CORE.elf with CORE.manifest beside it) would load MODULE as its loader would, with the loader's words:\n"
      "signature against the core's keys (plus endorsed --key files, as from /etc/keel/keys.d), metadata,\n"
      "entry points, dependencies (found beside MODULE or in -L DIRs) and every import's node and hash;\n"
      "--sig-enforce as module.sig_enforce=1. Exit 0 when every MODULE loads, 1 otherwise. The third lists\n"
      "the version nodes CORE offers, each released or not, with its export count.\n";

std::string hex64(uint64_t value)
{
    char text[24];
    snprintf(text, sizeof(text), "0x%016llx", static_cast<unsigned long long>(value));
    return text;
}

struct Import {
    std::string name;
    std::string node; // empty: unversioned
    std::string file; // the vernaux's library: libkeel.so or a module's soname
    bool weak = false;
    bool has_hash = false;
    uint64_t hash = 0; // recorded in .keel_kabi
};

// A module's metadata and imports, as the loader's parser reads them.
struct ModuleInfo {
    std::string name;
    std::vector<std::pair<std::string, std::string>> modinfo; // key, value in file order
    std::vector<std::string> needed;
    std::vector<Import> imports;
    std::vector<std::string> exports; // "name@node 0xHASH" from .keel_exports
    std::vector<std::string> aliases; // one per entry of the match tables (Linux's format)
};

ModuleInfo read_module(const std::string& path, const uint8_t* image, size_t size)
{
    Diagnostic diagnostic;
    auto parsed = ModuleImage::parse(image, size, diagnostic);
    if (parsed.is_error())
        fail(path + ": " + diagnostic.message);
    const ModuleImage& module = parsed.value();
    ModuleInfo info;
    info.name = module.name();
    module.for_each_modinfo([&](const ModuleImage::ModinfoEntry& entry) {
        info.modinfo.emplace_back(std::string(entry.key, entry.key_length), entry.value);
    });
    module.for_each_needed([&](const char* needed) { info.needed.push_back(needed); });
    if (module.device_table()) {
        devmatch::for_each_alias(module.device_table(), module.device_table_size(),
            [&](const char* alias) { info.aliases.push_back(alias); });
    }
    for (size_t i = 0; i < module.export_hash_count(); i++) {
        ModuleImage::KabiEntry entry = module.export_hash_entry(i);
        info.exports.push_back(std::string(entry.name) + "@" + entry.node + " " + hex64(entry.hash));
    }
    for (uint32_t i = 1; i < module.symbol_count(); i++) {
        ModuleImage::Symbol symbol = module.symbol(i);
        if (symbol.defined)
            continue;
        Import import;
        import.name = symbol.name;
        import.weak = symbol.bind == elf::STB_WEAK;
        if (symbol.version) {
            import.node = symbol.version;
            import.file = symbol.version_file;
            ModuleImage::KabiEntry entry;
            if (module.find_kabi_entry(symbol.name, symbol.version, entry)) {
                import.has_hash = true;
                import.hash = entry.hash;
            }
        }
        info.imports.push_back(import);
    }
    return info;
}

// The signature trailer, through the kernel's parser; returns the length of
// the ELF image before it.
size_t describe_signature(const std::vector<uint8_t>& file, std::string& status, std::string& signer)
{
    Diagnostic diagnostic {};
    auto trailer = parse_signature_trailer(file.data(), file.size(), &diagnostic);
    if (trailer.is_error()) {
        if (trailer.error() != Error::ENODATA)
            fail(std::string("damaged signature trailer: ") + diagnostic.message);
        status = "unsigned";
        return file.size();
    }
    // Whether the key is trusted depends on the kernel's keyrings; the host
    // can only say who signed (kmod-sign verify checks against a key).
    status = std::to_string(trailer.value().record_count) + " signature(s), not verified here";
    for (size_t i = 0; i < trailer.value().record_count; i++) {
        const SignatureRecord& record = trailer.value().records[i];
        char id[key_id_text_size];
        format_key_id(record.key_id, id);
        signer += std::string(signer.empty() ? "key " : ", key ") + id;
        if (record.supported)
            signer += std::string(" (Ed25519, ") + image_digest_name(record.digest_algorithm) + " image digest)";
    }
    return trailer.value().image_length;
}

void print_field(const std::string& label, const std::string& value)
{
    printf("%-16s%s\n", printable(label).c_str(), printable(value).c_str());
}

void print_modinfo(
    const ModuleInfo& info, const std::string& path, const std::string& signature, const std::string& signer)
{
    print_field("filename:", path);
    for (const auto& [key, value] : info.modinfo) {
        if (key == "parm") {
            // NAME:TYPE:DESCRIPTION -> "parm: NAME:DESCRIPTION (TYPE)", as Linux.
            size_t type = value.find(':');
            size_t description = type == std::string::npos ? type : value.find(':', type + 1);
            if (description != std::string::npos)
                print_field("parm:",
                    value.substr(0, type) + ":" + value.substr(description + 1) + " ("
                        + value.substr(type + 1, description - type - 1) + ")");
            else
                print_field("parm:", value);
            continue;
        }
        print_field(key + ":", value);
    }
    for (const std::string& alias : info.aliases)
        print_field("alias:", alias);
    std::string depends;
    for (const std::string& needed : info.needed)
        if (needed != "libkeel.so")
            depends += (depends.empty() ? "" : ",") + needed;
    print_field("depends:", depends);
    print_field("signature:", signature);
    if (!signer.empty())
        print_field("signer:", signer);
    std::string nodes;
    std::vector<std::string> seen;
    for (const Import& import : info.imports) {
        if (import.node.empty() || std::find(seen.begin(), seen.end(), import.node) != seen.end())
            continue;
        seen.push_back(import.node);
        nodes += (nodes.empty() ? "" : " ") + import.node;
    }
    print_field("requires:", nodes);
    for (const std::string& line : info.exports)
        print_field("export:", line);
    for (const Import& import : info.imports) {
        if (import.has_hash)
            print_field("import:", import.name + "@" + import.node + " " + hex64(import.hash));
        else
            print_field("import:", import.name + "@" + (import.node.empty() ? "?" : import.node) + " (no hash)");
    }
}

// A core as kmodinfo checks against it: its export table (as the loader's
// KabiTable), its nodes, and its keyring when a manifest said what it is.
struct Core {
    std::string path;
    std::deque<std::string> strings; // owns every name the tables point to
    std::vector<KabiExport> exports;
    std::vector<KabiNode> nodes;
    std::vector<uint32_t> slots;
    std::vector<bool> released;            // per node; only from a manifest
    std::vector<std::string> declarations; // per export; only from a manifest
    KabiTable table;
    bool has_keyring = false;
    bool enforce = false;
    std::vector<std::pair<std::array<uint8_t, 32>, std::string>> keys;
    std::vector<KeyId> blocked_keys;
    std::vector<Blake2bDigest> blocked_digests;
    std::vector<Blake2bDigest> known_digests; // known-module lines, with
    std::vector<uint64_t> known_lengths;      // their images' lengths
    std::vector<std::string> known_names;     // and their modules' names

    const char* keep(const std::string& text)
    {
        strings.push_back(text);
        return strings.back().c_str();
    }

    void index()
    {
        for (KabiExport& entry : exports)
            entry.key = kabi_key(entry.name, entry.node);
        slots.assign(KabiTable::slot_count_for(exports.size()), 0);
        if (KabiTable::build_index(exports.data(), exports.size(), slots.data(), slots.size()).is_error())
            fail(path + ": the export table has a name@node twice");
        table = KabiTable(exports.data(), exports.size(), slots.data(), slots.size(), nodes.data(), nodes.size());
    }
};

uint64_t u64_at(const uint8_t* bytes)
{
    uint64_t value;
    memcpy(&value, bytes, sizeof(value));
    return value;
}

// The export table g_kabi_core_table points to in a core's ELF image
// (core/lib/kabi/kabi_table.h: KabiTable holds the export array and its
// count, the slots and their count, the node array and its count; each
// KabiExport holds name, node, hash, key, address; each KabiNode name,
// parent, interface).
void read_core_elf(Core& core, const ElfFile& elf)
{
    uint64_t table = elf.symbol_value("_ZN4keel17g_kabi_core_tableE");
    const uint8_t* fields = elf.at_address(table, 48, "g_kabi_core_table");
    uint64_t count = u64_at(fields + 8);
    uint64_t node_count = u64_at(fields + 40);
    if (count > (1u << 20) || node_count > 4096)
        elf.error("g_kabi_core_table: export_count " + std::to_string(count) + " or node_count "
            + std::to_string(node_count) + " is implausible");
    const uint8_t* entries = elf.at_address(u64_at(fields), count * 40, "the export array");
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t* entry = entries + i * 40;
        core.exports.push_back({ core.keep(elf.string_at_address(u64_at(entry), "an export's name")),
            core.keep(elf.string_at_address(u64_at(entry + 8), "an export's node")), u64_at(entry + 16), 0, nullptr });
    }
    const uint8_t* nodes
        = node_count ? elf.at_address(u64_at(fields + 32), node_count * 24, "the node array") : nullptr;
    for (uint64_t i = 0; i < node_count; i++) {
        const uint8_t* node = nodes + i * 24;
        uint64_t parent = u64_at(node + 8);
        core.nodes.push_back({ core.keep(elf.string_at_address(u64_at(node), "a node's name")),
            parent ? core.keep(elf.string_at_address(parent, "a node's parent")) : nullptr,
            core.keep(elf.string_at_address(u64_at(node + 16), "a node's interface")) });
    }
}

std::vector<uint8_t> hex_bytes(const std::string& text, size_t size, const std::string& where)
{
    if (text.size() != 2 * size || text.find_first_not_of("0123456789abcdef") != std::string::npos)
        fail(where + ": '" + text + "' is not " + std::to_string(2 * size) + " lower-case hex digits");
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; i++)
        bytes[i] = uint8_t(std::stoul(text.substr(2 * i, 2), nullptr, 16));
    return bytes;
}

// The manifest (scripts/abi/keelabi/gen_manifest.py, scripts/gen-builtin-keys.py):
// untrusted text, checked line by line.
void read_manifest(Core& core, const std::string& path)
{
    std::vector<uint8_t> bytes = read_file(path);
    std::istringstream text(std::string(bytes.begin(), bytes.end()));
    std::string line;
    bool header = false;
    for (size_t number = 1; std::getline(text, line); number++) {
        std::string where = path + ":" + std::to_string(number);
        std::istringstream fields(line);
        std::string kind;
        if (!(fields >> kind) || kind[0] == '#')
            continue;
        auto rest = [&] {
            std::string value;
            std::getline(fields >> std::ws, value);
            return value;
        };
        if (!header) {
            std::string version;
            if (kind != "keel-manifest" || !(fields >> version) || version != "1")
                fail(where + ": not a Keel core manifest of format 1 (expected 'keel-manifest 1')");
            header = true;
        } else if (kind == "node") {
            std::string name, interface, parent, state;
            if (!(fields >> name >> interface >> parent >> state) || (state != "released" && state != "unreleased"))
                fail(where + ": expected 'node NAME INTERFACE PARENT|- released|unreleased', got '" + line + "'");
            core.nodes.push_back(
                { core.keep(name), parent == "-" ? nullptr : core.keep(parent), core.keep(interface) });
            core.released.push_back(state == "released");
        } else if (kind == "symbol") {
            std::string hash, name, node;
            if (!(fields >> hash >> name >> node) || hash.size() != 18 || hash.compare(0, 2, "0x") != 0
                || hash.find_first_not_of("0123456789abcdef", 2) != std::string::npos)
                fail(where + ": expected 'symbol 0xHASH NAME NODE DECLARATION', got '" + line + "'");
            core.exports.push_back(
                { core.keep(name), core.keep(node), std::stoull(hash.substr(2), nullptr, 16), 0, nullptr });
            core.declarations.push_back(rest());
        } else if (kind == "sig_enforce") {
            std::string value;
            if (!(fields >> value) || (value != "yes" && value != "no"))
                fail(where + ": expected 'sig_enforce yes|no'");
            core.enforce = value == "yes";
            core.has_keyring = true;
        } else if (kind == "key") {
            std::string key;
            fields >> key;
            std::vector<uint8_t> raw = hex_bytes(key, 32, where);
            std::array<uint8_t, 32> bytes32;
            std::copy(raw.begin(), raw.end(), bytes32.begin());
            core.keys.emplace_back(bytes32, rest());
        } else if (kind == "blocked-key") {
            std::string id;
            fields >> id;
            KeyId key;
            std::vector<uint8_t> raw = hex_bytes(id, KeyId::size, where);
            memcpy(key.bytes, raw.data(), KeyId::size);
            core.blocked_keys.push_back(key);
        } else if (kind == "blocked-digest") {
            std::string digest;
            fields >> digest;
            Blake2bDigest value;
            std::vector<uint8_t> raw = hex_bytes(digest, Blake2bDigest::size, where);
            memcpy(value.bytes, raw.data(), Blake2bDigest::size);
            core.blocked_digests.push_back(value);
        } else if (kind == "known-module") {
            std::string name, digest;
            uint64_t length = 0;
            if (!(fields >> name >> length >> digest))
                fail(where + ": expected 'known-module NAME LENGTH DIGEST'");
            Blake2bDigest value;
            std::vector<uint8_t> raw = hex_bytes(digest, Blake2bDigest::size, where);
            memcpy(value.bytes, raw.data(), Blake2bDigest::size);
            core.known_digests.push_back(value);
            core.known_lengths.push_back(length);
            core.known_names.push_back(name);
        } else {
            fail(where + ": unknown entry '" + kind + "'");
        }
    }
    if (!header)
        fail(path + ": empty: not a Keel core manifest");
    for (const KabiExport& entry : core.exports) {
        bool known = std::any_of(core.nodes.begin(), core.nodes.end(),
            [&](const KabiNode& node) { return strcmp(node.name, entry.node) == 0; });
        if (!known)
            fail(path + ": symbol " + entry.name + "@" + entry.node + " names a node the manifest does not list");
    }
}

bool is_elf(const std::string& path)
{
    std::vector<uint8_t> head = read_file(path);
    return head.size() >= 4
        && memcmp(head.data(),
               "\x7f"
               "ELF",
               4)
        == 0;
}

// CORE: a manifest, or an ELF with STEM.manifest beside it, or (the old
// way) an ELF alone.
Core load_core(const std::string& path)
{
    Core core;
    core.path = path;
    if (!is_elf(path)) {
        read_manifest(core, path);
    } else {
        std::string manifest = path.substr(0, path.rfind('.')) + ".manifest";
        if (path.rfind('.') != std::string::npos && access(manifest.c_str(), R_OK) == 0) {
            read_manifest(core, manifest);
        } else {
            std::vector<uint8_t> bytes = read_file(path);
            read_core_elf(core, ElfFile(path, bytes.data(), bytes.size()));
        }
    }
    core.index();
    return core;
}

int list_nodes(const Core& core)
{
    for (size_t i = 0; i < core.nodes.size(); i++) {
        const KabiNode& node = core.nodes[i];
        size_t count = std::count_if(core.exports.begin(), core.exports.end(),
            [&](const KabiExport& entry) { return strcmp(entry.node, node.name) == 0; });
        std::string state = core.released.empty() ? "(no manifest: release state unknown)"
            : core.released[i]                    ? "released"
                                                  : "unreleased";
        printf("%-20s %-10s %-20s %3zu export(s)  %s\n", printable(node.name).c_str(),
            printable(node.interface).c_str(), node.parent ? printable(node.parent).c_str() : "-", count,
            state.c_str());
    }
    return 0;
}

// What the boot would trust: the core's unblocked built-in keys, then the
// vendor keys whose endorsements (--key, as from /etc/keel/keys.d) a
// built-in key verifies.
struct HostKeyring {
    std::vector<TrustedKey> keys;
    const Core* core = nullptr;
};

bool host_key_blocked(const KeyId& id, const void* context)
{
    const auto* core = static_cast<const Core*>(context);
    return std::any_of(core->blocked_keys.begin(), core->blocked_keys.end(), [&](const KeyId& k) { return k == id; });
}

bool host_digest_blocked(const Blake2bDigest& digest, const void* context)
{
    const auto* core = static_cast<const Core*>(context);
    return std::any_of(core->blocked_digests.begin(), core->blocked_digests.end(),
        [&](const Blake2bDigest& d) { return memcmp(d.bytes, digest.bytes, Blake2bDigest::size) == 0; });
}

HostKeyring make_keyring(const Core& core, const std::vector<std::string>& endorsements)
{
    HostKeyring keyring;
    keyring.core = &core;
    for (const auto& [bytes, description] : core.keys) {
        TrustedKey key = make_trusted_key(bytes.data(), nullptr);
        if (!host_key_blocked(key.id, &core))
            keyring.keys.push_back(key);
    }
    size_t builtin = keyring.keys.size();
    for (const std::string& path : endorsements) {
        std::vector<uint8_t> data = read_file(path);
        Diagnostic diagnostic {};
        auto check = verify_endorsement(data.data(), data.size(), keyring.keys.data(), builtin, &diagnostic);
        if (check.is_error())
            fail(path + ": endorsement rejected: " + diagnostic.message);
        TrustedKey key = make_trusted_key(check.value().endorsement.vendor_public_key, nullptr);
        if (host_key_blocked(key.id, &core))
            fail(path + ": the vendor key is blocked");
        keyring.keys.push_back(key);
    }
    return keyring;
}

struct CheckOptions {
    bool enforce = false;
    std::vector<std::string> directories;
};

// A module as the loader sees it: the file, the image its signature covers.
struct LoadedModule {
    std::string path;
    std::vector<uint8_t> file;
    ModuleImage image;
};

std::string directory_of(const std::string& path)
{
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

// The loader's pipeline without mapping or running anything: the first
// refusal is what the loader would answer (its words); later import
// problems are listed too. Returns the number of refusals.
int check_module(const std::string& path, const Core& core, const HostKeyring& keyring, const CheckOptions& options,
    std::deque<LoadedModule>& chain, bool quiet)
{
    char text[640];
    CheckMessage message { text, sizeof(text) };
    auto refuse = [&](const char* reason) {
        printf("refused  %s\n", printable(reason).c_str());
        return 1;
    };
    chain.push_back({ path, read_file(path), {} });
    LoadedModule& module = chain.back();

    if (core.has_keyring) {
        SignaturePolicy policy {};
        policy.keys = keyring.keys.data();
        policy.key_count = keyring.keys.size();
        policy.enforce = options.enforce || core.enforce;
        policy.key_blocked = host_key_blocked;
        policy.digest_blocked = host_digest_blocked;
        policy.blocked_digest_count = core.blocked_digests.size();
        policy.context = &core;
        policy.known_images = { core.known_digests.data(), core.known_lengths.data(), core.known_digests.size() };
        text[0] = '\0';
        auto verdict = check_module_signature(module.file.data(), module.file.size(), path.c_str(), policy, message);
        if (verdict.is_error())
            return refuse(text);
        if (verdict.value().unverified)
            printf("warning  %s\n", printable(text).c_str());
        else if (verdict.value().known_image && !quiet)
            printf("ok       known to the core by digest (its build's %s)\n", [&] {
                // The check found it in the same list: the index is never -1.
                long index
                    = find_known_image(policy.known_images, verdict.value().image_length, verdict.value().digest.bytes);
                return index >= 0 ? core.known_names[size_t(index)].c_str() : "?";
            }());
        else if (!quiet)
            printf("ok       signature by key %s\n", [&] {
                static char id[key_id_text_size];
                format_key_id(verdict.value().key->id, id);
                return id;
            }());
        module.file.resize(verdict.value().image_length);
    } else {
        Diagnostic diagnostic {};
        auto trailer = parse_signature_trailer(module.file.data(), module.file.size(), &diagnostic);
        if (trailer.is_ok())
            module.file.resize(trailer.value().image_length);
        printf("note     signature not checked: %s has no manifest (the core's keys)\n", core.path.c_str());
    }

    Diagnostic diagnostic;
    auto parsed = ModuleImage::parse(module.file.data(), module.file.size(), diagnostic);
    if (parsed.is_error()) {
        snprintf(text, sizeof(text), "%s: invalid module: %s", path.c_str(), diagnostic.message);
        return refuse(text);
    }
    module.image = parsed.release_value();
    const ModuleImage& image = module.image;
    if (check_entry_points(image, message).is_error())
        return refuse(text);

    // Dependencies, found as the loader finds them (by name), here beside
    // the module or in -L directories; each checked the same way.
    std::vector<const LoadedModule*> dependencies;
    std::vector<std::string> needed;
    image.for_each_needed([&](const char* name) {
        if (strcmp(name, "libkeel.so") != 0)
            needed.push_back(name);
    });
    for (const std::string& soname : needed) {
        char name[ModuleImage::kMaxNameLength + 1];
        if (!module_name_from_soname(soname.c_str(), name, sizeof(name))) {
            snprintf(text, sizeof(text), "%s: DT_NEEDED %s does not name a module (NAME.kmod)", image.name(),
                soname.c_str());
            return refuse(text);
        }
        bool cycle = std::any_of(chain.begin(), chain.end(),
            [&](const LoadedModule& m) { return m.image.name() && strcmp(m.image.name(), name) == 0; });
        if (cycle) {
            snprintf(text, sizeof(text), "%s: dependency cycle: %s needs %s, which is already being loaded",
                image.name(), image.name(), name);
            return refuse(text);
        }
        std::vector<std::string> directories { directory_of(path) };
        directories.insert(directories.end(), options.directories.begin(), options.directories.end());
        std::string found;
        for (const std::string& directory : directories) {
            if (access((directory + "/" + soname).c_str(), R_OK) == 0) {
                found = directory + "/" + soname;
                break;
            }
        }
        if (found.empty()) {
            // The loader's words, with the host's places to look.
            snprintf(text, sizeof(text), "%s: needs %s (DT_NEEDED %s): %s: no %s in %s", image.name(), name,
                soname.c_str(), name, soname.c_str(),
                options.directories.empty() ? "the module's directory (give -L DIR)"
                                            : "the module's directory or a -L directory");
            return refuse(text);
        }
        if (!quiet)
            printf("needs    %s (%s)\n", printable(name).c_str(), printable(found).c_str());
        size_t before = chain.size();
        if (check_module(found, core, keyring, options, chain, true) > 0) {
            snprintf(text, sizeof(text), "%s: needs %s (DT_NEEDED %s): %s refused (above)", image.name(), name,
                soname.c_str(), name);
            return refuse(text);
        }
        dependencies.push_back(&chain[before]);
    }

    // Imports, in the order the loader resolves them: relocation order.
    int refused = 0;
    std::vector<uint32_t> seen;
    for (uint64_t i = 0; i < image.relocation_count(); i++) {
        uint32_t index = image.relocation(i).symbol;
        if (index == 0 || std::find(seen.begin(), seen.end(), index) != seen.end())
            continue;
        seen.push_back(index);
        ModuleImage::Symbol symbol = image.symbol(index);
        if (symbol.defined)
            continue;
        std::string label = printable(std::string(symbol.name) + "@" + (symbol.version ? symbol.version : "?"));
        if (!symbol.version || !symbol.version_file) {
            if (symbol.bind == elf::STB_WEAK) {
                if (!quiet)
                    printf("ok       %s (unversioned weak: stays null)\n", printable(symbol.name).c_str());
                continue;
            }
            snprintf(text, sizeof(text), "%s: import %s has no version node (link against the SDK's libkeel.so)",
                image.name(), symbol.name);
            refused += refuse(text);
            continue;
        }
        bool forcible = false;
        if (strcmp(symbol.version_file, "libkeel.so") == 0) {
            auto entry = check_core_import(image, symbol, core.table, forcible, message);
            if (entry.is_error())
                refused += refuse(text);
            else if (!quiet)
                printf("ok       %s %s\n", label.c_str(), hex64(entry.value()->hash).c_str());
            continue;
        }
        const LoadedModule* provider = nullptr;
        for (const LoadedModule* dependency : dependencies) {
            const char* soname = dependency->image.soname();
            if (soname && strcmp(soname, symbol.version_file) == 0)
                provider = dependency;
        }
        if (!provider) {
            bool missing = std::find(needed.begin(), needed.end(), symbol.version_file) != needed.end();
            if (missing) {
                if (!quiet)
                    printf(
                        "module   %s (from %s: not checked)\n", label.c_str(), printable(symbol.version_file).c_str());
                continue;
            }
            snprintf(text, sizeof(text), "%s: %s@%s comes from %s, which is not among its dependencies", image.name(),
                symbol.name, symbol.version, symbol.version_file);
            refused += refuse(text);
            continue;
        }
        bool warning = false;
        auto offset = check_module_import(image, symbol, provider->image, forcible, warning, message);
        if (offset.is_error())
            refused += refuse(text);
        else if (warning)
            printf("warning  %s\n", printable(text).c_str());
        else if (!quiet)
            printf("ok       %s from %s\n", label.c_str(), printable(provider->image.name()).c_str());
    }
    return refused;
}

} // namespace

int main(int argc, char** argv)
{
    return run_tool("kmodinfo", kUsage, [&] {
        std::vector<std::string> arguments(argv + 1, argv + argc);
        if (arguments.size() == 1 && (arguments[0] == "-h" || arguments[0] == "--help"))
            show_help();
        if (arguments.size() == 2 && arguments[0] == "--list-nodes")
            return list_nodes(load_core(arguments[1]));
        if (!arguments.empty() && arguments[0] == "--check-against") {
            if (arguments.size() < 3)
                usage_error();
            std::string core_path = arguments[1];
            CheckOptions options;
            std::vector<std::string> endorsements;
            std::vector<std::string> modules;
            for (size_t i = 2; i < arguments.size(); i++) {
                const std::string& argument = arguments[i];
                if (argument == "--sig-enforce")
                    options.enforce = true;
                else if (argument == "--key" && i + 1 < arguments.size())
                    endorsements.push_back(arguments[++i]);
                else if (argument == "-L" && i + 1 < arguments.size())
                    options.directories.push_back(arguments[++i]);
                else if (!argument.empty() && argument[0] != '-')
                    modules.push_back(argument);
                else
                    usage_error("unknown option " + argument);
            }
            if (modules.empty())
                usage_error();
            Core core = load_core(core_path);
            HostKeyring keyring = make_keyring(core, endorsements);
            int failures = 0;
            for (const std::string& path : modules) {
                std::deque<LoadedModule> chain;
                int refused = check_module(path, core, keyring, options, chain, false);
                std::string name = chain.front().image.name() ? printable(chain.front().image.name()) : path;
                if (refused) {
                    printf("%s: REFUSED by %s: %d problem(s); the loader reports the first\n", name.c_str(),
                        core_path.c_str(), refused);
                    failures++;
                } else {
                    printf("%s: loads on %s: every import resolves\n", name.c_str(), core_path.c_str());
                }
            }
            return failures ? 1 : 0;
        }
        if (arguments.size() != 1 || arguments[0].empty() || arguments[0][0] == '-')
            usage_error();
        const std::string& path = arguments[0];
        std::vector<uint8_t> file = read_file(path);
        std::string signature;
        std::string signer;
        size_t image_length = describe_signature(file, signature, signer);
        ModuleInfo info = read_module(path, file.data(), image_length);
        print_modinfo(info, path, signature, signer);
        return 0;
    });
}
