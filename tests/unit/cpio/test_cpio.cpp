#include <catch2/catch.hpp>

#include <string.h>

#include <memory>
#include <string>
#include <vector>

#include "lib/cpio/cpio.h"
#include "newc_writer.h"

using keel::cpio_find;
using keel::CpioEntry;
using keel::CpioFileType;
using keel::CpioLinkSlot;
using keel::CpioReader;
using keel::Error;
using namespace cpio_test;

namespace {

struct Seen {
    CpioEntry entry; // its pointers are dangling once walk() returns
    std::string name;
    std::string data;
    std::string link_target;
};

struct Walk {
    std::vector<Seen> entries;
    bool ok = false;
    Error error = Error(0);
    std::string message;

    // The entries that are not trailers.
    std::vector<Seen> files() const
    {
        std::vector<Seen> out;
        for (const Seen& seen : entries) {
            if (!seen.entry.is_trailer)
                out.push_back(seen);
        }
        return out;
    }
};

struct Options {
    CpioLinkSlot* table = nullptr;
    size_t table_size = 0;
    bool links = true;
};

// Walks a copy of `bytes` in a buffer of exactly that size, so that
// AddressSanitizer catches any read past the end.
Walk walk(const std::string& bytes, Options options = {})
{
    std::unique_ptr<uint8_t[]> buffer(new uint8_t[bytes.size()]);
    memcpy(buffer.get(), bytes.data(), bytes.size());
    keel::Diagnostic diagnostic;
    char* const message = diagnostic.message;
    CpioReader reader(buffer.get(), bytes.size(), &diagnostic);
    if (options.table)
        reader.set_link_table(options.table, options.table_size);
    if (!options.links)
        reader.disable_links();
    Walk result;
    size_t guard = 0;
    while (auto entry = reader.next()) {
        const CpioEntry& e = entry.value();
        Seen seen { e, std::string(e.name, e.name_length),
            std::string(reinterpret_cast<const char*>(e.data), e.data_size),
            e.link_target ? std::string(e.link_target) : std::string() };
        REQUIRE(strlen(e.name) == e.name_length);
        REQUIRE(e.data >= buffer.get());
        REQUIRE(e.data + e.data_size <= buffer.get() + bytes.size());
        result.entries.push_back(seen);
        REQUIRE(++guard <= bytes.size()); // every entry consumes bytes
    }
    REQUIRE((reader.at_end() || reader.failed()));
    auto status = reader.status();
    result.ok = status.is_ok();
    result.error = result.ok ? Error(0) : status.error();
    result.message = message;
    if (result.ok) {
        REQUIRE(result.message.empty());
        REQUIRE(reader.next().error() == Error::ENODATA);
    } else {
        REQUIRE_FALSE(result.message.empty());
        // Errors are sticky.
        REQUIRE(reader.next().error() == result.error);
    }
    return result;
}

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

std::string hex_offset(size_t offset)
{
    char text[32];
    snprintf(text, sizeof(text), "0x%zx", offset);
    return text;
}

} // namespace

TEST_CASE("empty buffers and zero padding are empty archives")
{
    Walk empty = walk("");
    CHECK(empty.ok);
    CHECK(empty.entries.empty());

    CpioReader null_reader(nullptr, 100);
    CHECK(null_reader.next().error() == Error::ENODATA);
    CHECK(null_reader.status().is_ok());

    Walk zeros = walk(std::string(1024, '\0'));
    CHECK(zeros.ok);
    CHECK(zeros.entries.empty());
}

