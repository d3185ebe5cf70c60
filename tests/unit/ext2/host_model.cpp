#include "host_model.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <random>

namespace ext2_test {

namespace {

int host_errno() { return errno; }

int code(const Result<void>& result) { return result.is_ok() ? 0 : static_cast<int>(result.error()); }

void put_file(const std::string& path, const std::string& data)
{
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, data.data(), data.size()) == ssize_t(data.size()));
    close(fd);
}

} // namespace

void make_small_tree(const std::string& root)
{
    REQUIRE(::chmod(root.c_str(), 0755) == 0);
    REQUIRE(::mkdir((root + "/dir").c_str(), 0755) == 0);
    for (int i = 0; i < 10; i++)
        put_file(root + "/dir/file-" + std::to_string(i), pattern(size_t(i) * 700, uint32_t(i)));
    REQUIRE(::mkdir((root + "/dir/sub").c_str(), 0700) == 0);
    put_file(root + "/dir/sub/inner", "inner\n");
    put_file(root + "/bigger", pattern(200000, 77));
    REQUIRE(::symlink("dir/file-1", (root + "/link").c_str()) == 0);
    REQUIRE(::link((root + "/dir/file-2").c_str(), (root + "/second-name").c_str()) == 0);
}

void copy_tree(const std::string& from, const std::string& to)
{
    int status;
    std::string output = run("cp -a '" + from + "/.' '" + to + "/'", &status);
    INFO(output);
    REQUIRE(status == 0);
}

Tree without_specials(const Tree& tree)
{
    Tree kept;
    for (const auto& [path, entry] : tree) {
        uint32_t type = entry.mode & S_IFMT;
        if (path.empty() || type == S_IFCHR || type == S_IFBLK || type == S_IFIFO || type == S_IFSOCK)
            continue;
        kept[path] = entry;
    }
    return kept;
}

// ---- the model

Model::Model(std::string directory)
    : root(std::move(directory))
{
    umask(022);
}

int Model::write(const std::string& path, uint64_t offset, const std::string& data)
{
    int fd = open((root + "/" + path).c_str(), O_WRONLY | O_CREAT, 0644);
    if (fd < 0)
        return host_errno();
    ssize_t wrote = pwrite(fd, data.data(), data.size(), off_t(offset));
    int error = wrote < 0 ? host_errno() : 0;
    close(fd);
    return error;
}

#define HOST_CALL(expression) ((expression) == 0 ? 0 : host_errno())

int Model::mkdir(const std::string& path) { return HOST_CALL(::mkdir((root + "/" + path).c_str(), 0755)); }
int Model::rmdir(const std::string& path) { return HOST_CALL(::rmdir((root + "/" + path).c_str())); }
int Model::unlink(const std::string& path) { return HOST_CALL(::unlink((root + "/" + path).c_str())); }
int Model::symlink(const std::string& target, const std::string& path)
{
    return HOST_CALL(::symlink(target.c_str(), (root + "/" + path).c_str()));
}
int Model::link(const std::string& from, const std::string& to)
{
    return HOST_CALL(::link((root + "/" + from).c_str(), (root + "/" + to).c_str()));
}
int Model::rename(const std::string& from, const std::string& to)
{
    return HOST_CALL(::rename((root + "/" + from).c_str(), (root + "/" + to).c_str()));
}
int Model::chmod(const std::string& path, uint32_t mode)
{
    return HOST_CALL(::chmod((root + "/" + path).c_str(), mode));
}
int Model::truncate(const std::string& path, uint64_t size)
{
    return HOST_CALL(::truncate((root + "/" + path).c_str(), off_t(size)));
}

std::vector<Model::Item> Model::list() const
{
    std::vector<Item> items;
    std::function<void(const std::string&)> walk = [&](const std::string& relative) {
        DIR* dir = opendir((root + (relative.empty() ? "" : "/" + relative)).c_str());
        REQUIRE(dir);
        std::vector<std::string> names;
        while (struct dirent* entry = readdir(dir)) {
            std::string name = entry->d_name;
            if (name != "." && name != ".." && !(relative.empty() && name == "lost+found"))
                names.push_back(name);
        }
        closedir(dir);
        std::sort(names.begin(), names.end()); // the same choices whatever the host's order
        for (const std::string& name : names) {
            std::string path = relative.empty() ? name : relative + "/" + name;
            struct stat st;
            REQUIRE(lstat((root + "/" + path).c_str(), &st) == 0);
            items.push_back({ path, st.st_mode, uint64_t(st.st_size) });
            if (S_ISDIR(st.st_mode))
                walk(path);
        }
    };
    walk("");
    return items;
}

// ---- both

namespace {

std::string on_image(const std::string& path) { return "/mnt/" + path; }

int agree(const char* operation, const std::string& path, int image, int host, bool expect_ok)
{
    INFO(operation << " " << path << ": image " << image << ", model " << host);
    CHECK(image == host);
    if (expect_ok)
        REQUIRE(image == 0);
    return image;
}

} // namespace

int Both::write(const std::string& path, uint64_t offset, const std::string& data, bool expect_ok)
{
    int image = code(mounted.write(on_image(path), data, offset));
    return agree("write", path, image, model.write(path, offset, data), expect_ok);
}

int Both::mkdir(const std::string& path, bool expect_ok)
{
    int image = code(vfs_mkdir(mounted.ctx, on_image(path).c_str(), 0755));
    return agree("mkdir", path, image, model.mkdir(path), expect_ok);
}

int Both::rmdir(const std::string& path, bool expect_ok)
{
    int image = code(vfs_rmdir(mounted.ctx, on_image(path).c_str()));
    return agree("rmdir", path, image, model.rmdir(path), expect_ok);
}

