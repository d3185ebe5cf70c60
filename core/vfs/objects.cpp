// Reference counting of dentries, mounts and superblocks, and the moment
// each is freed: a dentry when its name is gone and nothing holds it, a
// mount when it is detached and unused, a superblock with its last mount.
#include "vfs/internal.h"

namespace keel::vfs {

namespace {

uint32_t g_live_dentries GUARDED_BY(g_vfs_lock) = 0;
uint32_t g_live_mounts GUARDED_BY(g_vfs_lock) = 0;
uint32_t g_live_superblocks GUARDED_BY(g_vfs_lock) = 0;
uint32_t g_live_files GUARDED_BY(g_vfs_lock) = 0;
uint32_t g_next_mount_id GUARDED_BY(g_vfs_lock) = 1;
uint32_t g_next_dev GUARDED_BY(g_vfs_lock) = 1;

// The name goes: no lookup finds the dentry any more.
void unhash(Dentry* dentry) REQUIRES(g_vfs_lock)
{
    if (!dentry->hashed || dentry->is_root())
        return;
    dentry->hashed = false;
    dentry_hash_remove(dentry);
}

void free_dentry(Dentry* dentry) REQUIRES(g_vfs_lock)
{
    unhash(dentry);
    Superblock* sb = dentry->sb;
    if (dentry->node)
        sb->type->ops.put_node(sb->data, dentry->node);
    Dentry* parent = dentry->is_root() ? nullptr : dentry->parent;
    if (parent)
        parent->children.remove(*dentry);
    if (dentry->name_allocated)
        platform_free(dentry->name);
    dentry->~Dentry();
    platform_free(dentry);
    g_live_dentries--;
    if (parent)
        dentry_put(parent);
}

// Drops every cached dentry below `top`, leaves first, so that their nodes
// are put before the superblock goes. Iterative: directory trees can be
// deeper than a kernel stack allows recursion. Nothing below may be in use
// (the superblock's last mount is gone); if something is, it is left alone
// and leaks rather than being freed under its user.
void prune_children(Dentry* top) REQUIRES(g_vfs_lock)
{
    Dentry* node = top;
    for (;;) {
        if (Dentry* child = node->children.first()) {
            node = child;
            continue;
        }
        if (node == top)
            return;
        Dentry* parent = node->parent;
        // Children hold their parent: a leaf's references are its users'.
        if (node->refs != 0)
            return;
        unhash(node);
        free_dentry(node);
        node = parent;
    }
}

} // namespace

void superblock_destroy(Superblock* sb)
{
    Dentry* root = sb->root;
    prune_children(root);
    // Every path into the superblock is gone with its last mount, so the
    // root's own reference is the only one left.
    root->refs = 0;
    if (root->children.is_empty()) {
        sb->type->ops.put_node(sb->data, root->node);
        root->~Dentry();
        platform_free(root);
        g_live_dentries--;
    }
    FsType* type = sb->type;
    type->instances.remove(*sb);
    type->ops.kill_super(sb->data);
    type->superblocks--;
    platform_unpin_owner(type->owner);
    destroy(sb);
    g_live_superblocks--;
}

void superblock_abandon(Superblock* sb)
{
    if (sb->mounts == 0)
        superblock_destroy(sb);
}

uint32_t& live_dentries() { return g_live_dentries; }
uint32_t& live_mounts() { return g_live_mounts; }
uint32_t& live_superblocks() { return g_live_superblocks; }
uint32_t& live_files() { return g_live_files; }
uint32_t next_mount_id() { return g_next_mount_id++; }

Dentry* dentry_get(Dentry* dentry)
{
    dentry->refs++;
    return dentry;
}

void dentry_put(Dentry* dentry)
{
    if (!dentry)
        return;
    dentry->refs--;
    if (dentry->refs == 0 && !dentry->hashed && !dentry->is_root())
        free_dentry(dentry);
}

Dentry* dentry_add(Dentry* parent, const char* name, size_t length, void* node, uint32_t mode)
{
    DentryMemory memory = dentry_reserve(length);
    if (!memory.bytes) {
        parent->sb->type->ops.put_node(parent->sb->data, node);
        return nullptr;
    }
    return dentry_add_reserved(memory, parent, name, length, node, mode);
}

DentryMemory dentry_reserve(size_t length) { return { platform_alloc(sizeof(Dentry) + length + 1) }; }

void dentry_unreserve(DentryMemory memory) { platform_free(memory.bytes); }

Dentry* dentry_add_reserved(
    DentryMemory memory, Dentry* parent, const char* name, size_t length, void* node, uint32_t mode)
{
    auto* dentry = new (memory.bytes) Dentry();
    dentry->sb = parent->sb;
    dentry->parent = dentry_get(parent);
    dentry->node = node;
    dentry->mode = mode & kModeTypeMask;
    dentry->name = reinterpret_cast<char*>(dentry + 1);
    memcpy(dentry->name, name, length);
    dentry->name[length] = '\0';
    dentry->name_length = length;
    dentry->name_capacity = length;
    parent->children.push_back(*dentry);
    dentry_hash_insert(dentry);
    g_live_dentries++;
    return dentry;
}

Dentry* dentry_find_cached(Dentry* parent, const char* name, size_t length)
{
    return dentry_hash_find(parent, name, length);
}

void dentry_unhash(Dentry* dentry)
{
    if (!dentry->hashed)
        return;
    unhash(dentry);
    // Held for the duration, so the put below frees it if it was unused.
    dentry_get(dentry);
    dentry_put(dentry);
}

Result<void> dentry_reserve_name(Dentry* dentry, size_t length)
{
    if (length <= dentry->name_capacity)
        return {};
    auto* storage = static_cast<char*>(platform_alloc(length + 1));
    if (!storage)
        return Err(Error::ENOMEM);
    memcpy(storage, dentry->name, dentry->name_length + 1); // the same name until the move
    if (dentry->name_allocated)
        platform_free(dentry->name);
    dentry->name = storage;
    dentry->name_capacity = length;
    dentry->name_allocated = true;
    return {};
}

void dentry_move(Dentry* dentry, Dentry* new_parent, const char* name, size_t length)
{
    // The object stays (with its children and any mounts below it); only
    // the name changes, in storage dentry_reserve_name made room in before
    // the filesystem renamed anything. (An unhashed directory with cached
    // children, which a move without that storage used to leave, is what
    // prune_children cannot walk.)
    Dentry* old_parent = dentry->parent;
    VERIFY(length <= dentry->name_capacity);
    bool hashed = dentry->hashed && !dentry->is_root();
    if (hashed)
        dentry_hash_remove(dentry);
    memcpy(dentry->name, name, length);
    dentry->name[length] = '\0';
    dentry->name_length = length;
    if (old_parent != new_parent) {
        old_parent->children.remove(*dentry);
        new_parent->children.push_back(*dentry);
        dentry->parent = dentry_get(new_parent);
    }
    if (hashed)
        dentry_hash_insert(dentry);
    if (old_parent != new_parent)
        dentry_put(old_parent);
}

Mount* mount_get(Mount* mount)
{
    mount->refs++;
    return mount;
}

void mount_put(Mount* mount)
{
    if (!mount)
        return;
    mount->refs--;
    mount_release_if_unused(mount);
}

Path path_get(const Path& path)
{
    mount_get(path.mount);
    dentry_get(path.dentry);
    return path;
}

void path_put(Path& path)
{
    if (path.dentry)
        dentry_put(path.dentry);
    if (path.mount)
        mount_put(path.mount);
    path = {};
}

bool path_is_mount_root(const Path& path) { return path.dentry == path.mount->root; }

Result<Superblock*> superblock_create(FsType* type, const char* source, uint32_t flags, const char* data)
{
    // Pinned before the type's code runs: a module being unloaded refuses
    // the pin, and its mount is never called.
    if (!platform_pin_owner(type->owner))
        return Err(Error::ENODEV);
    auto* sb = create<Superblock>();
    if (!sb) {
        platform_unpin_owner(type->owner);
        return Err(Error::ENOMEM);
    }
    void* handle = nullptr;
    void* root_node = nullptr;
    int32_t result = type->ops.mount(source, flags & kMountReadOnly, data, &handle, &root_node);
    if (result != 0 || !root_node) {
        destroy(sb);
        platform_unpin_owner(type->owner);
        return Err(result != 0 ? fs_error(result) : Error::EIO);
    }
    for (Superblock& existing : type->instances) {
        if (existing.data == handle) {
            // The filesystem has one instance: this mount shares it. The
            // root reference it handed out is not needed (the superblock
            // holds its own), and kill_super stays for the last mount.
            type->ops.put_node(handle, root_node);
            destroy(sb);
            platform_unpin_owner(type->owner);
            return &existing;
        }
    }
    sb->type = type;
    sb->data = handle;
    sb->dev = g_next_dev++;
    sb->mounts = 0;
    sb->readonly = flags & kMountReadOnly;
    size_t source_length = source ? strnlen(source, sizeof(sb->source) - 1) : 0;
    memcpy(sb->source, source ? source : "", source_length);
    sb->source[source_length] = '\0';
    size_t options_length = data ? strnlen(data, sizeof(sb->options) - 1) : 0;
    memcpy(sb->options, data ? data : "", options_length);
    sb->options[options_length] = '\0';

    void* memory = platform_alloc(sizeof(Dentry) + 2);
    if (!memory) {
        type->ops.put_node(handle, root_node);
        type->ops.kill_super(handle);
        destroy(sb);
        platform_unpin_owner(type->owner);
        return Err(Error::ENOMEM);
    }
    auto* root = new (memory) Dentry();
    root->sb = sb;
    root->parent = root;
    root->node = root_node;
    root->mode = kModeDirectory;
    root->name = reinterpret_cast<char*>(root + 1);
    root->name[0] = '/';
    root->name[1] = '\0';
    root->name_length = 1;
    root->name_capacity = 1;
    root->refs = 1; // the superblock's
    sb->root = root;
    g_live_dentries++;
    g_live_superblocks++;
    type->superblocks++;
    type->instances.push_back(*sb);
    return sb;
}

Result<Mount*> mount_create(Superblock* sb, Dentry* root, uint32_t flags)
{
    if (g_live_mounts >= kVfsMaxMounts)
        return Err(Error::ENOSPC);
    auto* mount = create<Mount>();
    if (!mount)
        return Err(Error::ENOMEM);
    mount->id = next_mount_id();
    mount->flags = flags & kMountReadOnly;
    mount->sb = sb;
    mount->root = dentry_get(root);
    sb->mounts++;
    g_live_mounts++;
    return mount;
}

void mount_release_if_unused(Mount* mount)
{
    if (mount->refs != 0 || mount->ns || mount->parent || !mount->children.is_empty())
        return;
    Superblock* sb = mount->sb;
    dentry_put(mount->root);
    destroy(mount);
    g_live_mounts--;
    if (--sb->mounts == 0)
        superblock_destroy(sb);
}

} // namespace keel::vfs
