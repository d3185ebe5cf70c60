/*
 * tmpfs: files, directories, symlinks, device nodes, fifos and sockets in
 * kernel memory. File data lives in 4 KiB pages allocated on first write,
 * so files are sparse; removing or truncating a file frees its pages.
 *
 * Mount options (Linux's): size=N[k|m|g] (bytes, rounded up to pages; 0 is
 * unlimited), nr_inodes=N[k|m|g] (0 unlimited), mode=OCTAL, uid=N, gid=N
 * (of the root directory). Running out of either limit fails with -ENOSPC.
 *
 * The VFS calls every operation under its lock, so there is no locking
 * here. A node lives while the VFS holds references to it or a name links
 * it (nlink); the last of both to go frees it.
 */
#include "tmpfs_fs.h"

#define TMPFS_MAGIC 0x01021994u
#define PAGE_SIZE 4096u
#define NAME_MAX 255u

struct tmpfs_super;

struct tmpfs_dirent {
    struct tmpfs_dirent* next;
    struct tmpfs_node* node;
    uint64_t cookie;
    size_t name_length;
    char name[];
};

struct tmpfs_node {
    struct tmpfs_super* sb;
    uint64_t ino;
    uint32_t refs;
    uint32_t nlink;
    uint32_t mode, uid, gid, rdev;
    uint64_t size;
    uint64_t atime, mtime, ctime;
    /* directories */
    struct tmpfs_dirent* first;
    struct tmpfs_dirent* last;
    uint64_t next_cookie;
    /* regular files: page pointers, NULL for holes */
    uint8_t** pages;
    size_t page_slots;
    uint64_t pages_used;
    /* symlinks */
    char* target;
};

struct tmpfs_super {
    uint64_t max_pages, used_pages;
    uint64_t max_nodes, used_nodes;
    uint64_t next_ino;
    struct tmpfs_node* root;
};

static uint64_t g_pages_in_use;
static uint64_t g_nodes_in_use;

uint64_t tmpfs_pages_in_use(void) { return g_pages_in_use; }
uint64_t tmpfs_nodes_in_use(void) { return g_nodes_in_use; }

static int is_dir(const struct tmpfs_node* node) { return (node->mode & KEEL_S_IFMT) == KEEL_S_IFDIR; }
static int is_reg(const struct tmpfs_node* node) { return (node->mode & KEEL_S_IFMT) == KEEL_S_IFREG; }

/* The core's memcpy and memset (KABI_CORE exports them; host builds get
 * libc's): word-sized moves, where a byte loop made reading a 190 KB
 * module out of tmpfs cost more than parsing it. */
static void copy_bytes(void* to, const void* from, size_t n) { __builtin_memcpy(to, from, n); }

static void zero_bytes(void* to, size_t n) { __builtin_memset(to, 0, n); }

static int same_name(const struct tmpfs_dirent* entry, const char* name, size_t length)
{
    if (entry->name_length != length)
        return 0;
    for (size_t i = 0; i < length; i++) {
        if (entry->name[i] != name[i])
            return 0;
    }
    return 1;
}

/* ---- pages */

static void free_pages_from(struct tmpfs_node* node, size_t first_page)
{
    for (size_t i = first_page; i < node->page_slots; i++) {
        if (node->pages[i]) {
            keel_free(node->pages[i]);
            node->pages[i] = NULL;
            node->pages_used--;
            node->sb->used_pages--;
            g_pages_in_use--;
        }
    }
}

/* The whole pages a file's array of page pointers takes: charged to the
 * mount's size= like the data, or one byte written at 1 GiB would take
 * 4 MiB of pointers (the array doubles, to 2^19 slots) that no limit
 * counted. An array under a page (files up to 1 MiB: the array doubles
 * past 256 slots to a page's 512) is not charged. */
static uint64_t slot_array_pages(size_t slots) { return (uint64_t)slots * sizeof(uint8_t*) / PAGE_SIZE; }