TEST_CASE("every file type and header field is read")
{
    TestEntry dir = node("./etc", 0040755, 10);
    dir.nlink = 2;
    dir.uid = 0x12345678;
    dir.gid = 0x9abcdef0;
    dir.mtime = 0x5f5e1000;
    TestEntry regular = file("/etc/hostname", "keel\n", 11);
    regular.dev_major = 0xfe;
    regular.dev_minor = 0x01;
    TestEntry link = file("etc/name", "hostname", 12);
    link.mode = 0120777;
    TestEntry chr = node("dev/console", 0020600, 13);
    chr.rdev_major = 5;
    chr.rdev_minor = 1;
    TestEntry blk = node("dev/sda", 0060660, 14);
    blk.rdev_major = 8;
    blk.rdev_minor = 0;
    TestEntry fifo = node("run/fifo", 0010600, 15);
    TestEntry sock = node("run/sock", 0140755, 16);
    TestEntry root = node(".", 0040700, 17);

    Walk w = walk(build({ root, dir, regular, link, chr, blk, fifo, sock }));
    REQUIRE(w.ok);
    REQUIRE(w.entries.size() == 9);
    auto files = w.files();
    REQUIRE(files.size() == 8);

    CHECK(files[0].name == "");
    CHECK(files[0].entry.is_directory());
    CHECK(files[0].entry.permissions() == 0700);

    const CpioEntry& d = files[1].entry;
    CHECK(files[1].name == "etc");
    CHECK(d.type() == CpioFileType::Directory);
    CHECK(d.ino == 10);
    CHECK(d.nlink == 2);
    CHECK(d.uid == 0x12345678);
    CHECK(d.gid == 0x9abcdef0);
    CHECK(d.mtime == 0x5f5e1000);
    CHECK(d.index == 2);
    CHECK(d.offset == 0x70);
    CHECK(d.archive == 0);

    CHECK(files[2].name == "etc/hostname");
    CHECK(files[2].entry.is_regular());
    CHECK(files[2].data == "keel\n");
    CHECK(files[2].entry.dev_major == 0xfe);
    CHECK(files[2].entry.dev_minor == 1);
    CHECK(files[2].entry.permissions() == 0644);

    CHECK(files[3].entry.is_symlink());
    CHECK(files[3].data == "hostname");

    CHECK(files[4].entry.type() == CpioFileType::CharDevice);
    CHECK(files[4].entry.is_device());
    CHECK(files[4].entry.rdev_major == 5);
    CHECK(files[4].entry.rdev_minor == 1);
    CHECK(files[5].entry.type() == CpioFileType::BlockDevice);
    CHECK(files[5].entry.rdev_major == 8);
    CHECK(files[6].entry.type() == CpioFileType::Fifo);
    CHECK(files[7].entry.type() == CpioFileType::Socket);
    CHECK(files[7].entry.permissions() == 0755);

    const Seen& last = w.entries.back();
    CHECK(last.entry.is_trailer);
    CHECK(last.name == "TRAILER!!!");
    CHECK(last.entry.index == 9);
    for (const Seen& seen : w.entries)
        CHECK(seen.link_target.empty());

    CHECK(std::string(keel::cpio_type_name(0020000)) == "character device");
    CHECK(std::string(keel::cpio_type_name(0)) == "unknown");
}

TEST_CASE("upper- and lower-case hex digits are both accepted")
{
    std::string bytes = build({ file("a", "xyz", 0xabcdef) });
    Walk lower = walk(bytes);
    REQUIRE(lower.ok);
    CHECK(lower.files()[0].entry.ino == 0xabcdef);
    for (size_t i = 6; i < 110; ++i)
        bytes[i] = char(toupper(bytes[i]));
    Walk upper = walk(bytes);
    REQUIRE(upper.ok);
    CHECK(upper.files()[0].entry.ino == 0xabcdef);
}

TEST_CASE("names are normalized")
{
    Walk w = walk(build({
        file("/abs", "1", 1),
        file("./dot", "2", 2),
        file(".//./x/y", "3", 3),
        file("//.//z", "4", 4),
        node("/", 0040755, 5),
        node("./", 0040755, 6),
        file("..a/b..c/.d", "5", 7),
    }));
    REQUIRE(w.ok);
    auto files = w.files();
    REQUIRE(files.size() == 7);
    CHECK(files[0].name == "abs");
    CHECK(files[1].name == "dot");
    CHECK(files[2].name == "x/y");
    CHECK(files[3].name == "z");
    CHECK(files[4].name == "");
    CHECK(files[5].name == "");
    CHECK(files[6].name == "..a/b..c/.d");
}

