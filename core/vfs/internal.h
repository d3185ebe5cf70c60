// The VFS's own objects, shared by its files; not for the rest of the
// kernel. Everything here is guarded by the VFS lock (platform.h); the
// functions below expect it held.
//
//   FsType      a registered filesystem type (the module's ops table)
//   Superblock  one instance of a filesystem; lives while a mount uses it
//   Dentry      a name in a directory with the filesystem's node behind
//               it; stays cached while its name exists, freed once
//               unreachable and unused
//   Mount       where a superblock's subtree is attached in a namespace;
//               detached mounts live on while paths use them
//   Path        (mount, dentry): a location, holding references on both
#pragma once

#include "lib/base/assert.h"
#include "lib/base/intrusive_list.h"
#include "lib/base/string.h"
#include "vfs/platform.h"
#include "vfs/vfs.h"

namespace keel::vfs {

// Mounts alive at once (Linux's fs.mount-max is 100000 per namespace):
// recursive bind mounts double the tree each time, so there must be a cap.
inline constexpr size_t kVfsMaxMounts = 10000;

struct Dentry;
struct Mount;
struct Namespace;

struct FsType;

struct Superblock {
    FsType* type;
    void* data; // the filesystem's handle
    Dentry* root;
    uint32_t dev;
    uint32_t mounts; // Mount objects using it
    bool readonly;
    char source[64];
    char options[160];
    IntrusiveListNode type_node; // in type->instances
};

struct FsType {
    keel_fs_type_ops ops; // the module's table, zero-extended to the current size
    const keel_fs_type_ops* registered;
    char name[KEEL_FS_TYPE_NAME_MAX + 1];
    void* owner;          // the module that registered it (platform_pin_owner)
    uint32_t superblocks; // alive: unregistering refuses while nonzero
    // The live superblocks, so that a filesystem handing out one handle
    // for every mount (nullfs) gets one superblock (superblock_create).
    IntrusiveList<Superblock, &Superblock::type_node> instances;
    IntrusiveListNode node;
};

struct Dentry {
    Superblock* sb;
    Dentry* parent; // itself for a superblock's root
    void* node;     // a reference on the filesystem's node
    uint32_t mode;  // the node's type bits (a node's type never changes)
    // Holders: paths, open files, child dentries, mounts on it or rooted
    // at it. A hashed dentry without holders stays cached; an unhashed
    // one (its name was removed) is freed with its last holder.
    uint32_t refs = 0;
    uint32_t mounted = 0; // mounts whose mountpoint this is
    bool hashed = true;   // reachable by name from its parent (in the dentry hash, but a root)
    Dentry* hash_next = nullptr;
    size_t hash_key = 0; // dentry_hash_key(parent, name)
    size_t name_length;
    size_t name_capacity;
    char* name;                  // right after the object, or its own buffer after a rename
    bool name_allocated = false; // the latter
    IntrusiveListNode child_node;
    IntrusiveList<Dentry, &Dentry::child_node> children;

    bool is_directory() const { return mode_is_directory(mode); }
    bool is_symlink() const { return mode_is_symlink(mode); }
    bool is_root() const { return parent == this; }
    bool name_is(const char* other, size_t length) const
    {
        return name_length == length && memcmp(name, other, length) == 0;
    }
};

struct Mount {
    uint32_t id;
    uint32_t flags = 0; // kMountReadOnly
    Superblock* sb;
    Dentry* root;
    Mount* parent = nullptr;      // null: a namespace's root, or detached
    Dentry* mountpoint = nullptr; // in parent
    Namespace* ns = nullptr;      // null once detached
    uint32_t refs = 0;            // paths (open files, roots, working directories)
    Mount* copy = nullptr;        // scratch while a namespace or subtree is copied
    IntrusiveListNode child_node; // in parent->children
    IntrusiveListNode ns_node;    // in ns->mounts, in mount order
    IntrusiveList<Mount, &Mount::child_node> children;
};

struct Namespace {
    Mount* root = nullptr;
    uint32_t refs = 0; // contexts
    IntrusiveList<Mount, &Mount::ns_node> mounts;
};

struct Path {
    Mount* mount = nullptr;
    Dentry* dentry = nullptr;
    bool operator==(const Path& other) const { return mount == other.mount && dentry == other.dentry; }
};

} // namespace keel::vfs