static int ensure_slots(struct tmpfs_node* node, size_t slots)
{
    if (slots <= node->page_slots)
        return 0;
    size_t capacity = node->page_slots ? node->page_slots : 4;
    while (capacity < slots)
        capacity *= 2;
    struct tmpfs_super* sb = node->sb;
    uint64_t more = slot_array_pages(capacity) - slot_array_pages(node->page_slots);
    if (more && sb->max_pages && (sb->used_pages + more > sb->max_pages || sb->used_pages + more < more))
        return -KEEL_ENOSPC;
    uint8_t** grown = (uint8_t**)keel_zalloc(capacity * sizeof(uint8_t*));
    if (!grown)
        return -KEEL_ENOMEM;
    sb->used_pages += more;
    if (node->pages) {
        copy_bytes(grown, node->pages, node->page_slots * sizeof(uint8_t*));
        keel_free(node->pages);
    }
    node->pages = grown;
    node->page_slots = capacity;
    return 0;
}

/* A new page is zeroed unless the write that asks for it covers all of
 * it: zeroing a page only to copy over it was a quarter of the time the
 * initramfs took to unpack. */
static uint8_t* page_for_write(struct tmpfs_node* node, size_t index, int whole, int32_t* error)
{
    if (node->pages[index])
        return node->pages[index];
    struct tmpfs_super* sb = node->sb;
    if (sb->max_pages && sb->used_pages >= sb->max_pages) {
        *error = -KEEL_ENOSPC;
        return NULL;
    }
    uint8_t* page = (uint8_t*)(whole ? keel_alloc(PAGE_SIZE) : keel_zalloc(PAGE_SIZE));
    if (!page) {
        *error = -KEEL_ENOMEM;
        return NULL;
    }
    node->pages[index] = page;
    node->pages_used++;
    sb->used_pages++;
    g_pages_in_use++;
    return page;
}

/* ---- nodes */

static struct tmpfs_node* new_node(struct tmpfs_super* sb, uint32_t mode, uint32_t uid, uint32_t gid, int32_t* error)
{
    if (sb->max_nodes && sb->used_nodes >= sb->max_nodes) {
        *error = -KEEL_ENOSPC;
        return NULL;
    }
    struct tmpfs_node* node = (struct tmpfs_node*)keel_zalloc(sizeof(struct tmpfs_node));
    if (!node) {
        *error = -KEEL_ENOMEM;
        return NULL;
    }
    uint64_t now = keel_monotonic_ns();
    node->sb = sb;
    node->ino = sb->next_ino++;
    node->mode = mode;
    node->uid = uid;
    node->gid = gid;
    node->atime = node->mtime = node->ctime = now;
    sb->used_nodes++;
    g_nodes_in_use++;
    return node;
}

static void free_node(struct tmpfs_node* node)
{
    free_pages_from(node, 0);
    node->sb->used_pages -= slot_array_pages(node->page_slots);
    keel_free(node->pages);
    keel_free(node->target);
    node->sb->used_nodes--;
    g_nodes_in_use--;
    keel_free(node);
}

static void maybe_free(struct tmpfs_node* node)
{
    if (node->refs == 0 && node->nlink == 0)
        free_node(node);
}

static void touch(struct tmpfs_node* node)
{
    uint64_t now = keel_monotonic_ns();
    node->mtime = node->ctime = now;
}

/* ---- directory entries */

static struct tmpfs_dirent* find_entry(
    struct tmpfs_node* dir, const char* name, size_t length, struct tmpfs_dirent** previous)
{
    struct tmpfs_dirent* before = NULL;
    for (struct tmpfs_dirent* entry = dir->first; entry; entry = entry->next) {
        if (same_name(entry, name, length)) {
            if (previous)
                *previous = before;
            return entry;
        }
        before = entry;
    }
    return NULL;
}