TEST_CASE("names with '..', '.' or empty components are rejected")
{
    for (const char* name :
        { "..", "../etc/passwd", "a/../../b", "a/..", "/..", "./../x", "a//b", "a/./b", "a/", "a/." }) {
        INFO(name);
        Walk w = walk(build({ file("ok", "1"), file(name, "x", 2) }));
        CHECK_FALSE(w.ok);
        CHECK(w.error == Error::EINVAL);
        CHECK(contains(w.message, "entry 2 (\""));
        CHECK(contains(w.message, "path component"));
        CHECK(w.files().size() == 1);
    }
    Walk dots = walk(build({ file("x/..", "1") }));
    CHECK(contains(dots.message, "\"..\" path component"));
}

TEST_CASE("the root entry must be a directory")
{
    Walk w = walk(build({ file(".", "data") }));
    CHECK_FALSE(w.ok);
    CHECK(contains(w.message, "the root directory entry is a regular file"));
}

TEST_CASE("bad magic is reported with the entry number and offset")
{
    // "a" takes 110 + 2 bytes, padded to 112, plus 16 bytes of data: the
    // second header sits at 0x80.
    TestEntry second = file("b", "x");
    second.magic = "07070Z";
    Walk w = walk(build({ file("a", std::string(16, 'd')), second }));
    CHECK_FALSE(w.ok);
    CHECK(w.error == Error::EINVAL);
    CHECK(w.message == "entry 2 at offset 0x80: bad magic \"07070Z\" (expected \"070701\" or \"070702\")");

    TestEntry binary = file("b", "x");
    binary.magic = std::string("\x7f\x00\xff\n\"\\", 6);
    Walk escaped = walk(build({ binary }));
    CHECK(escaped.message
        == "entry 1 at offset 0x0: bad magic \"\\x7f\\x00\\xff\\x0a\\x22\\x5c\" (expected "
           "\"070701\" or \"070702\")");
}

TEST_CASE("other cpio formats and compressed archives are refused as unsupported")
{
    TestEntry odc = file("a", "x");
    odc.magic = "070707";
    Walk w = walk(build({ odc }));
    CHECK(w.error == Error::ENOTSUP);
    CHECK(contains(w.message, "\"070707\""));

    std::string binary_cpio = std::string("\xc7\x71", 2) + std::string(200, 'x');
    CHECK(walk(binary_cpio).error == Error::ENOTSUP);

    std::string gzip = std::string("\x1f\x8b\x08\x00", 4) + std::string(100, 'x');
    Walk gz = walk(gzip);
    CHECK(gz.error == Error::ENOTSUP);
    CHECK(gz.message == "entry 1 at offset 0x0: gzip-compressed initramfs not supported (build it uncompressed)");

    // A compressed archive appended to an uncompressed one, as Linux allows.
    std::string mixed = build({ file("a", "x") }) + std::string(4, '\0') + "\x28\xb5\x2f\xfd" + "zstd";
    Walk z = walk(mixed);
    CHECK(z.error == Error::ENOTSUP);
    CHECK(z.files().size() == 1);
    CHECK(contains(z.message, "zstd-compressed"));

    CHECK(walk(std::string("\xfd"
                           "7zXZ\0rest",
                   10))
              .error
        == Error::ENOTSUP);
    CHECK(walk("BZh91AY&SY").error == Error::ENOTSUP);
}

TEST_CASE("every header field is validated as 8 hex digits")
{
    static const char* const names[] = { "c_ino", "c_mode", "c_uid", "c_gid", "c_nlink", "c_mtime", "c_filesize",
        "c_devmajor", "c_devminor", "c_rdevmajor", "c_rdevminor", "c_namesize", "c_check" };
    std::string good = build({ file("etc/x", "hello") });
    for (size_t field = 0; field < 13; ++field) {
        for (size_t digit = 0; digit < 8; ++digit) {
            for (char bad : { 'g', 'G', ' ', '-', '\0', 'x', '\xff' }) {
                std::string bytes = good;
                bytes[6 + field * 8 + digit] = bad;
                Walk w = walk(bytes);
                INFO(names[field] << " digit " << digit << " = " << int(bad));
                CHECK_FALSE(w.ok);
                CHECK(w.error == Error::EINVAL);
                CHECK(contains(w.message, std::string("entry 1 at offset 0x0: ") + names[field] + " \""));
                CHECK(contains(w.message, "is not 8 hex digits"));
            }
        }
    }
    std::string bytes = good;
    bytes[6 + 6 * 8 + 7] = 'Z';
    CHECK(walk(bytes).message == "entry 1 at offset 0x0: c_filesize \"0000000Z\" is not 8 hex digits");
}

