// Device matching and Linux-format strings against what Linux itself
// printed (linux_goldens.txt: Linux 6.1's sysfs modaliases for QEMU 7.2's
// q35 devices, and the alias patterns modpost wrote into Linux's modules),
// match tables against golden device properties, the glob against
// fnmatch(3), and device-tree matching.
#include <catch2/catch.hpp>

#include <fnmatch.h>
#include <string.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

#include "glob_oracle.h"
#include "goldens.h"
#include "lib/devmatch/glob.h"
#include "lib/devmatch/of.h"
#include "lib/devmatch/pci.h"
#include "lib/devmatch/virtio_id.h"
#include "lib/virtio/pci_caps.h"

using keel::Diagnostic;
using keel::Error;
using namespace keel::devmatch;

namespace {

const goldens::Goldens& golden()
{
    static goldens::Goldens g = goldens::load();
    return g;
}

PciId pci_id(const goldens::PciFunction& f)
{
    return PciId { f.vendor, f.device, f.subvendor, f.subdevice, f.class_code, f.revision };
}

std::string modalias(const PciId& id)
{
    char buffer[kPciModaliasSize];
    auto length = format_pci_modalias(id, buffer, sizeof(buffer));
    REQUIRE(length.is_ok());
    REQUIRE(length.value() == strlen(buffer));
    return buffer;
}

std::string alias(const PciMatch& entry)
{
    char buffer[kPciAliasSize];
    Diagnostic diagnostic;
    auto length = format_pci_alias(entry, buffer, sizeof(buffer), &diagnostic);
    INFO(diagnostic.message);
    REQUIRE(length.is_ok());
    return buffer;
}

std::string alias(const VirtioMatch& entry)
{
    char buffer[kVirtioAliasSize];
    REQUIRE(format_virtio_alias(entry, buffer, sizeof(buffer)).is_ok());
    return buffer;
}

std::string modalias(const VirtioId& id)
{
    char buffer[kVirtioModaliasSize];
    REQUIRE(format_virtio_modalias(id, buffer, sizeof(buffer)).is_ok());
    return buffer;
}

// The virtio identity Linux's virtio_pci gives the device on a function.
VirtioId virtio_id(const goldens::PciFunction& f)
{
    auto identity = keel::virtio::identify_virtio_pci(f.vendor, f.device, f.subdevice);
    REQUIRE(identity.is_ok());
    return VirtioId { identity.value().device_type, f.subvendor };
}

PciMatch pci_entry(uint32_t vendor, uint32_t device, uint32_t subvendor = PCI_ANY_ID, uint32_t subdevice = PCI_ANY_ID,
    uint32_t class_code = 0, uint32_t class_mask = 0)
{
    return PciMatch { vendor, device, subvendor, subdevice, class_code, class_mask, 0 };
}

// A match entry rebuilt from one of modpost's alias patterns.
PciMatch parse_pci_alias(const std::string& pattern)
{
    static const std::regex form("pci:v(\\*|[0-9A-F]{8})d(\\*|[0-9A-F]{8})sv(\\*|[0-9A-F]{8})sd(\\*|[0-9A-F]{8})bc(\\*|"
                                 "[0-9A-F]{2})sc(\\*|[0-9A-F]{"
                                 "2})i(\\*|[0-9A-F]{2})\\*?");
    std::smatch match;
    REQUIRE(std::regex_match(pattern, match, form));
    auto id
        = [&](int group) { return match[group] == "*" ? PCI_ANY_ID : uint32_t(std::stoul(match[group], nullptr, 16)); };
    PciMatch entry = pci_entry(id(1), id(2), id(3), id(4));
    for (int group = 5; group <= 7; ++group) {
        unsigned shift = unsigned(7 - group) * 8;
        if (match[group] != "*") {
            entry.class_code |= uint32_t(std::stoul(match[group], nullptr, 16)) << shift;
            entry.class_mask |= 0xffu << shift;
        }
    }
    return entry;
}

} // namespace