static struct tmpfs_dirent* new_entry(const char* name, size_t length)
{
    struct tmpfs_dirent* entry = (struct tmpfs_dirent*)keel_zalloc(sizeof(struct tmpfs_dirent) + length + 1);
    if (!entry)
        return NULL;
    copy_bytes(entry->name, name, length);
    entry->name[length] = '\0';
    entry->name_length = length;
    return entry;
}

static void append_entry(struct tmpfs_node* dir, struct tmpfs_dirent* entry, struct tmpfs_node* node)
{
    entry->node = node;
    entry->cookie = dir->next_cookie++;
    entry->next = NULL;
    if (dir->last)
        dir->last->next = entry;
    else
        dir->first = entry;
    dir->last = entry;
    touch(dir);
}

static void remove_entry(struct tmpfs_node* dir, struct tmpfs_dirent* entry, struct tmpfs_dirent* previous)
{
    if (previous)
        previous->next = entry->next;
    else
        dir->first = entry->next;
    if (dir->last == entry)
        dir->last = previous;
    touch(dir);
}

/*
 * Frees a whole tree at unmount: every VFS reference is gone by then.
 * Without recursion (trees can be deep): a directory's entries are moved
 * to the end of the work list, then the directory itself is freed.
 */
static void free_tree(struct tmpfs_node* root)
{
    struct tmpfs_dirent* first = root->first;
    struct tmpfs_dirent* last = root->last;
    root->first = root->last = NULL;
    free_node(root);
    while (first) {
        struct tmpfs_dirent* entry = first;
        first = entry->next;
        if (!first)
            last = NULL;
        struct tmpfs_node* node = entry->node;
        keel_free(entry);
        if (is_dir(node)) {
            if (node->first) {
                if (last)
                    last->next = node->first;
                else
                    first = node->first;
                last = node->last;
            }
            node->first = node->last = NULL;
            free_node(node);
        } else {
            node->nlink--;
            maybe_free(node);
        }
    }
}

/* ---- options */

static int parse_number(const char* text, size_t length, uint64_t* out, int allow_suffix, unsigned base)
{
    if (length == 0)
        return 0;
    uint64_t value = 0;
    size_t i = 0;
    for (; i < length; i++) {
        char c = text[i];
        unsigned digit;
        if (c >= '0' && c <= '9')
            digit = (unsigned)(c - '0');
        else
            break;
        if (digit >= base)
            return 0;
        if (value > (UINT64_MAX - digit) / base)
            return 0;
        value = value * base + digit;
    }
    if (i == 0)
        return 0;
    if (i < length) {
        if (!allow_suffix || i + 1 != length)
            return 0;
        unsigned shift;
        switch (text[i]) {
        case 'k':
        case 'K': shift = 10; break;
        case 'm':
        case 'M': shift = 20; break;
        case 'g':
        case 'G': shift = 30; break;
        default: return 0;
        }
        if (value > (UINT64_MAX >> shift))
            return 0;
        value <<= shift;
    }
    *out = value;
    return 1;
}

struct tmpfs_options {
    uint64_t max_pages, max_nodes;
    uint32_t mode, uid, gid;
};

static int starts_with(const char* text, size_t length, const char* prefix, size_t prefix_length)
{
    if (length < prefix_length)
        return 0;
    for (size_t i = 0; i < prefix_length; i++) {
        if (text[i] != prefix[i])
            return 0;
    }
    return 1;
}