TEST_CASE("sizes that do not fit are rejected")
{
    SECTION("c_filesize beyond the archive")
    {
        TestEntry huge = file("etc/x", "abcd");
        huge.filesize = 0xffffffff;
        std::string bytes;
        append_entry(bytes, file("a", "1"));
        append_entry(bytes, file("b", "2"));
        size_t offset = bytes.size();
        append_entry(bytes, huge);
        append_entry(bytes, trailer());
        Walk w = walk(bytes);
        CHECK(w.error == Error::EINVAL);
        size_t left = bytes.size() - (offset + 116); // after the header and "etc/x\0"
        CHECK(w.message
            == "entry 3 (\"etc/x\") at offset " + hex_offset(offset) + ": c_filesize 0xffffffff exceeds the archive ("
                + hex_offset(left) + " bytes left)");
    }
    SECTION("c_namesize 0")
    {
        TestEntry entry = file("a", "1");
        entry.namesize = 0;
        Walk w = walk(build({ entry }));
        CHECK(w.message == "entry 1 at offset 0x0: c_namesize 0 (the name's NUL must be counted)");
    }
    SECTION("c_namesize beyond PATH_MAX")
    {
        for (uint32_t size : { 4097u, 0x10000u, 0xffffffffu }) {
            TestEntry entry = file("a", "1");
            entry.namesize = size;
            Walk w = walk(build({ entry }));
            CHECK(w.error == Error::EINVAL);
            CHECK(contains(w.message, "exceeds PATH_MAX (0x1000)"));
        }
        // Exactly PATH_MAX, NUL included, is fine.
        Walk w = walk(build({ file(std::string(4095, 'n'), "1") }));
        CHECK(w.ok);
    }
    SECTION("c_namesize beyond the archive")
    {
        TestEntry entry = file("a", "");
        entry.namesize = 3000;
        Walk w = walk(build({ entry }));
        CHECK(contains(w.message, "name (c_namesize 0xbb8) runs past the end of the archive"));
    }
    SECTION("symlink targets")
    {
        TestEntry empty = file("l", "");
        empty.mode = 0120777;
        CHECK(contains(walk(build({ empty })).message, "symlink with an empty target"));
        TestEntry long_target = file("l", std::string(4096, 't'));
        long_target.mode = 0120777;
        CHECK(contains(walk(build({ long_target })).message, "exceeds PATH_MAX"));
        TestEntry nul = file("l", std::string("ab\0c", 4));
        nul.mode = 0120777;
        CHECK(contains(walk(build({ nul })).message, "symlink target has a NUL byte at 0x2"));
    }
    SECTION("data on types that have none")
    {
        for (uint32_t mode : { 0040755u, 0020600u, 0060600u, 0010600u, 0140600u }) {
            TestEntry entry = file("n", "data");
            entry.mode = mode;
            Walk w = walk(build({ entry }));
            CHECK(w.error == Error::EINVAL);
            CHECK(contains(w.message, "with c_filesize 0x4 (only regular files and symlinks have data)"));
        }
    }
}

TEST_CASE("names must be NUL-terminated exactly at c_namesize")
{
    TestEntry short_size = file("abcdef", "1");
    short_size.namesize = 4; // "abc" followed by 'd', not NUL
    Walk w = walk(build({ short_size }));
    CHECK(w.message == "entry 1 at offset 0x0: name \"abcd\" is not NUL-terminated (c_namesize 0x4)");

    TestEntry embedded = file(std::string("ab\0cd", 5), "1");
    Walk e = walk(build({ embedded }));
    CHECK(e.error == Error::EINVAL);
    CHECK(contains(e.message, "has a NUL byte at 0x2, before its end"));

    TestEntry empty = file("", "1");
    CHECK(contains(walk(build({ empty })).message, "the root directory entry is a regular file"));
}

TEST_CASE("unknown file types are rejected")
{
    for (uint32_t mode : { 0000644u, 0030644u, 0050644u, 0070644u, 0110644u, 0130644u, 0150644u, 0170644u }) {
        TestEntry entry = file("f", "");
        entry.mode = mode;
        Walk w = walk(build({ entry }));
        INFO(mode);
        CHECK(w.error == Error::EINVAL);
        CHECK(contains(w.message, "has an unknown file type"));
    }
}