TEST_CASE("PCI modaliases are byte-identical to Linux's for every function of the golden machine")
{
    // Nine QEMU devices and q35's own functions.
    REQUIRE(golden().functions.size() >= 12);
    for (const auto& f : golden().functions) {
        INFO(f.slot << " " << f.label);
        CHECK(modalias(pci_id(f)) == f.modalias);
    }
    // The ones the issue names, spelled out.
    CHECK(golden().function("virtio-blk-pci,disable-legacy=on").modalias
        == "pci:v00001AF4d00001042sv00001AF4sd00001100bc01sc00i00");
    CHECK(golden().function("virtio-blk-pci").modalias == "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00");
    CHECK(golden().function("virtio-net-pci,disable-legacy=on").modalias
        == "pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00");
    CHECK(golden().function("virtio-net-pci").modalias == "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00");
    CHECK(golden().function("virtio-rng-pci,disable-legacy=on").modalias
        == "pci:v00001AF4d00001044sv00001AF4sd00001100bc00scFFi00");
    CHECK(golden().function("virtio-rng-pci").modalias == "pci:v00001AF4d00001005sv00001AF4sd00000004bc00scFFi00");
    CHECK(golden().function("edu").modalias == "pci:v00001234d000011E8sv00001AF4sd00001100bc00scFFi00");
    CHECK(modalias(PciId { 0x8086, 0x29c0, 0x1af4, 0x1100, 0x060000, 0 })
        == "pci:v00008086d000029C0sv00001AF4sd00001100bc06sc00i00"); // q35's host bridge
}

TEST_CASE("virtio modaliases are byte-identical to Linux's, transitional and modern alike")
{
    size_t seen = 0;
    for (const auto& f : golden().functions) {
        if (f.virtio_modalias.empty())
            continue;
        INFO(f.slot << " " << f.label);
        CHECK(modalias(virtio_id(f)) == f.virtio_modalias);
        ++seen;
    }
    CHECK(seen == 6);
    CHECK(golden().function("virtio-blk-pci").virtio_modalias == "virtio:d00000002v00001AF4");
    CHECK(golden().function("virtio-net-pci,disable-legacy=on").virtio_modalias == "virtio:d00000001v00001AF4");
    CHECK(golden().function("virtio-rng-pci").virtio_modalias == "virtio:d00000004v00001AF4");
}

TEST_CASE("alias patterns are byte-identical to the ones modpost wrote into Linux's modules")
{
    // Entries whose source we know (Linux's drivers): virtio_pci matches
    // the vendor; the virtio drivers a type; cxl_pci a whole class with a
    // mask of ~0, whose bits above the 24 file2alias ignores.
    CHECK(std::vector<std::string> { alias(pci_entry(0x1af4, PCI_ANY_ID)) } == golden().aliases_of("virtio_pci"));
    const struct {
        const char* module;
        uint32_t type;
    } virtio_drivers[] = { { "virtio_blk", 2 }, { "virtio_net", 1 }, { "virtio-rng", 4 }, { "virtio_console", 3 },
        { "virtio_balloon", 5 }, { "virtio_input", 18 } };
    for (const auto& driver : virtio_drivers) {
        INFO(driver.module);
        CHECK(std::vector<std::string> { alias(VirtioMatch { driver.type, VIRTIO_DEV_ANY_ID, 0 }) }
            == golden().aliases_of(driver.module));
    }
    CHECK(std::vector<std::string> { alias(pci_entry(PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, 0x050210, ~0u)) }
        == golden().aliases_of("cxl_pci"));

    // Every PCI pattern: rebuilt into an entry, formatted back.
    size_t pci_patterns = 0;
    for (const auto& a : golden().aliases) {
        if (a.pattern.rfind("pci:", 0) != 0)
            continue;
        INFO(a.module << " " << a.pattern);
        CHECK(alias(parse_pci_alias(a.pattern)) == a.pattern);
        ++pci_patterns;
    }
    CHECK(pci_patterns >= 15);

    // Device-tree entries with only a compatible string: two patterns each.
    const struct {
        const char* module;
        const char* compatible;
    } of_drivers[] = { { "qemu_fw_cfg", "qemu,fw-cfg-mmio" }, { "pvpanic-mmio", "qemu,pvpanic-mmio" },
        { "virtio_mmio", "virtio,mmio" } };
    for (const auto& driver : of_drivers) {
        INFO(driver.module);
        char first[kOfAliasSize];
        char second[kOfAliasSize];
        OfMatch entry;
        entry.compatible = driver.compatible;
        REQUIRE(format_of_aliases(entry, first, sizeof(first), second, sizeof(second)).is_ok());
        auto patterns = golden().aliases_of(driver.module);
        REQUIRE(patterns.size() == 2);
        // modpost writes the "C*" one first into .modinfo.
        CHECK(patterns[1] == first);
        CHECK(patterns[0] == second);
    }
}