/* Options are comma-separated; every problem is logged with its value. */
static int32_t parse_options(const char* data, struct tmpfs_options* options)
{
    if (!data)
        return 0;
    const char* cursor = data;
    while (*cursor) {
        const char* end = cursor;
        while (*end && *end != ',')
            end++;
        size_t length = (size_t)(end - cursor);
        uint64_t value = 0;
        if (length == 0) {
            /* empty option (",,"): ignored, as Linux does */
        } else if (starts_with(cursor, length, "size=", 5)) {
            if (!parse_number(cursor + 5, length - 5, &value, 1, 10)) {
                keel_logf(KEEL_LOG_ERR, "tmpfs: bad value '%.*s' for mount option 'size' (bytes, with k/m/g)",
                    (int)(length - 5), cursor + 5);
                return -KEEL_EINVAL;
            }
            options->max_pages = value / PAGE_SIZE + (value % PAGE_SIZE != 0);
        } else if (starts_with(cursor, length, "nr_inodes=", 10)) {
            if (!parse_number(cursor + 10, length - 10, &value, 1, 10)) {
                keel_logf(KEEL_LOG_ERR, "tmpfs: bad value '%.*s' for mount option 'nr_inodes'", (int)(length - 10),
                    cursor + 10);
                return -KEEL_EINVAL;
            }
            options->max_nodes = value;
        } else if (starts_with(cursor, length, "mode=", 5)) {
            if (!parse_number(cursor + 5, length - 5, &value, 0, 8) || value > 07777) {
                keel_logf(KEEL_LOG_ERR, "tmpfs: bad value '%.*s' for mount option 'mode' (octal, at most 7777)",
                    (int)(length - 5), cursor + 5);
                return -KEEL_EINVAL;
            }
            options->mode = (uint32_t)value;
        } else if (starts_with(cursor, length, "uid=", 4) || starts_with(cursor, length, "gid=", 4)) {
            if (!parse_number(cursor + 4, length - 4, &value, 0, 10) || value > 0xffffffffu) {
                keel_logf(KEEL_LOG_ERR, "tmpfs: bad value '%.*s' for mount option '%.3s'", (int)(length - 4),
                    cursor + 4, cursor);
                return -KEEL_EINVAL;
            }
            if (cursor[0] == 'u')
                options->uid = (uint32_t)value;
            else
                options->gid = (uint32_t)value;
        } else {
            keel_logf(KEEL_LOG_ERR, "tmpfs: unknown mount option '%.*s'", (int)length, cursor);
            return -KEEL_EINVAL;
        }
        cursor = *end ? end + 1 : end;
    }
    return 0;
}

/* ---- operations */

static int32_t tmpfs_mount(const char* source, uint32_t flags, const char* data, void** super_out, void** root_out)
{
    (void)source;
    (void)flags;
    struct tmpfs_options options = { 0, 0, 01777, 0, 0 };
    int32_t error = parse_options(data, &options);
    if (error)
        return error;
    struct tmpfs_super* sb = (struct tmpfs_super*)keel_zalloc(sizeof(struct tmpfs_super));
    if (!sb)
        return -KEEL_ENOMEM;
    sb->max_pages = options.max_pages;
    sb->max_nodes = options.max_nodes;
    sb->next_ino = 1;
    struct tmpfs_node* root = new_node(sb, KEEL_S_IFDIR | options.mode, options.uid, options.gid, &error);
    if (!root) {
        keel_free(sb);
        return error;
    }
    root->nlink = 2;
    root->refs = 1;
    sb->root = root;
    *super_out = sb;
    *root_out = root;
    return 0;
}

static void tmpfs_kill_super(void* super)
{
    struct tmpfs_super* sb = (struct tmpfs_super*)super;
    free_tree(sb->root);
    keel_free(sb);
}

static int32_t tmpfs_remount(void* super, uint32_t flags, const char* data)
{
    (void)flags;
    struct tmpfs_super* sb = (struct tmpfs_super*)super;
    struct tmpfs_options options = { sb->max_pages, sb->max_nodes, 0, 0, 0 };
    int32_t error = parse_options(data, &options);
    if (error)
        return error;
    if ((options.max_pages && options.max_pages < sb->used_pages)
        || (options.max_nodes && options.max_nodes < sb->used_nodes)) {
        keel_logf(KEEL_LOG_ERR, "tmpfs: remount: new limits are below what is in use (%llu pages, %llu inodes)",
            (unsigned long long)sb->used_pages, (unsigned long long)sb->used_nodes);
        return -KEEL_EINVAL;
    }
    sb->max_pages = options.max_pages;
    sb->max_nodes = options.max_nodes;
    return 0;
}