TEST_CASE("truncation at every offset is an error, never a crash")
{
    TestEntry link = file("bin/sh", "busybox", 3);
    link.mode = 0120777;
    TestEntry crc = file("c", "checksummed", 4);
    crc.with_checksum = true;
    std::string bytes = build({ node("bin", 0040755, 1), file("bin/busybox", std::string(37, 'b'), 2), link, crc });
    size_t trailer_end = bytes.size(); // the trailer's name ends on a 4-byte boundary
    bytes += std::string(512 - bytes.size() % 512, '\0');

    REQUIRE(walk(bytes).ok);
    for (size_t cut = 1; cut < bytes.size(); ++cut) {
        INFO("cut at " << cut);
        Walk w = walk(bytes.substr(0, cut));
        if (cut >= trailer_end) {
            CHECK(w.ok);
            CHECK(w.files().size() == 4);
        } else {
            CHECK_FALSE(w.ok);
            CHECK(w.error == Error::EINVAL);
        }
    }
    Walk no_trailer = walk(bytes.substr(0, trailer_end - 124));
    CHECK(contains(no_trailer.message, "archive ends without a TRAILER!!! entry"));
    CHECK(contains(walk(bytes.substr(0, 50)).message, "header truncated: 0x32 bytes left"));
}

TEST_CASE("concatenated archives, with and without zero padding")
{
    std::string first = build({ file("a", "first"), file("shared", "old", 2) });
    std::string second = build({ file("b", "second"), file("shared", "new", 2) });
    for (size_t padding : { 0, 4, 8, 512, 4096 }) {
        INFO(padding);
        Walk w = walk(first + std::string(padding, '\0') + second + std::string(padding, '\0'));
        REQUIRE(w.ok);
        REQUIRE(w.entries.size() == 6);
        CHECK(w.entries[2].entry.is_trailer);
        CHECK(w.entries[3].name == "b");
        CHECK(w.entries[3].entry.archive == 1);
        CHECK(w.entries[3].entry.index == 4);
        CHECK(w.entries[3].entry.offset == first.size() + padding);
        CHECK(w.entries[5].entry.archive == 1);
    }

    // Leading zeros before the first archive are skipped too, as in Linux.
    CHECK(walk(std::string(8, '\0') + first).ok);

    Walk misaligned = walk(first + std::string(2, '\0') + "\x01" + std::string(1, '\0') + second);
    CHECK(misaligned.error == Error::EINVAL);
    CHECK(misaligned.message
        == "entry 4 at offset " + hex_offset(first.size() + 2)
            + ": junk byte 0x01 after zero padding (an archive must start on a 4-byte boundary)");

    Walk junk = walk(first + "JUNKJUNK");
    CHECK(junk.error == Error::EINVAL);
    CHECK(contains(junk.message, "bad magic \"JUNKJU\""));
    Walk short_junk = walk(first + "JUNK");
    CHECK(contains(short_junk.message, "header truncated: 0x4 bytes left"));

    // Data after the trailer that is not an archive: a header at an
    // aligned offset that is rejected like any other.
    Walk garbage = walk(first + std::string(200, 'g'));
    CHECK(contains(garbage.message, "entry 4 at offset " + hex_offset(first.size()) + ": bad magic \"gggggg\""));
}