TEST_CASE("module autoload: which golden devices each golden alias pattern claims")
{
    auto claimed = [](const std::string& module) {
        std::vector<std::string> labels;
        for (const auto& f : golden().functions) {
            bool match = false;
            for (const auto& pattern : golden().aliases_of(module)) {
                match = match || glob_match(pattern.c_str(), f.modalias.c_str())
                    || (!f.virtio_modalias.empty() && glob_match(pattern.c_str(), f.virtio_modalias.c_str()));
            }
            if (match)
                labels.push_back(f.label);
        }
        return labels;
    };
    CHECK(claimed("virtio_pci")
        == std::vector<std::string> { "virtio-blk-pci", "virtio-blk-pci,disable-legacy=on", "virtio-net-pci",
            "virtio-net-pci,disable-legacy=on", "virtio-rng-pci", "virtio-rng-pci,disable-legacy=on" });
    CHECK(claimed("virtio_blk") == std::vector<std::string> { "virtio-blk-pci", "virtio-blk-pci,disable-legacy=on" });
    CHECK(claimed("virtio-rng") == std::vector<std::string> { "virtio-rng-pci", "virtio-rng-pci,disable-legacy=on" });
    CHECK(claimed("virtio_console").empty());
    CHECK(claimed("cxl_pci").empty());
    // ata_generic claims IDE controllers by class: q35 has none (its SATA
    // controller is class 01:06).
    CHECK(claimed("ata_generic").empty());
}

TEST_CASE("PCI match tables against the golden devices")
{
    const auto& blk = golden().function("virtio-blk-pci,disable-legacy=on");
    const auto& blk_legacy = golden().function("virtio-blk-pci");
    const auto& edu = golden().function("edu");
    const auto& sata = golden().function("q35");

    const PciMatch table[] = {
        pci_entry(0x1234, 0x11e8),                                                     // 0: edu
        pci_entry(0x1af4, 0x1042),                                                     // 1: modern virtio-blk
        pci_entry(0x1af4, PCI_ANY_ID, 0x1af4, 0x0002),                                 // 2: by subsystem
        pci_entry(PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, 0x010601, 0xffffff), // 3: AHCI by class
        pci_entry(PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, 0x010000, 0xff0000), // 4: any storage
        pci_entry(PCI_ANY_ID, PCI_ANY_ID),                                             // 5: anything
    };
    auto first = [&](const goldens::PciFunction& f) { return pci_match_table(table, 6, pci_id(f)).value(); };
    CHECK(first(edu) == 0);
    CHECK(first(blk) == 1);
    CHECK(first(blk_legacy) == 2);
    CHECK(first(golden().function("virtio-net-pci")) == 5);
    CHECK(first(sata) == 5); // the first "q35" function is the host bridge
    for (const auto& f : golden().functions) {
        if (f.slot == "0000:00:1f.2") {
            CHECK(first(f) == 3);
            CHECK(pci_match_table(table + 4, 2, pci_id(f)).value() == 0); // storage by base class
        }
    }
    CHECK(pci_match_table(table, 2, pci_id(golden().function("virtio-rng-pci"))).error() == Error::ENOENT);
    CHECK(pci_match_table(table, 0, pci_id(edu)).error() == Error::ENOENT);

    // The revision is not part of matching.
    PciId id = pci_id(edu);
    id.revision = 0x99;
    CHECK(pci_matches(table[0], id));
    // A mask bit set above the class's 24 bits: the device's bits there are
    // 0, so an entry with such a class bit never matches (Linux the same).
    CHECK_FALSE(pci_matches(pci_entry(PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, 0x01010601, ~0u), pci_id(edu)));
}

TEST_CASE("virtio match tables")
{
    const VirtioMatch table[] = {
        { 2, 0x1af4, 10 },                 // block from QEMU's vendor
        { 1, VIRTIO_DEV_ANY_ID, 11 },      // any network card
        { VIRTIO_DEV_ANY_ID, 0x1af4, 12 }, // anything from 0x1af4
    };
    CHECK(virtio_match_table(table, 3, { 2, 0x1af4 }).value() == 0);
    CHECK(virtio_match_table(table, 3, { 2, 0x1234 }).error() == Error::ENOENT);
    CHECK(virtio_match_table(table, 3, { 1, 0x1234 }).value() == 1);
    CHECK(virtio_match_table(table, 3, { 4, 0x1af4 }).value() == 2);
    CHECK(alias(table[0]) == "virtio:d00000002v00001AF4*");
    CHECK(alias(table[2]) == "virtio:d*v00001AF4*");
    CHECK(alias(VirtioMatch {}) == "virtio:d*v*");
}

