// gen_init_cpio end to end: the build runs it on data/roundtrip.spec (plain
// and with -c) and this test parses the archives with the kernel's reader;
// it also runs the tool on bad specs and checks the diagnostics. Paths come
// from the environment (tests/unit/cpio/meson.build sets them).
#include <catch2/catch.hpp>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lib/cpio/cpio.h"

using keel::cpio_find;
using keel::CpioEntry;
using keel::CpioFileType;
using keel::CpioReader;

namespace {

std::string env(const char* name)
{
    const char* value = getenv(name);
    INFO("environment variable " << name);
    REQUIRE(value);
    return value;
}

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    INFO(path);
    REQUIRE(in.good());
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

struct Expected {
    const char* name;
    CpioFileType type;
    uint32_t permissions;
    uint32_t uid = 0;
    uint32_t gid = 0;
    const char* data_file = nullptr; // in CPIO_TEST_DATA
    const char* data = "";
    const char* link_target = nullptr;
    uint32_t rdev_major = 0;
    uint32_t rdev_minor = 0;
};

const std::vector<Expected>& expected_entries()
{
    using T = CpioFileType;
    static const std::vector<Expected> entries = {
        { "", T::Directory, 0755 },
        { "bin", T::Directory, 0755 },
        { "bin/tool", T::Regular, 0755 },
        { "bin/tool-link1", T::Regular, 0755, 0, 0, nullptr, "", "bin/tool" },
        { "bin/tool-link2", T::Regular, 0755, 0, 0, "bytes.bin", "", "bin/tool" },
        { "etc", T::Directory, 0750, 12, 34 },
        { "etc/greeting", T::Regular, 0644, 1000, 1000, "hello.txt" },
        { "etc/empty", T::Regular, 0600, 0, 0, "empty.txt" },
        { "etc/one", T::Regular, 0444, 0, 0, "one.txt" },
        { "etc/link", T::Symlink, 0777, 0, 0, nullptr, "greeting" },
        { "dev/console", T::CharDevice, 0600, 0, 5, nullptr, "", nullptr, 5, 1 },
        { "dev/sda", T::BlockDevice, 0660, 0, 6, nullptr, "", nullptr, 8, 0 },
        { "run/fifo", T::Fifo, 0620 },
        { "run/socket", T::Socket, 0755 },
        { "deep/a/b/c", T::Directory, 01777, 4294967295u, 7 },
    };
    return entries;
}

void check_archive(const std::string& path, bool with_checksum, uint32_t mtime)
{
    std::string data_dir = env("CPIO_TEST_DATA");
    std::string bytes = read_file(path);
    CHECK(bytes.size() % 512 == 0);

    keel::Diagnostic diagnostic;
    char* const message = diagnostic.message;
    CpioReader reader(bytes.data(), bytes.size(), &diagnostic);
    std::vector<CpioEntry> entries;
    while (auto entry = reader.next())
        entries.push_back(entry.value());
    INFO(message);
    REQUIRE(reader.status().is_ok());

    const auto& expected = expected_entries();
    REQUIRE(entries.size() == expected.size() + 1);
    CHECK(entries.back().is_trailer);
    uint32_t previous_ino = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
        const Expected& want = expected[i];
        const CpioEntry& got = entries[i];
        INFO("entry " << i << " " << want.name);
        CHECK(std::string(got.name) == want.name);
        CHECK(got.type() == want.type);
        CHECK(got.permissions() == want.permissions);
        CHECK(got.uid == want.uid);
        CHECK(got.gid == want.gid);
        CHECK(got.mtime == mtime);
        CHECK(got.has_checksum == with_checksum);
        CHECK(got.dev_major == 3);
        CHECK(got.dev_minor == 1);
        CHECK(got.rdev_major == want.rdev_major);
        CHECK(got.rdev_minor == want.rdev_minor);
        std::string contents = want.data_file ? read_file(data_dir + "/" + want.data_file) : want.data;
        CHECK(std::string(reinterpret_cast<const char*>(got.data), got.data_size) == contents);
        if (want.link_target) {
            REQUIRE(got.link_target);
            CHECK(std::string(got.link_target) == want.link_target);
            CHECK(got.ino == previous_ino);
            CHECK(got.nlink == 3);
        } else {
            CHECK(got.link_target == nullptr);
            CHECK(got.ino > previous_ino); // numbered from 721 up, like Linux's tool
            CHECK(got.nlink
                == (want.type == CpioFileType::Directory       ? 2u
                        : want.name == std::string("bin/tool") ? 3u
                                                               : 1u));
        }
        previous_ino = got.ino;
    }
    CHECK(entries[0].ino == 721);

    // The module loader's view: the hard-linked file has the group's data.
    auto tool = cpio_find(bytes.data(), bytes.size(), "/bin/tool");
    REQUIRE(tool.is_ok());
    CHECK(std::string(reinterpret_cast<const char*>(tool.value().data), tool.value().data_size)
        == read_file(data_dir + "/bytes.bin"));
}