TEST_CASE("newc with CRC: checksums of regular files are verified")
{
    std::string data;
    for (int i = 0; i < 1000; ++i)
        data += char(i * 7);
    TestEntry good = file("bin/sh", data);
    good.with_checksum = true;
    Walk w = walk(build({ good }));
    REQUIRE(w.ok);
    CHECK(w.files()[0].entry.has_checksum);
    CHECK(w.files()[0].data == data);

    uint32_t sum = 0;
    for (unsigned char c : data)
        sum += c;
    TestEntry bad = good;
    bad.check = sum + 1;
    Walk b = walk(build({ good, bad }));
    CHECK(b.error == Error::EBADMSG);
    char expected[128];
    snprintf(expected, sizeof(expected), ": checksum mismatch: header 0x%08x, computed 0x%08x", sum + 1, sum);
    CHECK(contains(b.message, "entry 2 (\"bin/sh\") at offset "));
    CHECK(contains(b.message, expected));

    // A flipped data byte is caught.
    std::string bytes = build({ good });
    bytes[120] ^= 1;
    CHECK(walk(bytes).error == Error::EBADMSG);

    // Other types carry c_check 0 (or anything); only regular files are summed.
    TestEntry link = file("l", "target");
    link.mode = 0120777;
    link.with_checksum = true;
    link.check = 0;
    TestEntry dir = node("d", 0040755);
    dir.with_checksum = true;
    dir.check = 0x1234;
    CHECK(walk(build({ link, dir })).ok);

    // Mixed magics within one archive are fine (each header says).
    TestEntry plain = file("p", "plain");
    plain.check = 0xdeadbeef; // ignored for 070701
    CHECK(walk(build({ plain, good })).ok);

    // An empty file sums to 0.
    TestEntry empty = file("e", "");
    empty.with_checksum = true;
    empty.check = 1;
    CHECK(walk(build({ empty })).error == Error::EBADMSG);
}

TEST_CASE("hard links point at the first entry of their inode")
{
    auto group = [](const std::string& name, const std::string& data) {
        TestEntry entry = file(name, data, 42);
        entry.nlink = 3;
        return entry;
    };
    TestEntry other_dev = group("other-dev", "");
    other_dev.dev_minor = 2;
    TestEntry single = file("single", "", 42); // nlink 1: never a link
    TestEntry dir_a = node("dir-a", 0040755, 50);
    dir_a.nlink = 2;
    TestEntry dir_b = node("dir-b", 0040755, 50);
    dir_b.nlink = 2;
    TestEntry fifo_a = node("fifo-a", 0010644, 60);
    fifo_a.nlink = 2;
    TestEntry fifo_b = node("fifo-b", 0010644, 60);
    fifo_b.nlink = 2;
    TestEntry same_ino_other_type = node("chr", 0020644, 42);
    same_ino_other_type.nlink = 2;
    std::string bytes = build({ group("/bin/busybox", ""), single, other_dev, group("bin/sh", ""), dir_a, dir_b, fifo_a,
        same_ino_other_type, fifo_b, group("bin/ls", "BUSYBOX") });
    // The same inode in the next archive starts a new group (Linux forgets
    // links at each trailer).
    bytes += build({ group("bin/later", ""), group("bin/later2", "x") });

    std::vector<CpioLinkSlot> table(8);
    std::vector<CpioLinkSlot> tiny_table(4); // exactly the 4 linked inodes
    for (int mode = 0; mode < 3; ++mode) {
        INFO("mode " << mode);
        Options options;
        if (mode == 1) {
            options.table = table.data();
            options.table_size = table.size();
        } else if (mode == 2) {
            options.table = tiny_table.data();
            options.table_size = tiny_table.size();
        }
        Walk w = walk(bytes, options);
        REQUIRE(w.ok);
        auto files = w.files();
        REQUIRE(files.size() == 12);
        CHECK(files[0].link_target.empty());
        CHECK(files[1].link_target.empty());
        CHECK(files[2].link_target.empty());
        CHECK(files[3].name == "bin/sh");
        CHECK(files[3].link_target == "bin/busybox");
        CHECK(files[3].entry.link_index == 1);
        CHECK(files[4].link_target.empty());
        CHECK(files[5].link_target.empty()); // directories are never linked
        CHECK(files[6].link_target.empty());
        CHECK(files[7].link_target.empty()); // same ino, different type
        CHECK(files[8].link_target == "fifo-a");
        CHECK(files[8].entry.link_index == 7);
        CHECK(files[9].link_target == "bin/busybox");
        CHECK(files[9].data == "BUSYBOX");
        CHECK(files[10].link_target.empty());
        CHECK(files[11].link_target == "bin/later");
        CHECK(files[11].entry.link_index == 12);
    }

    Options none;
    none.links = false;
    for (const Seen& seen : walk(bytes, none).entries)
        CHECK(seen.link_target.empty());

    // More distinct linked inodes than the table holds.
    std::vector<TestEntry> many;
    for (uint32_t i = 0; i < 5; ++i) {
        TestEntry entry = file("f" + std::to_string(i), "", 100 + i);
        entry.nlink = 2;
        many.push_back(entry);
    }
    std::vector<CpioLinkSlot> small(4);
    Options full;
    full.table = small.data();
    full.table_size = small.size();
    Walk overflow = walk(build(many), full);
    CHECK(overflow.error == Error::ENOSPC);
    CHECK(contains(overflow.message, "entry 5 (\"f4\")"));
    CHECK(contains(overflow.message, "more than 4 hard-linked inodes in one archive"));
}