TEST_CASE("formatting: buffers too small, masks that cannot be aliases")
{
    char small[10];
    CHECK(format_pci_modalias(PciId {}, small, sizeof(small)).error() == Error::ERANGE);
    CHECK(strlen(small) == 9); // truncated, terminated
    CHECK(format_pci_modalias(PciId {}, nullptr, 0).error() == Error::ERANGE);
    char exact[kPciModaliasSize];
    CHECK(format_pci_modalias(PciId {}, exact, sizeof(exact)).value() == kPciModaliasSize - 1);
    char alias_exact[kPciAliasSize];
    CHECK(format_pci_alias(pci_entry(1, 2, 3, 4, 0x010203, 0xffffff), alias_exact, sizeof(alias_exact)).value()
        == kPciAliasSize - 1);
    CHECK(std::string(alias_exact) == "pci:v00000001d00000002sv00000003sd00000004bc01sc02i03*");
    CHECK(format_pci_alias(pci_entry(1, 2, 3, 4, 0x010203, 0xffffff), alias_exact, sizeof(alias_exact) - 1).error()
        == Error::ERANGE);
    char virtio_exact[kVirtioModaliasSize];
    CHECK(format_virtio_modalias({ 0xffffffff, 0xffffffff }, virtio_exact, sizeof(virtio_exact)).value()
        == kVirtioModaliasSize - 1);

    Diagnostic diagnostic;
    char buffer[kPciAliasSize];
    auto refused = format_pci_alias(pci_entry(PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, 0x010100, 0xfff000),
        buffer, sizeof(buffer), &diagnostic);
    CHECK(refused.error() == Error::EINVAL);
    CHECK(std::string(diagnostic.message) == "class_mask 0xfff000 cannot be an alias: each byte must be 0x00 or 0xff");
    // Base class and interface only.
    CHECK(alias(pci_entry(PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, PCI_ANY_ID, 0x0c0330, 0xff00ff))
        == "pci:v*d*sv*sd*bc0Csc*i30*");
}

TEST_CASE("a device matches an entry exactly when its modalias matches the entry's alias")
{
    // Golden devices against entries built from their own fields with
    // every combination of wildcards, plus random devices and entries: the
    // table lookup and module autoload must never disagree.
    std::vector<PciId> devices;
    for (const auto& f : golden().functions)
        devices.push_back(pci_id(f));
    std::mt19937 random(7);
    auto pick16 = [&]() { return uint16_t(random() % 4 == 0 ? 0x1af4 : random() % 3); };
    for (int i = 0; i < 200; ++i)
        devices.push_back(PciId { pick16(), pick16(), pick16(), pick16(), uint32_t(random() % 4) * 0x010101, 0 });
    std::vector<PciMatch> entries;
    for (const PciId& d : devices) {
        for (unsigned wild = 0; wild < 128; wild += 1 + random() % 7) {
            PciMatch e = pci_entry(wild & 1 ? PCI_ANY_ID : d.vendor, wild & 2 ? PCI_ANY_ID : d.device,
                wild & 4 ? PCI_ANY_ID : d.subvendor, wild & 8 ? PCI_ANY_ID : d.subdevice, d.class_code,
                (wild & 16 ? 0xff0000 : 0) | (wild & 32 ? 0x00ff00 : 0) | (wild & 64 ? 0x0000ff : 0));
            entries.push_back(e);
        }
    }
    size_t matches = 0;
    for (const PciMatch& e : entries) {
        std::string pattern = alias(e);
        for (const PciId& d : devices) {
            bool by_table = pci_matches(e, d);
            bool by_alias = glob_match(pattern.c_str(), modalias(d).c_str());
            if (by_table != by_alias) {
                INFO(pattern << " vs " << modalias(d));
                CHECK(by_table == by_alias);
            }
            matches += by_table;
        }
    }
    CHECK(matches > 1000);
}