static int32_t tmpfs_statfs(void* super, keel_vfs_statfs* out)
{
    struct tmpfs_super* sb = (struct tmpfs_super*)super;
    out->magic = TMPFS_MAGIC;
    out->block_size = PAGE_SIZE;
    out->blocks = sb->max_pages;
    out->blocks_free = sb->max_pages ? sb->max_pages - sb->used_pages : 0;
    out->files = sb->max_nodes;
    out->files_free = sb->max_nodes ? sb->max_nodes - sb->used_nodes : 0;
    out->name_max = NAME_MAX;
    return 0;
}

static int32_t tmpfs_lookup(void* super, void* dir, const char* name, size_t length, void** node_out)
{
    (void)super;
    struct tmpfs_node* parent = (struct tmpfs_node*)dir;
    if (!is_dir(parent))
        return -KEEL_ENOTDIR;
    struct tmpfs_dirent* entry = find_entry(parent, name, length, NULL);
    if (!entry)
        return -KEEL_ENOENT;
    entry->node->refs++;
    *node_out = entry->node;
    return 0;
}

static void tmpfs_put_node(void* super, void* node)
{
    (void)super;
    struct tmpfs_node* n = (struct tmpfs_node*)node;
    n->refs--;
    maybe_free(n);
}

static int32_t tmpfs_getattr(void* super, void* node, keel_vfs_attr* out)
{
    (void)super;
    const struct tmpfs_node* n = (const struct tmpfs_node*)node;
    out->ino = n->ino;
    out->size = n->size;
    out->blocks = n->pages_used * (PAGE_SIZE / 512);
    out->atime_ns = n->atime;
    out->mtime_ns = n->mtime;
    out->ctime_ns = n->ctime;
    out->mode = n->mode;
    out->uid = n->uid;
    out->gid = n->gid;
    out->nlink = n->nlink;
    out->rdev = n->rdev;
    out->reserved = 0;
    return 0;
}

static int32_t truncate_node(struct tmpfs_node* node, uint64_t size)
{
    if (size > (uint64_t)INT64_MAX)
        return -KEEL_EFBIG;
    if (size < node->size) {
        uint64_t keep_pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
        free_pages_from(node, (size_t)keep_pages);
        /* The tail of a partial last page must read as zeros if the file grows again. */
        if (size % PAGE_SIZE && keep_pages - 1 < node->page_slots && node->pages[keep_pages - 1])
            zero_bytes(node->pages[keep_pages - 1] + size % PAGE_SIZE, PAGE_SIZE - size % PAGE_SIZE);
    }
    node->size = size;
    touch(node);
    return 0;
}

static int32_t tmpfs_setattr(void* super, void* node, const keel_vfs_attr* attr, uint32_t mask)
{
    (void)super;
    struct tmpfs_node* n = (struct tmpfs_node*)node;
    if (mask & KEEL_VFS_ATTR_SIZE) {
        if (!is_reg(n))
            return -KEEL_EINVAL;
        int32_t error = truncate_node(n, attr->size);
        if (error)
            return error;
    }
    if (mask & KEEL_VFS_ATTR_MODE)
        n->mode = (n->mode & KEEL_S_IFMT) | (attr->mode & 07777);
    if (mask & KEEL_VFS_ATTR_UID)
        n->uid = attr->uid;
    if (mask & KEEL_VFS_ATTR_GID)
        n->gid = attr->gid;
    if (mask & KEEL_VFS_ATTR_ATIME)
        n->atime = attr->atime_ns;
    if (mask & KEEL_VFS_ATTR_MTIME)
        n->mtime = attr->mtime_ns;
    n->ctime = keel_monotonic_ns();
    return 0;
}

