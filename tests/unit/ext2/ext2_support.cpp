#include "ext2_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bcache/bcache.h"

namespace ext2_test {

std::string run(const std::string& command, int* status)
{
    std::string output;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    REQUIRE(pipe);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), pipe)) > 0)
        output.append(chunk, got);
    int result = pclose(pipe);
    if (status)
        *status = WIFEXITED(result) ? WEXITSTATUS(result) : -1;
    return output;
}

std::string make_temp_dir()
{
    char name[] = "/tmp/keel-ext2-XXXXXX";
    REQUIRE(mkdtemp(name));
    return name;
}

void remove_tree(const std::string& path)
{
    if (!path.empty() && path.rfind("/tmp/keel-ext2-", 0) == 0)
        run("rm -rf '" + path + "'");
}

Image::Image(uint64_t bytes, const std::string& options, const std::string& tree)
{
    char name[] = "/tmp/keel-ext2-image-XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, off_t(bytes)) == 0);
    close(fd);
    path = name;
    int status;
    std::string type = options.find("-t ") == std::string::npos ? "-t ext2 " : "";
    std::string command = "mke2fs -q -F " + type + options + (tree.empty() ? "" : " -d '" + tree + "'") + " '" + path
        + "' " + std::to_string(bytes / 1024) + "k";
    std::string output = run(command, &status);
    INFO(command << "\n" << output);
    REQUIRE(status == 0);
}

Image::~Image() { unlink(path.c_str()); }

int Image::fsck(std::string* report) const
{
    int status;
    std::string output = run("e2fsck -fn '" + path + "'", &status);
    if (report)
        *report = output;
    return status;
}

std::string Image::debugfs(const std::string& request, bool writable) const
{
    return run(std::string("debugfs ") + (writable ? "-w " : "") + "-R '" + request + "' '" + path + "'");
}

void Image::rdump(const std::string& directory) const
{
    int status;
    std::string output = run("debugfs -R 'rdump / " + directory + "' '" + path + "'", &status);
    INFO(output);
    REQUIRE(status == 0);
}

std::vector<uint8_t> Image::bytes(uint64_t offset, size_t length) const
{
    std::vector<uint8_t> data(length);
    int fd = open(path.c_str(), O_RDONLY);
    REQUIRE(pread(fd, data.data(), length, off_t(offset)) == ssize_t(length));
    close(fd);
    return data;
}

void Image::patch(uint64_t offset, const void* data, size_t length) const
{
    int fd = open(path.c_str(), O_RDWR);
    REQUIRE(pwrite(fd, data, length, off_t(offset)) == ssize_t(length));
    close(fd);
}

std::string pattern(size_t length, uint32_t seed)
{
    std::string data(length, '\0');
    uint32_t state = seed * 2654435761u + 1;
    for (size_t i = 0; i < length; i++) {
        state = state * 1103515245u + 12345u;
        data[i] = char(state >> 16);
    }
    return data;
}

namespace {

uint32_t host_rdev(dev_t dev) { return uint32_t(major(dev)) << 20 | uint32_t(minor(dev)); }

void scan_host_into(const std::string& root, const std::string& relative, Tree& tree)
{
    std::string path = relative.empty() ? root : root + "/" + relative;
    struct stat st;
    REQUIRE(lstat(path.c_str(), &st) == 0);
    Entry entry;
    entry.mode = st.st_mode;
    entry.uid = st.st_uid;
    entry.gid = st.st_gid;
    entry.nlink = uint32_t(st.st_nlink);
    entry.mtime = uint64_t(st.st_mtime);
    if (S_ISREG(st.st_mode) && uint64_t(st.st_size) > kCompareMax) {
        entry.size = uint64_t(st.st_size);
    } else if (S_ISREG(st.st_mode)) {
        entry.size = uint64_t(st.st_size);
        int fd = open(path.c_str(), O_RDONLY);
        REQUIRE(fd >= 0);
        entry.data.resize(size_t(st.st_size));
        size_t done = 0;
        while (done < entry.data.size()) {
            ssize_t got = read(fd, &entry.data[done], entry.data.size() - done);
            REQUIRE(got > 0);
            done += size_t(got);
        }
        close(fd);
    } else if (S_ISLNK(st.st_mode)) {
        entry.size = uint64_t(st.st_size);
        char target[4096];
        ssize_t length = readlink(path.c_str(), target, sizeof(target));
        REQUIRE(length >= 0);
        entry.data.assign(target, size_t(length));
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        entry.rdev = host_rdev(st.st_rdev);
    }
    tree[relative] = entry;
    if (S_ISDIR(st.st_mode)) {
        DIR* dir = opendir(path.c_str());
        REQUIRE(dir);
        while (struct dirent* item = readdir(dir)) {
            std::string name = item->d_name;
            if (name == "." || name == ".." || (relative.empty() && name == "lost+found"))
                continue;
            scan_host_into(root, relative.empty() ? name : relative + "/" + name, tree);
        }
        closedir(dir);
    }
}

} // namespace