int Both::unlink(const std::string& path, bool expect_ok)
{
    int image = code(vfs_unlink(mounted.ctx, on_image(path).c_str()));
    return agree("unlink", path, image, model.unlink(path), expect_ok);
}

int Both::symlink(const std::string& target, const std::string& path, bool expect_ok)
{
    int image = code(vfs_symlink(mounted.ctx, target.c_str(), on_image(path).c_str()));
    return agree("symlink", path, image, model.symlink(target, path), expect_ok);
}

int Both::link(const std::string& from, const std::string& to, bool expect_ok)
{
    int image = code(vfs_link(mounted.ctx, on_image(from).c_str(), on_image(to).c_str()));
    return agree("link", from + " " + to, image, model.link(from, to), expect_ok);
}

int Both::rename(const std::string& from, const std::string& to, bool expect_ok)
{
    int image = code(vfs_rename(mounted.ctx, on_image(from).c_str(), on_image(to).c_str()));
    return agree("rename", from + " " + to, image, model.rename(from, to), expect_ok);
}

int Both::chmod(const std::string& path, uint32_t mode, bool expect_ok)
{
    keel_vfs_attr attr {};
    attr.mode = mode;
    int image = code(vfs_setattr(mounted.ctx, on_image(path).c_str(), attr, KEEL_VFS_ATTR_MODE, false));
    return agree("chmod", path, image, model.chmod(path, mode), expect_ok);
}

int Both::truncate(const std::string& path, uint64_t size, bool expect_ok)
{
    int image = code(vfs_truncate(mounted.ctx, on_image(path).c_str(), size));
    return agree("truncate", path, image, model.truncate(path, size), expect_ok);
}

// ---- random sequences

void random_operations(Both& both, uint32_t seed, int count)
{
    std::mt19937 random(seed);
    auto below = [&](uint64_t limit) { return limit ? uint64_t(random() % limit) : 0; };
    uint32_t fresh = seed * 1000;
    auto new_name = [&]() { return "n" + std::to_string(fresh++); };
    for (int step = 0; step < count; step++) {
        std::vector<Model::Item> items = both.model.list();
        std::vector<Model::Item> files, dirs, any;
        dirs.push_back({ "", S_IFDIR | 0755, 0 });
        for (const auto& item : items) {
            any.push_back(item);
            if (S_ISREG(item.mode))
                files.push_back(item);
            else if (S_ISDIR(item.mode))
                dirs.push_back(item);
        }
        auto in = [&](const Model::Item& dir) { return dir.path.empty() ? new_name() : dir.path + "/" + new_name(); };
        const Model::Item& dir = dirs[below(dirs.size())];
        INFO("step " << step);
        switch (below(10)) {
        case 0: { // create a file, sometimes sparse
            uint64_t size = below(4) == 0 ? below(70000) : below(3000);
            uint64_t offset = below(5) == 0 ? below(6ull << 20) : 0;
            both.write(in(dir), offset, pattern(size, fresh));
            break;
        }
        case 1: // write into an existing file
            if (!files.empty()) {
                const auto& file = files[below(files.size())];
                both.write(file.path, below(file.size + 5000), pattern(below(9000) + 1, fresh++));
            }
            break;
        case 2:
            if (!files.empty())
                both.truncate(files[below(files.size())].path, below(3) ? below(20000) : below(2ull << 20));
            break;
        case 3: { // rename a file or a directory into another directory
            if (any.empty())
                break;
            const auto& from = any[below(any.size())];
            if (S_ISDIR(from.mode) && (dir.path == from.path || dir.path.rfind(from.path + "/", 0) == 0))
                break; // into itself: both refuse, with different errors on some hosts
            std::string to = in(dir);
            if (S_ISREG(from.mode) && !files.empty() && below(3) == 0)
                to = files[below(files.size())].path; // over an existing file
            both.rename(from.path, to, false);
            break;
        }
        case 4:
            if (!files.empty())
                both.link(files[below(files.size())].path, in(dir));
            break;
        case 5:
            if (!files.empty() || !any.empty()) {
                const auto& victim = any[below(any.size())];
                if (!S_ISDIR(victim.mode))
                    both.unlink(victim.path);
            }
            break;
        case 6: both.mkdir(in(dir)); break;
        case 7:
            if (dirs.size() > 1)
                both.rmdir(dirs[1 + below(dirs.size() - 1)].path, false);
            break;
        case 8: {
            std::string target = below(2) ? "t" + std::to_string(below(1000)) : std::string(below(300) + 60, 'x');
            both.symlink(target, in(dir));
            break;
        }
        case 9: {
            static const uint32_t modes[] = { 0600, 0644, 0755, 0700, 04755, 01777 };
            if (!any.empty()) {
                const auto& item = any[below(any.size())];
                if (!S_ISLNK(item.mode))
                    both.chmod(item.path, modes[below(6)]);
            }
            break;
        }
        }
    }
    // A few files read back through the filesystem itself.
    for (const auto& item : both.model.list()) {
        if (!S_ISREG(item.mode) || item.size > (1u << 20))
            continue;
        std::string expected;
        int fd = open((both.model.root + "/" + item.path).c_str(), O_RDONLY);
        REQUIRE(fd >= 0);
        expected.resize(item.size);
        REQUIRE(pread(fd, expected.data(), expected.size(), 0) == ssize_t(expected.size()));
        close(fd);
        INFO(item.path);
        CHECK(both.mounted.read(on_image(item.path)) == expected);
    }
}

} // namespace ext2_test