static int32_t add_node(struct tmpfs_node* parent, const char* name, size_t length, struct tmpfs_node* node)
{
    if (length == 0 || length > NAME_MAX)
        return -KEEL_ENAMETOOLONG;
    if (find_entry(parent, name, length, NULL))
        return -KEEL_EEXIST;
    struct tmpfs_dirent* entry = new_entry(name, length);
    if (!entry)
        return -KEEL_ENOMEM;
    append_entry(parent, entry, node);
    return 0;
}

static int32_t tmpfs_create(void* super, void* dir, const char* name, size_t length, uint32_t mode, uint32_t uid,
    uint32_t gid, uint32_t rdev, void** node_out)
{
    struct tmpfs_node* parent = (struct tmpfs_node*)dir;
    if (!is_dir(parent))
        return -KEEL_ENOTDIR;
    uint32_t type = mode & KEEL_S_IFMT;
    if (type == KEEL_S_IFLNK || type == 0)
        return -KEEL_EINVAL;
    int32_t error = 0;
    struct tmpfs_node* node = new_node((struct tmpfs_super*)super, mode, uid, gid, &error);
    if (!node)
        return error;
    if (type == KEEL_S_IFCHR || type == KEEL_S_IFBLK)
        node->rdev = rdev;
    error = add_node(parent, name, length, node);
    if (error) {
        free_node(node);
        return error;
    }
    if (type == KEEL_S_IFDIR) {
        node->nlink = 2;
        parent->nlink++;
    } else {
        node->nlink = 1;
    }
    node->refs = 1;
    *node_out = node;
    return 0;
}

static int32_t tmpfs_symlink(void* super, void* dir, const char* name, size_t length, const char* target,
    size_t target_length, uint32_t uid, uint32_t gid, void** node_out)
{
    struct tmpfs_node* parent = (struct tmpfs_node*)dir;
    if (!is_dir(parent))
        return -KEEL_ENOTDIR;
    if (target_length == 0 || target_length >= 4096)
        return -KEEL_ENAMETOOLONG;
    int32_t error = 0;
    struct tmpfs_node* node = new_node((struct tmpfs_super*)super, KEEL_S_IFLNK | 0777, uid, gid, &error);
    if (!node)
        return error;
    node->target = (char*)keel_alloc(target_length);
    if (!node->target) {
        free_node(node);
        return -KEEL_ENOMEM;
    }
    copy_bytes(node->target, target, target_length);
    node->size = target_length;
    error = add_node(parent, name, length, node);
    if (error) {
        free_node(node);
        return error;
    }
    node->nlink = 1;
    node->refs = 1;
    *node_out = node;
    return 0;
}

static int32_t tmpfs_link(void* super, void* dir, const char* name, size_t length, void* node)
{
    (void)super;
    struct tmpfs_node* parent = (struct tmpfs_node*)dir;
    struct tmpfs_node* target = (struct tmpfs_node*)node;
    if (is_dir(target))
        return -KEEL_EISDIR;
    int32_t error = add_node(parent, name, length, target);
    if (error)
        return error;
    target->nlink++;
    target->ctime = keel_monotonic_ns();
    return 0;
}

static int32_t tmpfs_unlink(void* super, void* dir, const char* name, size_t length, void* node)
{
    (void)super;
    (void)node;
    struct tmpfs_node* parent = (struct tmpfs_node*)dir;
    struct tmpfs_dirent* previous = NULL;
    struct tmpfs_dirent* entry = find_entry(parent, name, length, &previous);
    if (!entry)
        return -KEEL_ENOENT;
    struct tmpfs_node* victim = entry->node;
    if (is_dir(victim))
        return -KEEL_EISDIR;
    remove_entry(parent, entry, previous);
    keel_free(entry);
    victim->nlink--;
    victim->ctime = keel_monotonic_ns();
    maybe_free(victim);
    return 0;
}