Tree scan_host(const std::string& root)
{
    Tree tree;
    scan_host_into(root, "", tree);
    return tree;
}

std::string compare(const Tree& expected, const Tree& actual, const CompareOptions& options)
{
    std::string differences;
    auto note = [&](const std::string& text) {
        if (differences.size() < 4000)
            differences += text + "\n";
    };
    for (const auto& item : expected) {
        const std::string& path = item.first;
        const Entry& want = item.second;
        auto found = actual.find(path);
        if (found == actual.end()) {
            note("missing: '" + path + "'");
            continue;
        }
        const Entry& got = found->second;
        auto field = [&](const char* name, uint64_t a, uint64_t b) {
            if (a != b)
                note("'" + path + "': " + name + " " + std::to_string(a) + " expected, got " + std::to_string(b));
        };
        bool directory = S_ISDIR(want.mode);
        field("mode", want.mode & options.mode_mask, got.mode & options.mode_mask);
        if (options.owners) {
            field("uid", want.uid, got.uid);
            field("gid", want.gid, got.gid);
        }
        if (!directory)
            field("size", want.size, got.size);
        if (options.links && !directory)
            field("nlink", want.nlink, got.nlink);
        if (options.devices)
            field("rdev", want.rdev, got.rdev);
        if (options.times && !directory)
            field("mtime", want.mtime, got.mtime);
        if (want.data != got.data)
            note("'" + path + "': contents differ (" + std::to_string(want.data.size()) + " bytes expected, "
                + std::to_string(got.data.size()) + " read)");
    }
    for (const auto& [path, entry] : actual) {
        (void)entry;
        if (!expected.count(path))
            note("unexpected: '" + path + "'");
    }
    return differences;
}

// ---- the mounted filesystem

namespace {
int g_tmpfs_owner, g_ext2_owner;
} // namespace

Mounted::Mounted(const Image& image, uint32_t sector_size, bool read_only_device)
{
    // The cache's hash table is allocated once, on first use.
    static bool warmed = false;
    if (!warmed) {
        bcache_test::FileDevice warm("warm", image.path, 512, true);
        warmed = true;
    }
    baseline = host_platform_stats().allocations;
    REQUIRE(vfs_register_filesystem(&tmpfs_type_ops, &g_tmpfs_owner).is_ok());
    REQUIRE(vfs_register_filesystem(&ext2_type_ops, &g_ext2_owner).is_ok());
    REQUIRE(vfs_mount_root("tmpfs", "rootfs", nullptr).is_ok());
    REQUIRE(vfs_mkdir(ctx, "/mnt", 0755).is_ok());
    device = std::make_unique<bcache_test::FileDevice>("vdz", image.path, sector_size, read_only_device);
    REQUIRE(device->registered());
    host_take_logs();
}

Mounted::~Mounted()
{
    if (mounted)
        CHECK(unmount().is_ok());
    vfs_reset_initial_namespace();
    VfsCounters counters = vfs_counters();
    CHECK(counters.mounts == 0);
    CHECK(counters.superblocks == 0);
    CHECK(counters.dentries == 0);
    CHECK(counters.files == 0);
    CHECK(ext2_nodes_in_use() == 0);
    CHECK(tmpfs_nodes_in_use() == 0);
    CHECK(vfs_unregister_filesystem(&ext2_type_ops).is_ok());
    CHECK(vfs_unregister_filesystem(&tmpfs_type_ops).is_ok());
    device.reset();
    BcacheStats stats = bcache_stats();
    CHECK(stats.held == 0);
    CHECK(stats.buffers == 0);
    CHECK(host_platform_stats().allocations == baseline);
}

Result<void> Mounted::mount(const char* options, uint32_t flags)
{
    auto result = vfs_mount(ctx, "/dev/vdz", "/mnt", "ext2", flags, options);
    if (result.is_ok())
        mounted = true;
    return result;
}