TEST_CASE("glob_match agrees with fnmatch(3)")
{
    CHECK(glob_match("pci:v00001AF4d*sv*sd*bc*sc*i*", "pci:v00001AF4d00001042sv00001AF4sd00001100bc01sc00i00"));
    CHECK_FALSE(glob_match("pci:v00001AF4d*sv*sd*bc*sc*i*", "pci:v00001234d000011E8sv00001AF4sd00001100bc00scFFi00"));
    CHECK(glob_match("virtio:d00000002v*", "virtio:d00000002v00001AF4"));
    CHECK_FALSE(glob_match("virtio:d00000002v*", "virtio:d00000012v00001AF4"));
    CHECK(glob_match("usb:v*p*d01[0-9][0-9]*", "usb:v1234p5678d0123dc00"));
    CHECK(glob_match("a?c", "abc"));
    CHECK_FALSE(glob_match("a?c", "ac"));
    CHECK(glob_match("[!a]", "b"));
    CHECK(glob_match("[^a]", "b"));
    CHECK_FALSE(glob_match("[!a]", "a"));
    CHECK(glob_match("[]]", "]"));
    CHECK(glob_match("[a-]", "-"));
    CHECK(glob_match("\\*", "*"));
    CHECK_FALSE(glob_match("\\*", "x"));
    CHECK(glob_match("[", "[")); // an unterminated set: "[" is itself
    CHECK(glob_match("*", ""));
    CHECK_FALSE(glob_match("", "x"));
    CHECK(glob_match("a*/b", "a/x/b")); // no FNM_PATHNAME: "*" crosses "/"

    // Random patterns and texts over a small alphabet, against glibc.
    std::mt19937 random(3);
    const char pattern_alphabet[] = "ab*?[]!^-\\";
    const char text_alphabet[] = "ab-]!^[\\*?";
    size_t agreed = 0;
    for (int i = 0; i < 200000; ++i) {
        std::string pattern;
        std::string text;
        for (size_t n = random() % 9; n > 0; --n)
            pattern += pattern_alphabet[random() % (sizeof(pattern_alphabet) - 1)];
        for (size_t n = random() % 7; n > 0; --n)
            text += text_alphabet[random() % (sizeof(text_alphabet) - 1)];
        if (!devmatch_test::sets_closed(pattern)) {
            ++agreed;
            continue;
        }
        bool ours = glob_match(pattern.c_str(), text.c_str());
        bool theirs = fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
        if (ours != theirs) {
            INFO("pattern \"" << pattern << "\" text \"" << text << "\"");
            CHECK(ours == theirs);
        } else {
            ++agreed;
        }
    }
    CHECK(agreed == 200000);
}

TEST_CASE("device-tree matching: the best entry, as Linux chooses")
{
    static const char compatible[] = "arm,pl011\0arm,primecell";
    OfNode uart { "pl011@9000000", nullptr, compatible, sizeof(compatible) };
    const OfMatch table[] = {
        { "", "", "arm,primecell", 1 }, // matches the node's second string
        { "", "", "ARM,PL011", 2 },     // its first, in another case: better
        { "", "", "arm,sp805", 3 },
    };
    CHECK(of_match_table(table, 3, uart).value() == 1);
    CHECK(of_match_table(table, 1, uart).value() == 0);
    CHECK(of_match_table(table + 2, 1, uart).error() == Error::ENOENT);
    CHECK(of_match_score(table[1], uart) > of_match_score(table[0], uart));

    // Name and type: the unit address and the path are not part of the name.
    static const char net_compatible[] = "vendor,eth";
    OfNode eth { "/soc/ethernet@1000", "network", net_compatible, sizeof(net_compatible) };
    const OfMatch by_name_type[] = {
        { "ethernet", "", "", 0 },        // name only: 1
        { "", "network", "", 0 },         // type only: 2
        { "ethernet", "network", "", 0 }, // both: 3
        { "", "", "vendor,eth", 0 },      // compatible: far more
        { "ethernet", "serial", "", 0 },  // a wrong type spoils it
    };
    CHECK(of_match_score(by_name_type[0], eth) == 1);
    CHECK(of_match_score(by_name_type[1], eth) == 2);
    CHECK(of_match_score(by_name_type[2], eth) == 3);
    CHECK(of_match_score(by_name_type[4], eth) == 0);
    CHECK(of_match_table(by_name_type, 5, eth).value() == 3);
    CHECK(of_match_table(by_name_type, 3, eth).value() == 2);
    OfMatch ether { "ether", "", "", 0 };
    CHECK(of_match_score(ether, eth) == 0);
    OfNode untyped { "ethernet", nullptr, nullptr, 0 };
    CHECK(of_match_score(by_name_type[1], untyped) == 0);
    CHECK(of_match_score(by_name_type[0], untyped) == 1);
    // Ties go to the first entry.
    const OfMatch twins[] = { { "", "", "vendor,eth", 0 }, { "", "", "vendor,eth", 0 } };
    CHECK(of_match_table(twins, 2, eth).value() == 0);
}