TEST_CASE("random corruption never crashes the reader")
{
    TestEntry crc = file("crc", "checksummed data", 9);
    crc.with_checksum = true;
    TestEntry link = file("l", "target", 4);
    link.mode = 0120777;
    TestEntry hard = file("h1", "", 5);
    hard.nlink = 2;
    TestEntry hard2 = file("h2", "data", 5);
    hard2.nlink = 2;
    std::string good = build({ node("d", 0040755), file("d/f", "contents"), link, crc, hard, hard2 });
    good += build({ file("second", "2") });

    uint32_t seed = 12345;
    auto random = [&seed]() {
        seed = seed * 1103515245 + 12345;
        return seed >> 8;
    };
    std::vector<CpioLinkSlot> table(16);
    for (int round = 0; round < 3000; ++round) {
        std::string bytes = good;
        int flips = 1 + random() % 4;
        for (int i = 0; i < flips; ++i) {
            size_t at = random() % bytes.size();
            switch (random() % 4) {
            case 0: bytes[at] = char(random()); break;
            case 1: bytes[at] = "0123456789abcdefF"[random() % 17]; break;
            case 2: bytes[at] ^= char(1 << (random() % 8)); break;
            default: bytes.resize(at); break;
            }
            if (bytes.empty())
                break;
        }
        Options options;
        if (round % 2) {
            options.table = table.data();
            options.table_size = table.size();
        }
        Walk w = walk(bytes, options);
        if (!w.ok)
            CHECK(w.message.size() < 255);
        keel::Diagnostic diagnostic;
        char* const message = diagnostic.message;
        auto found = cpio_find(bytes.data(), bytes.size(), "d/f", &diagnostic);
        if (found.is_error())
            CHECK(strlen(message) > 0);
    }
}

TEST_CASE("cpio_find returns a file as the unpacked initramfs would hold it")
{
    TestEntry module = file("lib/modules/nullfs.kmod",
        "\x7f"
        "ELF module",
        7);
    std::string first
        = build({ node("lib", 0040755, 1), node("lib/modules", 0040755, 2), module, file("etc/hostname", "old", 8) });
    std::string second = build({ file("/etc/hostname", "new", 9) });
    std::string bytes = first + std::string(12, '\0') + second;

    keel::Diagnostic diagnostic;
    char* const message = diagnostic.message;
    auto found = cpio_find(bytes.data(), bytes.size(), "lib/modules/nullfs.kmod", &diagnostic);
    REQUIRE(found.is_ok());
    CHECK(std::string(found.value().name) == "lib/modules/nullfs.kmod");
    CHECK(std::string(reinterpret_cast<const char*>(found.value().data), found.value().data_size)
        == "\x7f"
           "ELF module");
    CHECK(found.value().is_regular());

    // Leading "/" and "./" do not matter; the last entry of a name wins.
    for (const char* path : { "/etc/hostname", "etc/hostname", "./etc/hostname" }) {
        auto latest = cpio_find(bytes.data(), bytes.size(), path);
        REQUIRE(latest.is_ok());
        CHECK(std::string(reinterpret_cast<const char*>(latest.value().data), latest.value().data_size) == "new");
        CHECK(latest.value().archive == 1);
    }

    auto dir = cpio_find(bytes.data(), bytes.size(), "/lib/modules/");
    CHECK(dir.error() == Error::ENOENT); // names never end in "/"
    auto dir2 = cpio_find(bytes.data(), bytes.size(), "/lib/modules");
    REQUIRE(dir2.is_ok());
    CHECK(dir2.value().is_directory());

    auto missing = cpio_find(bytes.data(), bytes.size(), "/lib/modules/tmpfs.kmod", &diagnostic);
    CHECK(missing.error() == Error::ENOENT);
    CHECK(std::string(message) == "\"lib/modules/tmpfs.kmod\" not found in the initramfs (7 entries)");
    CHECK(cpio_find(bytes.data(), bytes.size(), nullptr).error() == Error::EINVAL);

    // A malformed archive is an error even after the file was seen.
    std::string broken = first + "070701 broken";
    auto bad = cpio_find(broken.data(), broken.size(), "lib/modules/nullfs.kmod", &diagnostic);
    CHECK(bad.error() == Error::EINVAL);
    CHECK(contains(message, "entry 6 at offset"));
}