Result<void> Mounted::unmount()
{
    auto result = vfs_umount(ctx, "/mnt", 0);
    if (result.is_ok())
        mounted = false;
    return result;
}

Result<void> Mounted::remount(const char* options, uint32_t flags)
{
    return vfs_mount(ctx, "/dev/vdz", "/mnt", "ext2", flags | kMountRemount, options);
}

std::string Mounted::read(const std::string& path, Error* error)
{
    std::string data;
    auto opened = vfs_open(ctx, path.c_str(), kOpenReadOnly, 0);
    if (error)
        *error = ext2_test::err(opened);
    else
        REQUIRE(opened.is_ok());
    if (opened.is_error())
        return data;
    File* file = opened.value();
    static char chunk[1 << 20];
    for (;;) {
        auto got = vfs_read(*file, chunk, sizeof(chunk));
        if (error)
            *error = ext2_test::err(got);
        else
            REQUIRE(got.is_ok());
        if (got.is_error() || got.value() == 0)
            break;
        data.append(chunk, got.value());
    }
    vfs_close(file);
    return data;
}

Result<void> Mounted::write(const std::string& path, const std::string& data, uint64_t offset, bool create)
{
    File* file = TRY(vfs_open(ctx, path.c_str(), kOpenWriteOnly | (create ? kOpenCreate : 0), 0644));
    size_t done = 0;
    while (done < data.size()) {
        auto wrote = vfs_pwrite(*file, offset + done, data.data() + done, data.size() - done);
        if (wrote.is_error()) {
            vfs_close(file);
            return Err(wrote.error());
        }
        done += wrote.value();
    }
    vfs_close(file);
    return {};
}

std::vector<std::string> Mounted::list(const std::string& path)
{
    std::vector<std::string> names;
    auto file = vfs_open(ctx, path.c_str(), kOpenReadOnly | kOpenDirectory, 0);
    REQUIRE(file.is_ok());
    auto visit = [](void* context, const char* name, size_t length, uint64_t, uint32_t) {
        static_cast<std::vector<std::string>*>(context)->emplace_back(name, length);
        return 0;
    };
    REQUIRE(vfs_readdir(*file.value(), visit, &names).is_ok());
    vfs_close(file.value());
    return names;
}

namespace {

struct Listing {
    std::vector<std::pair<std::string, uint32_t>> entries;
};

void scan_vfs_into(Mounted& mounted, const std::string& root, const std::string& relative, Tree& tree)
{
    std::string path = relative.empty() ? root : root + "/" + relative;
    auto stat = vfs_stat(mounted.ctx, path.c_str(), false);
    INFO(path);
    REQUIRE(stat.is_ok());
    const keel_vfs_attr& attr = stat.value().attr;
    Entry entry;
    entry.mode = attr.mode;
    entry.uid = attr.uid;
    entry.gid = attr.gid;
    entry.nlink = attr.nlink;
    entry.mtime = attr.mtime_ns / 1000000000ull;
    entry.rdev = attr.rdev;
    if (mode_is_regular(attr.mode)) {
        entry.size = attr.size;
        if (attr.size <= kCompareMax)
            entry.data = mounted.read(path);
    } else if (mode_is_symlink(attr.mode)) {
        entry.size = attr.size;
        char target[4096];
        auto length = vfs_readlink(mounted.ctx, path.c_str(), target, sizeof(target));
        REQUIRE(length.is_ok());
        entry.data.assign(target, length.value());
    }
    tree[relative] = entry;
    if (mode_is_directory(attr.mode)) {
        Listing listing;
        auto file = vfs_open(mounted.ctx, path.c_str(), kOpenReadOnly | kOpenDirectory, 0);
        REQUIRE(file.is_ok());
        auto visit = [](void* context, const char* name, size_t length, uint64_t, uint32_t mode) {
            static_cast<Listing*>(context)->entries.emplace_back(std::string(name, length), mode);
            return 0;
        };
        REQUIRE(vfs_readdir(*file.value(), visit, &listing).is_ok());
        vfs_close(file.value());
        for (auto& [name, mode] : listing.entries) {
            if (name == "." || name == ".." || (relative.empty() && name == "lost+found"))
                continue;
            std::string child = relative.empty() ? name : relative + "/" + name;
            scan_vfs_into(mounted, root, child, tree);
            INFO(child);
            CHECK((tree[child].mode & kModeTypeMask) == (mode & kModeTypeMask)); // readdir's type agrees
        }
    }
}

} // namespace