TEST_CASE("device-tree modaliases and aliases")
{
    static const char compatible[] = "arm,pl011\0arm,primecell";
    OfNode uart { "pl011@9000000", nullptr, compatible, sizeof(compatible) };
    char buffer[256];
    REQUIRE(format_of_modalias(uart, buffer, sizeof(buffer)).is_ok());
    CHECK(std::string(buffer) == "of:Npl011T(null)Carm,pl011Carm,primecell");
    // A modalias Linux printed for such a node (an on-line device listing).
    static const char single[] = "arm,pl011";
    OfNode serial { "/soc/serial@1000", nullptr, single, sizeof(single) };
    REQUIRE(format_of_modalias(serial, buffer, sizeof(buffer)).is_ok());
    CHECK(std::string(buffer) == "of:NserialT(null)Carm,pl011");
    static const char spaced[] = "acme,two words";
    OfNode typed { "cpu@0", "cpu", spaced, sizeof(spaced) };
    REQUIRE(format_of_modalias(typed, buffer, sizeof(buffer)).is_ok());
    CHECK(std::string(buffer) == "of:NcpuTcpuCacme,two_words");
    OfNode bare { "memory", "memory", nullptr, 0 };
    REQUIRE(format_of_modalias(bare, buffer, sizeof(buffer)).is_ok());
    CHECK(std::string(buffer) == "of:NmemoryTmemory");

    // Hostile: the property's last string is not terminated.
    Diagnostic diagnostic;
    OfNode broken { "x", nullptr, "abc", 3 };
    CHECK(format_of_modalias(broken, buffer, sizeof(buffer), &diagnostic).error() == Error::EINVAL);
    CHECK(std::string(diagnostic.message) == "compatible: the last of its 3 bytes is not a NUL");
    CHECK(of_match_table(nullptr, 0, broken).error() == Error::EINVAL);
    char tiny[12];
    CHECK(format_of_modalias(uart, tiny, sizeof(tiny)).error() == Error::ERANGE);

    // Entry aliases, every shape, and which modalias each claims.
    struct Case {
        OfMatch entry;
        const char* first;
        const char* second;
    };
    const Case cases[] = {
        { { "", "", "arm,pl011", 0 }, "of:N*T*Carm,pl011", "of:N*T*Carm,pl011C*" },
        { { "serial", "", "", 0 }, "of:NserialT*", "of:NserialT*C*" },
        { { "", "network", "vendor,eth", 0 }, "of:N*Tnetwork*Cvendor,eth", "of:N*Tnetwork*Cvendor,ethC*" },
        { { "cpu", "cpu", "acme,two words", 0 }, "of:NcpuTcpu*Cacme,two_words", "of:NcpuTcpu*Cacme,two_wordsC*" },
    };
    for (const Case& c : cases) {
        char first[kOfAliasSize];
        char second[kOfAliasSize];
        REQUIRE(format_of_aliases(c.entry, first, sizeof(first), second, sizeof(second)).is_ok());
        CHECK(std::string(first) == c.first);
        CHECK(std::string(second) == c.second);
    }
    char modalias_text[256];
    REQUIRE(format_of_modalias(uart, modalias_text, sizeof(modalias_text)).is_ok());
    CHECK_FALSE(glob_match("of:N*T*Carm,pl011", modalias_text)); // more strings follow
    CHECK(glob_match("of:N*T*Carm,pl011C*", modalias_text));
    CHECK(glob_match("of:N*T*Carm,primecell", modalias_text));
    REQUIRE(format_of_modalias(serial, modalias_text, sizeof(modalias_text)).is_ok());
    CHECK(glob_match("of:N*T*Carm,pl011", modalias_text));
    CHECK(glob_match("of:NserialT*C*", modalias_text));
    char small[8];
    char second[kOfAliasSize];
    CHECK(format_of_aliases(cases[0].entry, small, sizeof(small), second, sizeof(second)).error() == Error::ERANGE);
}