struct Run {
    int status;
    std::string err;
};

// Runs gen_init_cpio on `spec` (written to a temporary file) with `args`.
Run run_tool(const std::string& spec, const std::string& args, const std::string& output)
{
    std::string dir = env("CPIO_TMP");
    std::string spec_path = dir + "/bad.spec";
    std::string err_path = dir + "/stderr.txt";
    {
        std::ofstream out(spec_path, std::ios::binary);
        out << spec;
    }
    std::string command
        = "'" + env("GEN_INIT_CPIO") + "' " + args + " -o '" + output + "' '" + spec_path + "' 2>'" + err_path + "'";
    int status = system(command.c_str());
    Run run { WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(err_path) };
    return run;
}

} // namespace

TEST_CASE("gen_init_cpio output parses back to the spec") { check_archive(env("CPIO_ROUNDTRIP"), false, 0); }

TEST_CASE("gen_init_cpio -c output has verified checksums")
{
    check_archive(env("CPIO_ROUNDTRIP_CRC"), true, 1700000000);
}

TEST_CASE("gen_init_cpio is reproducible")
{
    std::string dir = env("CPIO_TMP");
    std::string spec = "dir /a 0755 0 0\nfile /a/f " + env("CPIO_TEST_DATA") + "/hello.txt 0644 0 0\n";
    REQUIRE(run_tool(spec, "", dir + "/one.cpio").status == 0);
    REQUIRE(run_tool(spec, "", dir + "/two.cpio").status == 0);
    CHECK(read_file(dir + "/one.cpio") == read_file(dir + "/two.cpio"));
}

TEST_CASE("gen_init_cpio names the line and the problem")
{
    std::string dir = env("CPIO_TMP");
    std::string output = dir + "/bad.cpio";
    std::string spec_path = dir + "/bad.spec";
    struct Case {
        const char* spec;
        const char* message;
    };
    const Case cases[] = {
        { "dir /a 0755 0 0\nlink /b /a 0777 0 0\n", ":2: error: unknown entry type \"link\"" },
        { "dir /a 0755 0\n", ":1: error: dir takes 4 arguments (<name> <mode> <uid> <gid>), got 3" },
        { "\n\n# c\ndir /a 0758 0 0\n", ":4: error: mode \"0758\" is not an octal number" },
        { "dir /a 17777 0 0\n", ":1: error: mode \"17777\" is out of range (at most 07777)" },
        { "dir /a 0755 -1 0\n", ":1: error: uid \"-1\" is not a decimal number" },
        { "dir /a 0755 0 4294967296\n", ":1: error: gid \"4294967296\" is out of range (at most 4294967295)" },
        { "nod /dev/x 0600 0 0 x 1 2\n", ":1: error: dev_type \"x\" is neither b (block) nor c (character)" },
        { "nod /dev/x 0600 0 0 c 1\n", ":1: error: nod takes 7 arguments" },
        { "file /f /nonexistent/file 0644 0 0\n", ":1: error: /nonexistent/file: cannot open: No such file" },
        { "file /f / 0644 0 0\n", ":1: error: /: not a regular file" },
        { "file /f ${KEEL_SURELY_UNSET_VARIABLE}/x 0644 0 0\n",
            ":1: error: environment variable \"KEEL_SURELY_UNSET_VARIABLE\" in location" },
        { "file /f ${HOME 0644 0 0\n", ":1: error: unterminated \"${\"" },
        { "file /f 0644 0 0\n", ":1: error: file takes at least 5 arguments" },
        { "dir /a/../b 0755 0 0\n", ":1: error: name \"/a/../b\" has a \"..\" path component" },
        { "dir a//b 0755 0 0\n", ":1: error: name \"a//b\" has a \"\" path component" },
        { "pipe / 0644 0 0\n", ":1: error: name \"/\" is the root directory" },
        { "slink /l  0777 0 0\n", ":1: error: slink takes 5 arguments" },
        { "sock /s 0755 0\n", ":1: error: sock takes 4 arguments" },
    };
    for (const Case& c : cases) {
        INFO(c.spec);
        unlink(output.c_str());
        Run run = run_tool(c.spec, "", output);
        CHECK(run.status == 1);
        CHECK(contains(run.err, spec_path + c.message));
        CHECK(access(output.c_str(), F_OK) != 0); // nothing written
    }

    // Every bad line is reported, not just the first.
    Run many = run_tool("dir /a 0755 0 0\nbogus\ndir /b 9 0 0\n", "", output);
    CHECK(many.status == 1);
    CHECK(contains(many.err, ":2: error:"));
    CHECK(contains(many.err, ":3: error:"));

    Run bad_time = run_tool("dir /a 0755 0 0\n", "-t 12x", output);
    CHECK(bad_time.status == 2);
    CHECK(contains(bad_time.err, "-t 12x: not a timestamp"));

    Run bad_option = run_tool("dir /a 0755 0 0\n", "-q", output);
    CHECK(bad_option.status == 2);
    CHECK(contains(bad_option.err, "unexpected argument \"-q\""));
}