Tree Mounted::scan(const std::string& root)
{
    Tree tree;
    scan_vfs_into(*this, root, "", tree);
    return tree;
}

} // namespace ext2_test

#include <sys/socket.h>
#include <sys/un.h>

namespace ext2_test {

namespace {

void write_file(const std::string& path, const std::string& data, mode_t mode = 0644)
{
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, data.data(), data.size()) == ssize_t(data.size()));
    close(fd);
    REQUIRE(chmod(path.c_str(), mode) == 0);
}

void write_at(const std::string& path, uint64_t offset, const std::string& data)
{
    int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(pwrite(fd, data.data(), data.size(), off_t(offset)) == ssize_t(data.size()));
    close(fd);
}

void set_time(const std::string& path, time_t seconds)
{
    struct timespec times[2] = { { seconds, 0 }, { seconds, 0 } };
    REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

} // namespace

void make_sample_tree(const std::string& root, size_t wide, size_t depth, uint32_t block_size)
{
    REQUIRE(chmod(root.c_str(), 0755) == 0);
    REQUIRE(mkdir((root + "/wide").c_str(), 0755) == 0);
    for (size_t i = 0; i < wide; i++) {
        char name[32];
        snprintf(name, sizeof(name), "/wide/file-%05zu", i);
        write_file(root + name, pattern((i * 37) % 3000, uint32_t(i)), i % 3 ? 0644 : 0600);
    }
    std::string path = root;
    for (size_t level = 0; level < depth; level++) {
        path += "/level-" + std::to_string(level);
        REQUIRE(mkdir(path.c_str(), 0750) == 0);
        write_file(path + "/leaf", "level " + std::to_string(level) + "\n");
    }
    write_file(root + "/big", pattern(3 * 1024 * 1024 + 123, 7));
    write_file(root + "/empty", "");
    // Sparse: data at the start, across the indirect levels, past 4 GiB.
    write_at(root + "/sparse", 0, pattern(5000, 11));
    write_at(root + "/sparse", 300 * 1024, pattern(100, 12));
    write_at(root + "/sparse", 70ull << 20, pattern(9000, 13));
    write_at(root + "/sparse", (5ull << 30) - 10, "the end");
    REQUIRE(truncate((root + "/hole-only").c_str(), 0) != 0); // absent
    write_at(root + "/hole-only", 0, "");
    REQUIRE(truncate((root + "/hole-only").c_str(), 1 << 20) == 0);
    REQUIRE(symlink("wide/file-00001", (root + "/fast-link").c_str()) == 0);
    REQUIRE(symlink(std::string(200, 'x').c_str(), (root + "/slow-link").c_str()) == 0);
    REQUIRE(symlink(("dangling/" + std::string(block_size - 10, 'y')).c_str(), (root + "/long-link").c_str()) == 0);
    write_file(root + "/hard-a", "three names\n");
    REQUIRE(link((root + "/hard-a").c_str(), (root + "/wide/hard-b").c_str()) == 0);
    REQUIRE(link((root + "/hard-a").c_str(), (root + "/level-0/hard-c").c_str()) == 0);
    REQUIRE(mknod((root + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    REQUIRE(mknod((root + "/disk").c_str(), S_IFBLK | 0660, makedev(8, 1)) == 0);
    REQUIRE(mknod((root + "/big-device").c_str(), S_IFCHR | 0600, makedev(300, 70000)) == 0);
    REQUIRE(mkfifo((root + "/fifo").c_str(), 0640) == 0);
    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(sock >= 0);
    struct sockaddr_un address { };
    address.sun_family = AF_UNIX;
    std::string sock_path = root + "/socket";
    REQUIRE(sock_path.size() < sizeof(address.sun_path));
    memcpy(address.sun_path, sock_path.c_str(), sock_path.size() + 1);
    REQUIRE(bind(sock, reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) == 0);
    close(sock);
    write_file(root + "/setuid", "#!/bin/true\n", 04755);
    REQUIRE(mkdir((root + "/sticky").c_str(), 01777) == 0);
    REQUIRE(chmod((root + "/sticky").c_str(), 01777) == 0);
    REQUIRE(lchown((root + "/setuid").c_str(), 1000, 1000) == 0);
    REQUIRE(lchown((root + "/big").c_str(), 70000, 80000) == 0);
    REQUIRE(lchown((root + "/fast-link").c_str(), 5, 6) == 0);
    set_time(root + "/big", 1000000000);
    set_time(root + "/fast-link", 1234567890);
    set_time(root + "/null", 1500000000);
}

} // namespace ext2_test