static int32_t tmpfs_rmdir(void* super, void* dir, const char* name, size_t length, void* node)
{
    (void)super;
    (void)node;
    struct tmpfs_node* parent = (struct tmpfs_node*)dir;
    struct tmpfs_dirent* previous = NULL;
    struct tmpfs_dirent* entry = find_entry(parent, name, length, &previous);
    if (!entry)
        return -KEEL_ENOENT;
    struct tmpfs_node* victim = entry->node;
    if (!is_dir(victim))
        return -KEEL_ENOTDIR;
    if (victim->first)
        return -KEEL_ENOTEMPTY;
    remove_entry(parent, entry, previous);
    keel_free(entry);
    parent->nlink--;
    victim->nlink = 0;
    maybe_free(victim);
    return 0;
}

static int32_t tmpfs_rename(void* super, void* old_dir, const char* old_name, size_t old_length, void* new_dir,
    const char* new_name, size_t new_length)
{
    (void)super;
    struct tmpfs_node* from = (struct tmpfs_node*)old_dir;
    struct tmpfs_node* to = (struct tmpfs_node*)new_dir;
    if (new_length == 0 || new_length > NAME_MAX)
        return -KEEL_ENAMETOOLONG;
    struct tmpfs_dirent* previous = NULL;
    struct tmpfs_dirent* entry = find_entry(from, old_name, old_length, &previous);
    if (!entry)
        return -KEEL_ENOENT;
    struct tmpfs_node* moving = entry->node;
    struct tmpfs_dirent* target_previous = NULL;
    struct tmpfs_dirent* target = find_entry(to, new_name, new_length, &target_previous);
    if (target == entry)
        return 0;
    if (target) {
        if (is_dir(moving) != is_dir(target->node))
            return is_dir(moving) ? -KEEL_ENOTDIR : -KEEL_EISDIR;
        if (is_dir(target->node) && target->node->first)
            return -KEEL_ENOTEMPTY;
    }
    /* Everything that can fail comes first: the new entry. */
    struct tmpfs_dirent* renamed = new_entry(new_name, new_length);
    if (!renamed)
        return -KEEL_ENOMEM;
    if (target) {
        struct tmpfs_node* replaced = target->node;
        /* The entry list may shift when `entry` precedes `target`; look again after. */
        remove_entry(to, target, target_previous);
        keel_free(target);
        if (is_dir(replaced)) {
            to->nlink--;
            replaced->nlink = 0;
        } else {
            replaced->nlink--;
        }
        maybe_free(replaced);
        entry = find_entry(from, old_name, old_length, &previous);
    }
    remove_entry(from, entry, previous);
    keel_free(entry);
    append_entry(to, renamed, moving);
    if (is_dir(moving) && from != to) {
        from->nlink--;
        to->nlink++;
    }
    moving->ctime = keel_monotonic_ns();
    return 0;
}

static int32_t tmpfs_readlink(void* super, void* node, char* buffer, size_t size, size_t* length_out)
{
    (void)super;
    struct tmpfs_node* n = (struct tmpfs_node*)node;
    if ((n->mode & KEEL_S_IFMT) != KEEL_S_IFLNK)
        return -KEEL_EINVAL;
    size_t count = n->size < size ? (size_t)n->size : size;
    copy_bytes(buffer, n->target, count);
    *length_out = (size_t)n->size;
    return 0;
}

