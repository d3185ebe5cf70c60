// A tiny newc writer for the tests: builds archives field by field, so a
// test can write exactly the malformation it wants to see rejected.
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <optional>
#include <string>
#include <vector>

namespace cpio_test {

struct TestEntry {
    std::string name;
    uint32_t mode = 0100644;
    std::string data;
    uint32_t ino = 1;
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t nlink = 1;
    uint32_t mtime = 0;
    uint32_t dev_major = 3;
    uint32_t dev_minor = 1;
    uint32_t rdev_major = 0;
    uint32_t rdev_minor = 0;
    bool with_checksum = false;
    // Overrides for writing inconsistent headers.
    std::optional<uint32_t> filesize;
    std::optional<uint32_t> namesize;
    std::optional<uint32_t> check;
    std::optional<std::string> magic;
};

inline void pad4(std::string& out)
{
    while (out.size() % 4 != 0)
        out += '\0';
}

// Appends one entry; alignment is relative to the start of `out`.
inline void append_entry(std::string& out, const TestEntry& entry)
{
    uint32_t sum = 0;
    for (unsigned char c : entry.data)
        sum += c;
    uint32_t check = entry.check.value_or(entry.with_checksum ? sum : 0);
    std::string magic = entry.magic.value_or(entry.with_checksum ? "070702" : "070701");
    char header[111];
    snprintf(header, sizeof(header), "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", entry.ino,
        entry.mode, entry.uid, entry.gid, entry.nlink, entry.mtime,
        entry.filesize.value_or(uint32_t(entry.data.size())), entry.dev_major, entry.dev_minor, entry.rdev_major,
        entry.rdev_minor, entry.namesize.value_or(uint32_t(entry.name.size() + 1)), check);
    // The magic is copied as bytes: tests put NULs and junk in it.
    for (size_t i = 0; i < 6; ++i)
        header[i] = i < magic.size() ? magic[i] : '\0';
    out.append(header, 110);
    out += entry.name;
    out += '\0';
    pad4(out);
    out += entry.data;
    pad4(out);
}

inline TestEntry trailer()
{
    TestEntry entry;
    entry.name = "TRAILER!!!";
    entry.mode = 0;
    entry.ino = 0;
    entry.dev_major = 0;
    entry.dev_minor = 0;
    return entry;
}

// A whole archive: the entries and a trailer.
inline std::string build(const std::vector<TestEntry>& entries)
{
    std::string out;
    for (const TestEntry& entry : entries)
        append_entry(out, entry);
    append_entry(out, trailer());
    return out;
}

inline TestEntry file(const std::string& name, const std::string& data, uint32_t ino = 1)
{
    TestEntry entry;
    entry.name = name;
    entry.data = data;
    entry.ino = ino;
    return entry;
}

inline TestEntry node(const std::string& name, uint32_t mode, uint32_t ino = 1)
{
    TestEntry entry;
    entry.name = name;
    entry.mode = mode;
    entry.ino = ino;
    return entry;
}

} // namespace cpio_test
