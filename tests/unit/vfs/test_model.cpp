// Random operations on tmpfs through the VFS, checked step by step against
// a model (a map from path to file or directory): the result of every
// operation, the error code of every refusal, and each directory listing.
#include <map>
#include <random>

#include "fixture.h"

using namespace vfs_test;

namespace {

struct ModelNode {
    bool directory;
    std::string content;
};

struct Model {
    std::map<std::string, ModelNode> nodes { { "", { true, "" } } };

    static std::string parent_of(const std::string& path) { return path.substr(0, path.rfind('/')); }
    bool is_dir(const std::string& path) const
    {
        auto it = nodes.find(path);
        return it != nodes.end() && it->second.directory;
    }
    bool exists(const std::string& path) const { return nodes.count(path) != 0; }
    bool has_children(const std::string& path) const
    {
        auto it = nodes.upper_bound(path + "/");
        return it != nodes.end() && it->first.rfind(path + "/", 0) == 0;
    }
    // The error walking to directory `dir` gets: the first missing
    // component is ENOENT, a file in the middle ENOTDIR.
    Error walk_error(const std::string& dir) const
    {
        size_t at = 0;
        while (at < dir.size()) {
            size_t next = dir.find('/', at + 1);
            std::string prefix = dir.substr(0, next);
            if (!exists(prefix))
                return Error::ENOENT;
            if (!is_dir(prefix))
                return Error::ENOTDIR;
            at = next == std::string::npos ? dir.size() : next;
        }
        return Error(0);
    }
    // The error a create at `path` gets, or 0.
    Error create_error(const std::string& path) const
    {
        if (Error error = walk_error(parent_of(path)); error != Error(0))
            return error;
        if (exists(path))
            return Error::EEXIST;
        return Error(0);
    }
    Error lookup_error(const std::string& path) const
    {
        if (Error error = walk_error(parent_of(path)); error != Error(0))
            return error;
        if (!exists(path))
            return Error::ENOENT;
        return Error(0);
    }
    std::vector<std::string> list(const std::string& dir) const
    {
        std::vector<std::string> names;
        for (auto& [path, node] : nodes) {
            if (!path.empty() && parent_of(path) == dir)
                names.push_back(path.substr(dir.size() + 1));
        }
        return names;
    }
};

// Parent chains whose components can be missing or files.
std::string random_path(std::mt19937& random)
{
    static const char* const kNames[] = { "a", "b", "c" };
    std::string path;
    int depth = 1 + random() % 3;
    for (int i = 0; i < depth; i++)
        path += std::string("/") + kNames[random() % 3];
    return path;
}

} // namespace

TEST_CASE("model: random operations agree with a model")
{
    for (unsigned seed = 1; seed <= 30; seed++) {
        Fixture f;
        Model model;
        std::mt19937 random(seed);
        REQUIRE(vfs_mkdir(f.ctx, "/t", 0755).is_ok());
        REQUIRE(vfs_chdir(f.ctx, "/t").is_ok());
        for (int step = 0; step < 300; step++) {
            std::string path = random_path(random);
            std::string full = "/t" + path;
            INFO("seed " << seed << " step " << step << " path " << path);
            switch (random() % 7) {
            case 0: {
                Error expected = model.create_error(path);
                CHECK(err(vfs_mkdir(f.ctx, full.c_str(), 0755)) == expected);
                if (expected == Error(0))
                    model.nodes[path] = { true, "" };
                break;
            }
            case 1: {
                std::string content = std::to_string(random());
                Error expected = model.lookup_error(path);
                if (expected == Error::ENOENT && model.create_error(path) == Error(0))
                    expected = Error(0);
                else if (expected == Error(0) && model.is_dir(path))
                    expected = Error::EISDIR;
                auto file = vfs_open(f.ctx, full.c_str(), kOpenWriteOnly | kOpenCreate | kOpenTruncate, 0644);
                CHECK(err(file) == expected);
                if (file.is_ok()) {
                    REQUIRE(vfs_write(*file.value(), content.data(), content.size()).is_ok());
                    vfs_close(file.value());
                    model.nodes[path] = { false, content };
                }
                break;
            }
            case 2: {
                Error expected = model.lookup_error(path);
                if (expected == Error(0) && model.is_dir(path))
                    expected = Error::EISDIR;
                CHECK(err(vfs_unlink(f.ctx, full.c_str())) == expected);
                if (expected == Error(0))
                    model.nodes.erase(path);
                break;
            }
            case 3: {
                Error expected = model.lookup_error(path);
                if (expected == Error(0) && !model.is_dir(path))
                    expected = Error::ENOTDIR;
                else if (expected == Error(0) && model.has_children(path))
                    expected = Error::ENOTEMPTY;
                CHECK(err(vfs_rmdir(f.ctx, full.c_str())) == expected);
                if (expected == Error(0))
                    model.nodes.erase(path);
                break;
            }
            case 4: {
                // Rename, only between valid, distinct places (the error
                // rules for renames have their own test).
                std::string to = random_path(random);
                if (model.lookup_error(path) != Error(0) || to == path || to.rfind(path + "/", 0) == 0
                    || path.rfind(to + "/", 0) == 0)
                    break;
                std::string to_parent = Model::parent_of(to);
                if (!model.is_dir(to_parent))
                    break;
                bool source_dir = model.is_dir(path);
                if (model.exists(to)) {
                    if (model.is_dir(to) != source_dir || (source_dir && model.has_children(to)))
                        break;
                    model.nodes.erase(to);
                }
                REQUIRE(vfs_rename(f.ctx, full.c_str(), ("/t" + to).c_str()).is_ok());
                std::map<std::string, ModelNode> moved;
                for (auto it = model.nodes.begin(); it != model.nodes.end();) {
                    if (it->first == path || it->first.rfind(path + "/", 0) == 0) {
                        moved[to + it->first.substr(path.size())] = it->second;
                        it = model.nodes.erase(it);
                    } else {
                        ++it;
                    }
                }
                model.nodes.insert(moved.begin(), moved.end());
                break;
            }
            case 5: {
                Error expected = model.lookup_error(path);
                if (expected == Error(0) && !model.is_dir(path))
                    CHECK(f.read(full.c_str()) == model.nodes[path].content);
                else
                    CHECK(err(vfs_stat(f.ctx, full.c_str(), true)) == expected);
                break;
            }
            case 6: {
                std::string dir = Model::parent_of(path);
                if (!model.is_dir(dir))
                    break;
                auto names = f.list(("/t" + dir).c_str());
                std::vector<std::string> listed(names.begin() + 2, names.end());
                std::sort(listed.begin(), listed.end());
                CHECK(listed == model.list(dir));
                break;
            }
            }
        }
        REQUIRE(vfs_chdir(f.ctx, "/").is_ok());
    }
}