static int32_t tmpfs_read(void* super, void* node, uint64_t offset, void* buffer, size_t size, size_t* done_out)
{
    (void)super;
    struct tmpfs_node* n = (struct tmpfs_node*)node;
    if (!is_reg(n))
        return -KEEL_EINVAL;
    *done_out = 0;
    if (offset >= n->size)
        return 0;
    if (size > n->size - offset)
        size = (size_t)(n->size - offset);
    uint8_t* out = (uint8_t*)buffer;
    size_t done = 0;
    while (done < size) {
        uint64_t position = offset + done;
        size_t index = (size_t)(position / PAGE_SIZE);
        size_t within = (size_t)(position % PAGE_SIZE);
        size_t chunk = PAGE_SIZE - within;
        if (chunk > size - done)
            chunk = size - done;
        if (index < n->page_slots && n->pages[index])
            copy_bytes(out + done, n->pages[index] + within, chunk);
        else
            zero_bytes(out + done, chunk);
        done += chunk;
    }
    n->atime = keel_monotonic_ns();
    *done_out = done;
    return 0;
}

static int32_t tmpfs_write(void* super, void* node, uint64_t offset, const void* buffer, size_t size, size_t* done_out)
{
    (void)super;
    struct tmpfs_node* n = (struct tmpfs_node*)node;
    *done_out = 0;
    if (!is_reg(n))
        return -KEEL_EINVAL;
    if (size == 0)
        return 0;
    uint64_t end = offset + size;
    if (end < offset || end > (uint64_t)INT64_MAX)
        return -KEEL_EFBIG;
    /* The page array is indexed with size_t; refuse what it cannot hold. */
    uint64_t last_page = (end - 1) / PAGE_SIZE;
    if (last_page >= ((uint64_t)1 << 40) / sizeof(void*))
        return -KEEL_EFBIG;
    int32_t error = ensure_slots(n, (size_t)last_page + 1);
    if (error)
        return error;
    const uint8_t* in = (const uint8_t*)buffer;
    size_t done = 0;
    while (done < size) {
        uint64_t position = offset + done;
        size_t index = (size_t)(position / PAGE_SIZE);
        size_t within = (size_t)(position % PAGE_SIZE);
        size_t chunk = PAGE_SIZE - within;
        if (chunk > size - done)
            chunk = size - done;
        uint8_t* page = page_for_write(n, index, chunk == PAGE_SIZE, &error);
        if (!page)
            break;
        copy_bytes(page + within, in + done, chunk);
        done += chunk;
    }
    if (done == 0)
        return error;
    if (offset + done > n->size)
        n->size = offset + done;
    touch(n);
    *done_out = done;
    return 0;
}

static int32_t tmpfs_readdir(void* super, void* dir, uint64_t* cookie, keel_fs_dirent_fn emit, void* context)
{
    (void)super;
    struct tmpfs_node* d = (struct tmpfs_node*)dir;
    if (!is_dir(d))
        return -KEEL_ENOTDIR;
    for (struct tmpfs_dirent* entry = d->first; entry; entry = entry->next) {
        if (entry->cookie < *cookie)
            continue;
        if (emit(context, entry->name, entry->name_length, entry->node->ino, entry->node->mode))
            return 0;
        *cookie = entry->cookie + 1;
    }
    return 0;
}

const keel_fs_type_ops tmpfs_type_ops = {
    .size = sizeof(keel_fs_type_ops),
    .version = KEEL_FS_TYPE_OPS_VERSION,
    .name = "tmpfs",
    .flags = 0,
    .mount = tmpfs_mount,
    .kill_super = tmpfs_kill_super,
    .remount = tmpfs_remount,
    .statfs = tmpfs_statfs,
    .lookup = tmpfs_lookup,
    .put_node = tmpfs_put_node,
    .getattr = tmpfs_getattr,
    .setattr = tmpfs_setattr,
    .create = tmpfs_create,
    .symlink = tmpfs_symlink,
    .link = tmpfs_link,
    .unlink = tmpfs_unlink,
    .rmdir = tmpfs_rmdir,
    .rename = tmpfs_rename,
    .readlink = tmpfs_readlink,
    .read = tmpfs_read,
    .write = tmpfs_write,
    .readdir = tmpfs_readdir,
};