TEST_CASE("cpio_find takes a hard link's data from its group")
{
    auto member = [](const std::string& name, const std::string& data, uint32_t dev_minor = 1) {
        TestEntry entry = file(name, data, 77);
        entry.nlink = 3;
        entry.dev_minor = dev_minor;
        return entry;
    };
    std::string bytes = build(
        { member("bin/busybox", ""), member("bin/sh", ""), member("bin/other", "", 9), member("bin/ls", "the data") });
    bytes += build({ member("bin/next-archive", "unrelated") });
    for (const char* path : { "bin/busybox", "bin/sh", "bin/ls" }) {
        INFO(path);
        auto found = cpio_find(bytes.data(), bytes.size(), path);
        REQUIRE(found.is_ok());
        CHECK(std::string(found.value().name) == path);
        CHECK(std::string(reinterpret_cast<const char*>(found.value().data), found.value().data_size) == "the data");
    }
    auto other = cpio_find(bytes.data(), bytes.size(), "bin/other");
    REQUIRE(other.is_ok());
    CHECK(other.value().data_size == 0);
}

TEST_CASE("cpio_find_before_damage: the entries before the damage, a hard link's data included")
{
    // gen_init_cpio's `file NAME LOCATION ... LINK`: NAME comes first with
    // c_filesize 0, the data travels with the last link. The kernel reads
    // its early modules this way and once got 0 bytes for NAME.
    auto member = [](const std::string& name, const std::string& data) {
        TestEntry entry = file(name, data, 721);
        entry.nlink = 2;
        return entry;
    };
    std::string intact = build({ node("lib", 0040755, 1), member("lib/tmpfs.kmod", ""),
        member("lib/tmpfs-link.kmod",
            "\x7f"
            "ELF tmpfs") });
    keel::Diagnostic diagnostic;
    for (const char* path : { "lib/tmpfs.kmod", "/lib/tmpfs-link.kmod" }) {
        INFO(path);
        bool damaged = true;
        auto found = keel::cpio_find_before_damage(intact.data(), intact.size(), path, damaged, &diagnostic);
        REQUIRE(found.is_ok());
        CHECK_FALSE(damaged);
        CHECK(std::string(reinterpret_cast<const char*>(found.value().data), found.value().data_size)
            == "\x7f"
               "ELF tmpfs");
    }
    bool damaged = true;
    auto missing = keel::cpio_find_before_damage(intact.data(), intact.size(), "lib/x", damaged, &diagnostic);
    CHECK(missing.error() == Error::ENOENT);
    CHECK_FALSE(damaged);

    // Damage after the group: found, and the damage is reported.
    std::string late = intact.substr(0, intact.size() - 124) + "070701 broken";
    REQUIRE(cpio_find(late.data(), late.size(), "lib/tmpfs.kmod").is_error());
    auto found = keel::cpio_find_before_damage(late.data(), late.size(), "lib/tmpfs.kmod", damaged, &diagnostic);
    REQUIRE(found.is_ok());
    CHECK(damaged);
    CHECK(contains(diagnostic.message, "at offset"));
    CHECK(found.value().data_size == 10);

    // Damage before the name: the archive's error, and `damaged`.
    std::string early = build({ node("lib", 0040755, 1) }).substr(0, 50);
    auto lost = keel::cpio_find_before_damage(early.data(), early.size(), "lib/tmpfs.kmod", damaged, &diagnostic);
    CHECK(lost.error() == Error::EINVAL);
    CHECK(damaged);
}
