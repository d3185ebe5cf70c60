// core/lib/fsprobe against blkid: images made by mke2fs as ext2, ext3 and
// ext4 (with and without a journal, labels of every length, a fixed UUID)
// are identified as `blkid -p -o export` identifies them; short buffers,
// other magics and unprintable labels are handled.
#include <catch2/catch.hpp>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "lib/fsprobe/fsprobe.h"

using namespace keel;

namespace {

std::string run(const std::string& command)
{
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe);
    char buffer[256];
    while (fgets(buffer, sizeof(buffer), pipe))
        out += buffer;
    pclose(pipe);
    return out;
}

std::string field(const std::string& exported, const std::string& key)
{
    size_t at = exported.find("\n" + key + "=");
    if (at == std::string::npos && exported.rfind(key + "=", 0) == 0)
        at = 0;
    else if (at == std::string::npos)
        return "";
    else
        at++;
    size_t start = at + key.size() + 1;
    return exported.substr(start, exported.find('\n', start) - start);
}

std::vector<uint8_t> superblock(const std::string& path)
{
    std::vector<uint8_t> bytes(fsprobe::kExtSuperblockBytes);
    FILE* file = fopen(path.c_str(), "rb");
    REQUIRE(file);
    REQUIRE(fseek(file, long(fsprobe::kExtSuperblockOffset), SEEK_SET) == 0);
    REQUIRE(fread(bytes.data(), 1, bytes.size(), file) == bytes.size());
    fclose(file);
    return bytes;
}

struct Image {
    std::string path;
    explicit Image(const std::string& options)
    {
        char name[] = "/tmp/keel-fsprobe-XXXXXX";
        int fd = mkstemp(name);
        REQUIRE(fd >= 0);
        close(fd);
        path = name;
        std::string command = "mke2fs -q -F " + options + " " + path + " 4096k >/dev/null 2>&1";
        REQUIRE(system(command.c_str()) == 0);
    }
    ~Image() { unlink(path.c_str()); }
};

} // namespace

TEST_CASE("fsprobe: ext2, ext3 and ext4 images as blkid names them")
{
    const char* variants[] = {
        "-t ext2 -L keel-root",
        "-t ext2 -b 4096 -L x",
        "-t ext2 -L 0123456789abcdef",
        "-t ext2",
        "-t ext3 -L journalled",
        "-t ext4 -L fourth",
        "-t ext4 -O ^has_journal -L nojournal",
        "-t ext2 -O dir_index,large_file",
        "-t ext3 -O ^has_journal",
    };
    for (const char* variant : variants) {
        INFO(variant);
        Image image(std::string(variant) + " -U 6b1f5a2c-0d3e-4f70-9a81-b2c3d4e5f607");
        std::string blkid = "\n" + run("blkid -p -o export " + image.path);
        REQUIRE(!field(blkid, "TYPE").empty());
        auto bytes = superblock(image.path);
        fsprobe::Identity identity;
        REQUIRE(fsprobe::probe_ext(bytes.data(), bytes.size(), identity));
        CHECK(identity.type == field(blkid, "TYPE"));
        CHECK(identity.label == field(blkid, "LABEL"));
        CHECK(identity.uuid == field(blkid, "UUID"));
        CHECK(std::string(identity.uuid) == "6b1f5a2c-0d3e-4f70-9a81-b2c3d4e5f607");
    }
}

TEST_CASE("fsprobe: what is not an ext superblock")
{
    Image image("-t ext2 -L ok");
    auto bytes = superblock(image.path);
    fsprobe::Identity identity;
    CHECK_FALSE(fsprobe::probe_ext(nullptr, 1024, identity));
    CHECK_FALSE(fsprobe::probe_ext(bytes.data(), 135, identity)); // ends inside the volume name
    CHECK(fsprobe::probe_ext(bytes.data(), 136, identity));
    bytes[56] = 0x52; // another magic
    CHECK_FALSE(fsprobe::probe_ext(bytes.data(), bytes.size(), identity));
    bytes[56] = 0x53;
    // A label with bytes no terminal should get, and one with no NUL.
    memcpy(bytes.data() + 120,
        "a\x01"
        "b\x1b"
        "c\xff",
        6);
    bytes[126] = 0;
    REQUIRE(fsprobe::probe_ext(bytes.data(), bytes.size(), identity));
    CHECK(std::string(identity.label) == "a?b?c?");
    memset(bytes.data() + 120, 'z', 16);
    REQUIRE(fsprobe::probe_ext(bytes.data(), bytes.size(), identity));
    CHECK(std::string(identity.label) == std::string(16, 'z'));
}