TEST_CASE("gen_init_cpio writes standard output and a depfile")
{
    std::string dir = env("CPIO_TMP");
    std::string spec_path = dir + "/stdout.spec";
    {
        std::ofstream out(spec_path);
        out << "file /hello " << env("CPIO_TEST_DATA") << "/hello.txt 0644 0 0\n";
    }
    std::string command = "'" + env("GEN_INIT_CPIO") + "' --depfile '" + dir + "/out.d' '" + spec_path + "' > '" + dir
        + "/stdout.cpio'";
    REQUIRE(system(command.c_str()) == 0);
    std::string bytes = read_file(dir + "/stdout.cpio");
    auto hello = cpio_find(bytes.data(), bytes.size(), "hello");
    REQUIRE(hello.is_ok());
    CHECK(std::string(reinterpret_cast<const char*>(hello.value().data), hello.value().data_size)
        == read_file(env("CPIO_TEST_DATA") + "/hello.txt"));
    std::string depfile = read_file(dir + "/out.d");
    CHECK(contains(depfile, "-: " + spec_path + " " + env("CPIO_TEST_DATA") + "/hello.txt"));
}

// Cross-checks with GNU cpio when the build found it (GNU_CPIO is empty
// otherwise): it must accept gen_init_cpio's archives and checksums, and
// the reader must accept what it writes, hard links included.
TEST_CASE("GNU cpio and Keel agree")
{
    std::string gnu_cpio = env("GNU_CPIO");
    if (gnu_cpio.empty()) {
        WARN("GNU cpio not installed: cross-check skipped");
        return;
    }
    std::string dir = env("CPIO_TMP");
    std::string listing = dir + "/gnu-list.txt";
    std::string command = "'" + gnu_cpio + "' -i --quiet --only-verify-crc < '" + env("CPIO_ROUNDTRIP_CRC") + "' && '"
        + gnu_cpio + "' -it --quiet < '" + env("CPIO_ROUNDTRIP") + "' > '" + listing + "'";
    REQUIRE(system(command.c_str()) == 0);
    std::string names;
    for (const Expected& want : expected_entries())
        names += std::string(want.name[0] ? want.name : ".") + "\n";
    CHECK(read_file(listing) == names);

    // A tree with a three-name hard link, archived by GNU cpio both ways.
    std::string tree = dir + "/gnu-tree";
    command = "rm -rf '" + tree + "' && mkdir -p '" + tree + "/sub' && cd '" + tree
        + "' && printf 'linked data' > a && ln a sub/b && ln a c && ln -s a s && printf x > sub/plain"
          " && find . | LC_ALL=C sort | '"
        + gnu_cpio + "' -o --quiet -H newc > ../gnu.cpio && find . | LC_ALL=C sort | '" + gnu_cpio
        + "' -o --quiet -H crc > ../gnu-crc.cpio";
    REQUIRE(system(command.c_str()) == 0);
    for (const char* archive : { "/gnu.cpio", "/gnu-crc.cpio" }) {
        INFO(archive);
        std::string bytes = read_file(dir + archive);
        keel::Diagnostic diagnostic;
        char* const message = diagnostic.message;
        CpioReader reader(bytes.data(), bytes.size(), &diagnostic);
        std::vector<CpioEntry> entries;
        while (auto entry = reader.next()) {
            if (!entry.value().is_trailer)
                entries.push_back(entry.value());
        }
        INFO(message);
        REQUIRE(reader.status().is_ok());
        std::vector<std::string> group;
        size_t with_data = 0;
        for (const CpioEntry& entry : entries) {
            std::string name = entry.name;
            if (name == "a" || name == "c" || name == "sub/b") {
                group.push_back(name);
                CHECK(entry.nlink == 3);
                if (group.size() == 1)
                    CHECK(entry.link_target == nullptr);
                else
                    CHECK(std::string(entry.link_target) == group.front());
                with_data += entry.data_size > 0;
            }
        }
        CHECK(group.size() == 3);
        CHECK(with_data == 1);
        for (const char* name : { "a", "c", "sub/b" }) {
            auto found = cpio_find(bytes.data(), bytes.size(), name);
            REQUIRE(found.is_ok());
            CHECK(std::string(reinterpret_cast<const char*>(found.value().data), found.value().data_size)
                == "linked data");
        }
        auto root = cpio_find(bytes.data(), bytes.size(), "/");
        REQUIRE(root.is_ok());
        CHECK(root.value().is_directory());
        auto link = cpio_find(bytes.data(), bytes.size(), "s");
        REQUIRE(link.is_ok());
        CHECK(link.value().is_symlink());
    }
}