namespace keel {

struct VfsContext {
    vfs::Namespace* ns = nullptr;
    vfs::Path root;
    vfs::Path cwd;
    uint32_t uid = 0;
    uint32_t gid = 0;
    IntrusiveListNode node; // every context, so pivot_root can move roots
};

struct File {
    vfs::Path path;
    uint32_t flags;
    uint64_t position = 0;   // regular files; directories: "." and ".." emitted so far
    uint64_t dir_cookie = 0; // the filesystem's readdir position
};

} // namespace keel

namespace keel::vfs {

// ---- objects and references (objects.cpp)
Dentry* dentry_get(Dentry* dentry) REQUIRES(g_vfs_lock);
void dentry_put(Dentry* dentry) REQUIRES(g_vfs_lock);
// A new hashed child of `parent` for `node` (whose reference it takes
// over), or nullptr when out of memory (the node reference is put then).
Dentry* dentry_add(Dentry* parent, const char* name, size_t length, void* node, uint32_t mode) REQUIRES(g_vfs_lock);
// A new name's dentry in two steps: its memory before the filesystem makes
// the node (null bytes: ENOMEM, nothing made), then the entry, which cannot
// fail. Otherwise a create that succeeded on the disk reported ENOMEM and
// left the name there.
struct DentryMemory {
    void* bytes;
};
DentryMemory dentry_reserve(size_t length);
void dentry_unreserve(DentryMemory memory);
Dentry* dentry_add_reserved(DentryMemory memory, Dentry* parent, const char* name, size_t length, void* node,
    uint32_t mode) REQUIRES(g_vfs_lock);
Dentry* dentry_find_cached(Dentry* parent, const char* name, size_t length) REQUIRES(g_vfs_lock);
// The name was removed: no lookup finds the dentry any more.
void dentry_unhash(Dentry* dentry) REQUIRES(g_vfs_lock);
// Room for a name of `length` in the dentry (its name unchanged): taken
// before a rename, so that the move after it cannot fail.
Result<void> dentry_reserve_name(Dentry* dentry, size_t length) REQUIRES(g_vfs_lock);
void dentry_move(Dentry* dentry, Dentry* new_parent, const char* name, size_t length) REQUIRES(g_vfs_lock);

Mount* mount_get(Mount* mount) REQUIRES(g_vfs_lock);
void mount_put(Mount* mount) REQUIRES(g_vfs_lock);
Path path_get(const Path& path) REQUIRES(g_vfs_lock);
void path_put(Path& path) REQUIRES(g_vfs_lock);
bool path_is_mount_root(const Path& path) REQUIRES(g_vfs_lock);

// Owned references, released when they go out of scope. Move-only: a copy
// would release the same reference twice.
template<typename T, void (*Release)(T&)> class Held {
public:
    Held() = default;
    // Adopts a reference the caller took (walk, path_get, lookup_child...).
    Held(T value)
        : m_value(value)
    {
    }
    Held(Held&& other)
        : m_value(exchange(other.m_value, T {}))
    {
    }
    Held& operator=(Held&& other) REQUIRES(g_vfs_lock)
    {
        if (this != &other) {
            Release(m_value);
            m_value = exchange(other.m_value, T {});
        }
        return *this;
    }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;
    ~Held() REQUIRES(g_vfs_lock) { Release(m_value); }

    T& get() { return m_value; }
    const T& get() const { return m_value; }
    T* operator->() { return &m_value; }
    const T* operator->() const { return &m_value; }
    // Gives the reference to the caller, who now releases it.
    T release() { return exchange(m_value, T {}); }

private:
    T m_value {};
};

inline void release_path(Path& path) REQUIRES(g_vfs_lock) { path_put(path); }
inline void release_dentry(Dentry*& dentry) REQUIRES(g_vfs_lock)
{
    // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): a false positive after TRY (.clang-tidy)
    dentry_put(dentry);
    dentry = nullptr;
}
using HeldPath = Held<Path, release_path>;
using HeldDentry = Held<Dentry*, release_dentry>;

// Superblocks: create (calls the filesystem's mount) and the last-mount
// teardown (prunes the dentries, calls kill_super, unpins the owner).
// When the filesystem's mount returns the handle of a live superblock of
// the type, that superblock is returned instead of a new one (Linux's
// get_tree_single): single-instance filesystems such as nullfs then show
// one device and one root directory however often they are mounted.
Result<Superblock*> superblock_create(FsType* type, const char* source, uint32_t flags, const char* data)
    REQUIRES(g_vfs_lock);
// Tears down a superblock whose last mount is gone (or that never had one).
void superblock_destroy(Superblock* sb) REQUIRES(g_vfs_lock);
// After superblock_create when the mount could not be made: destroys the
// superblock unless it is a shared one that other mounts still use.
void superblock_abandon(Superblock* sb) REQUIRES(g_vfs_lock);
Result<Mount*> mount_create(Superblock* sb, Dentry* root, uint32_t flags) REQUIRES(g_vfs_lock);
// Frees a mount that has no references and is attached nowhere.
void mount_release_if_unused(Mount* mount) REQUIRES(g_vfs_lock);

FsType* find_fs_type(const char* name) REQUIRES(g_vfs_lock);
// Checks a module's table; `problem` names the field and its value.
Result<void> validate_fs_type_ops(const keel_fs_type_ops* ops, Diagnostic& diagnostic);
uint32_t next_mount_id() REQUIRES(g_vfs_lock);

// ---- the dentry hash (dentry_hash.cpp): hashed dentries by (parent, name)
size_t dentry_hash_key(const Dentry* parent, const char* name, size_t length);
void dentry_hash_insert(Dentry* dentry) REQUIRES(g_vfs_lock);
void dentry_hash_remove(Dentry* dentry) REQUIRES(g_vfs_lock);
Dentry* dentry_hash_find(const Dentry* parent, const char* name, size_t length) REQUIRES(g_vfs_lock);
struct DentryHashStats {
    size_t buckets;
    size_t count;
};
DentryHashStats dentry_hash_stats() REQUIRES(g_vfs_lock);

// ---- attributes and permissions (attr.cpp)
Result<keel_vfs_attr> get_attr(const Dentry* dentry) REQUIRES(g_vfs_lock);
// mask: 4 read, 2 write, 1 execute/search.
Result<void> check_access(const VfsContext& context, const Dentry* dentry, unsigned mask) REQUIRES(g_vfs_lock);
Result<void> check_writable_mount(const Mount* mount) REQUIRES(g_vfs_lock);
Error fs_error(int32_t result);

// ---- path walk (walk.cpp)
enum WalkFlags : uint32_t {
    kWalkFollow = 1,     // follow a symlink in the last component
    kWalkDirectory = 2,  // the result must be a directory
    kWalkMountpoint = 4, // go to the topmost mount on the result (umount, pivot_root)
};
Result<Path> walk(VfsContext& context, const char* path, uint32_t flags) REQUIRES(g_vfs_lock);
// All but the last component: the parent directory and the last name
// (pointing into `path`). A path ending in "/" still names its last
// component ("a/b/" -> "b"), with `trailing_slash` set; "." and ".." are
// returned as such for the caller to refuse.
struct ParentWalk {
    Path parent;
    const char* name;
    size_t name_length;
    bool trailing_slash;
    bool is_dot_or_dotdot() const
    {
        return (name_length == 1 && name[0] == '.') || (name_length == 2 && name[0] == '.' && name[1] == '.');
    }
};
Result<ParentWalk> walk_parent(VfsContext& context, const char* path) REQUIRES(g_vfs_lock);
inline void release_parent(ParentWalk& at) REQUIRES(g_vfs_lock) { path_put(at.parent); }
using HeldParent = Held<ParentWalk, release_parent>;
// A symlink's target, NUL-terminated in `buffer` (ENOENT when empty,
// ENAMETOOLONG when it does not fit); its length.
Result<size_t> read_link_target(Dentry* link, char* buffer, size_t capacity) REQUIRES(g_vfs_lock);
// The child `name` of directory `parent` (cache, then the filesystem), or ENOENT.
Result<Dentry*> lookup_child(Dentry* parent, const char* name, size_t length) REQUIRES(g_vfs_lock);
// The mount on top of `path`, repeatedly (a path inside the mounted root).
void follow_mounts(Path& path) REQUIRES(g_vfs_lock);
Mount* mount_on(const Path& path) REQUIRES(g_vfs_lock);

// ---- names (names.cpp), shared with file.cpp
// Creates a regular file `at.name` (which must not exist); returns it held.
Result<Dentry*> create_file(VfsContext& context, const ParentWalk& at, uint32_t mode) REQUIRES(g_vfs_lock);
Result<void> truncate_dentry(VfsContext& context, const Path& path, uint64_t size) REQUIRES(g_vfs_lock);
Result<VfsStat> stat_path(const Path& path) REQUIRES(g_vfs_lock);

// ---- contexts (context.cpp)
IntrusiveList<VfsContext, &VfsContext::node>& all_contexts() REQUIRES(g_vfs_lock);
// `path` as seen from `root`: "/a/b", "/" for the root itself,
// "(unreachable)/x" when it is not below `root` (Linux's getcwd and d_path).
Result<size_t> path_to_string(const Path& root, const Path& path, char* buffer, size_t size) REQUIRES(g_vfs_lock);

// ---- namespaces (namespace.cpp)
void namespace_put(Namespace* ns) REQUIRES(g_vfs_lock);
// Attaches `mount` at `mountpoint` (or as the namespace's root), taking the
// references the tree holds, and adds it to the namespace's list.
void attach_mount(Namespace* ns, Mount* mount, const Path* mountpoint) REQUIRES(g_vfs_lock);
// The reverse; the mount keeps its own references (the caller releases it
// with mount_release_if_unused once done with it).
void detach_mount(Mount* mount) REQUIRES(g_vfs_lock);
// Detaches every mount on the list (taken off their namespace's list
// already) from the tree and frees those no one uses, except `keep`.
void dissolve(IntrusiveList<Mount, &Mount::ns_node>& doomed, Mount* keep) REQUIRES(g_vfs_lock);
// Is `dentry` `ancestor` or below it (same superblock)?
bool is_subdir(const Dentry* dentry, const Dentry* ancestor) REQUIRES(g_vfs_lock);
// Is (mount, dentry) at or below `root`, going up through mountpoints?
bool is_path_reachable(Mount* mount, const Dentry* dentry, const Path& root) REQUIRES(g_vfs_lock);
// A copy of `source` (its superblock, rooted at `root`) and, with
// `recursive`, of every mount below `root`, attached to one another but to
// no namespace; nullptr when out of memory or past kVfsMaxMounts (nothing
// is left behind). Each copied mount's `copy` points at its copy until
// clear_copies(source).
Mount* copy_tree(Mount* source, Dentry* root, bool recursive) REQUIRES(g_vfs_lock);
void clear_copies(Mount* source) REQUIRES(g_vfs_lock);
// `top` and every mount below it, pre-order, onto `out` (off their
// namespace's list).
void collect_subtree(Mount* top, IntrusiveList<Mount, &Mount::ns_node>& out) REQUIRES(g_vfs_lock);
// Attaches a copied tree into `ns` at `mountpoint` (null: as its root).
void attach_tree(Namespace* ns, Mount* top, const Path* mountpoint) REQUIRES(g_vfs_lock);

// ---- the global state
Namespace*& initial_namespace() REQUIRES(g_vfs_lock);
uint32_t& live_dentries() REQUIRES(g_vfs_lock);
uint32_t& live_mounts() REQUIRES(g_vfs_lock);
uint32_t& live_superblocks() REQUIRES(g_vfs_lock);
uint32_t& live_files() REQUIRES(g_vfs_lock);

} // namespace keel::vfs
