/*
 * Directories: linear lists of entries in whole blocks. Every block is
 * checked entry by entry when it is read. A directory indexed by a newer
 * driver (EXT2_INDEX_FL, dir_index) reads the same way: the index lives in
 * records the linear format skips; the first change clears the flag, as
 * Linux's ext2 does, so the stale index is never trusted.
 *
 * Checking a block's every entry costs more than finding a name in it,
 * and a walk looks up every name of a directory in turn, so a block that
 * passed its check is remembered (fs->checked, a few at a time) with a
 * reference of its own: the cache can then neither drop it nor read it
 * again behind the driver's back, and its bytes change only through ext2,
 * which forgets the block at every change (ext2_block_dirty,
 * ext2_block_zero), whatever the change was: a file's write into a block
 * that a bad disk also gives a directory makes it checked again before
 * its next use. A remembered block also keeps where the last lookup in it
 * found its name, and the directory the block of that name: a lookup of
 * the names in directory order (a walk after readdir) starts where the
 * previous one matched, as Linux's ext2 starts at the page of its last
 * match.
 */
#include "ext2_internal.h"

static uint32_t entry_name_length(const struct ext2_fs* fs, const struct ext2_dir_entry* entry)
{
    return fs->filetype ? entry->name_len : entry->name_len | ((uint32_t)entry->file_type << 8);
}

static uint8_t file_type_of(uint32_t mode)
{
    switch (mode & KEEL_S_IFMT) {
    case KEEL_S_IFREG: return EXT2_FT_REG_FILE;
    case KEEL_S_IFDIR: return EXT2_FT_DIR;
    case KEEL_S_IFCHR: return EXT2_FT_CHRDEV;
    case KEEL_S_IFBLK: return EXT2_FT_BLKDEV;
    case KEEL_S_IFIFO: return EXT2_FT_FIFO;
    case KEEL_S_IFSOCK: return EXT2_FT_SOCK;
    case KEEL_S_IFLNK: return EXT2_FT_SYMLINK;
    }
    return EXT2_FT_UNKNOWN;
}

static const uint32_t k_type_modes[EXT2_FT_MAX]
    = { 0, KEEL_S_IFREG, KEEL_S_IFDIR, KEEL_S_IFCHR, KEEL_S_IFBLK, KEEL_S_IFIFO, KEEL_S_IFSOCK, KEEL_S_IFLNK };

static void set_entry(const struct ext2_fs* fs, struct ext2_dir_entry* entry, uint32_t ino, const char* name,
    size_t length, uint32_t mode)
{
    entry->inode = ino;
    entry->name_len = (uint8_t)length;
    entry->file_type = fs->filetype ? file_type_of(mode) : 0;
    ext2_copy(entry->name, name, length);
}

static int is_dots(const struct ext2_dir_entry* entry, uint32_t length)
{
    return (length == 1 && entry->name[0] == '.') || (length == 2 && entry->name[0] == '.' && entry->name[1] == '.');
}

/* Every entry of a directory block, before any is used. */
static int check_block(struct ext2_fs* fs, struct ext2_node* dir, uint64_t index, const uint8_t* data)
{
    uint32_t offset = 0;
    while (offset < fs->block_size) {
        const struct ext2_dir_entry* entry = (const struct ext2_dir_entry*)(data + offset);
        if (fs->block_size - offset < EXT2_DIR_REC_LEN(1))
            return EXT2_CORRUPT(fs, dir->ino, "directory block %llu: entry at offset %u runs past the block",
                (unsigned long long)index, offset);
        uint32_t rec_len = entry->rec_len;
        uint32_t length = entry_name_length(fs, entry);
        if (rec_len % 4 || rec_len < EXT2_DIR_REC_LEN(length) || rec_len > fs->block_size - offset)
            return EXT2_CORRUPT(fs, dir->ino,
                "directory block %llu: entry at offset %u: rec_len %u does not fit a name of %u bytes in the block",
                (unsigned long long)index, offset, rec_len, length);
        if (entry->inode > fs->inodes_count)
            return EXT2_CORRUPT(fs, dir->ino, "directory block %llu: entry at offset %u: inode %u is out of range",
                (unsigned long long)index, offset, entry->inode);
        if (entry->inode && (length == 0 || length > EXT2_NAME_MAX))
            return EXT2_CORRUPT(fs, dir->ino, "directory block %llu: entry at offset %u: name_len %u",
                (unsigned long long)index, offset, length);
        offset += rec_len;
    }
    return 0;
}

static uint64_t block_count(const struct ext2_fs* fs, const struct ext2_node* dir)
{
    return dir->size >> fs->block_log;
}

/* ---- blocks checked and unchanged since */

static struct ext2_checked_block* find_checked(struct ext2_fs* fs, const keel_buffer* buffer)
{
    for (uint32_t i = 0; i < EXT2_CHECKED_BLOCKS; i++) {
        if (fs->checked[i].buffer == buffer)
            return &fs->checked[i];
    }
    return 0;
}

/* Remembers `buffer` (just checked) with a reference of its own; null
 * when that reference cannot be had (it is only a shortcut). */
static struct ext2_checked_block* remember_checked(struct ext2_fs* fs, const keel_buffer* buffer)
{
    keel_buffer* held;
    if (keel_bcache_read(fs->bdev, buffer->block, &held))
        return 0;
    if (held != buffer) {
        keel_bcache_put(held); /* cannot happen while the caller holds it */
        return 0;
    }
    struct ext2_checked_block* slot = &fs->checked[fs->checked_next];
    fs->checked_next = (fs->checked_next + 1) % EXT2_CHECKED_BLOCKS;
    keel_bcache_put(slot->buffer);
    slot->buffer = held;
    slot->resume = 0;
    return slot;
}

static void forget_checked(struct ext2_fs* fs, const keel_buffer* buffer)
{
    struct ext2_checked_block* slot = find_checked(fs, buffer);
    if (slot) {
        keel_bcache_put(slot->buffer);
        slot->buffer = 0;
    }
}

void ext2_forget_checked_blocks(struct ext2_fs* fs)
{
    for (uint32_t i = 0; i < EXT2_CHECKED_BLOCKS; i++) {
        keel_bcache_put(fs->checked[i].buffer);
        fs->checked[i].buffer = 0;
    }
}

void ext2_block_dirty(struct ext2_fs* fs, keel_buffer* buffer)
{
    forget_checked(fs, buffer);
    keel_bcache_dirty(buffer);
}

int ext2_block_zero(struct ext2_fs* fs, uint32_t block, keel_buffer** out)
{
    int rc = keel_bcache_zero(fs->bdev, block, out);
    if (!rc)
        forget_checked(fs, *out);
    return rc;
}

/* Directory block `index`, checked and held; `checked_out` (when not
 * null) gets where it is remembered, or null. */
static int read_block(struct ext2_fs* fs, struct ext2_node* dir, uint64_t index, keel_buffer** out,
    struct ext2_checked_block** checked_out)
{
    uint32_t block;
    int rc = ext2_bmap(fs, dir, index, 0, &block);
    if (rc)
        return rc;
    if (block == 0)
        return EXT2_CORRUPT(fs, dir->ino, "directory block %llu is a hole", (unsigned long long)index);
    rc = keel_bcache_read(fs->bdev, block, out);
    if (rc)
        return ext2_io_error(fs, dir->ino, rc, "a directory block");
    struct ext2_checked_block* checked = find_checked(fs, *out);
    if (!checked) {
        rc = check_block(fs, dir, index, (*out)->data);
        if (rc) {
            keel_bcache_put(*out);
            *out = 0;
            return rc;
        }
        checked = remember_checked(fs, *out);
    }
    if (checked_out)
        *checked_out = checked;
    return 0;
}

/* Where a name is: its block (held), its entry and the one before it in
 * the block (null for the first). */
struct dir_slot {
    keel_buffer* buffer;
    struct ext2_dir_entry* entry;
    struct ext2_dir_entry* previous;
};

/* The entry `name` that names inode `ino`: a directory may hold a name
 * twice (a corrupt one does), and a change must hit the entry of the
 * inode the caller was given. None is corruption: the caller met it. */
static int find(
    struct ext2_fs* fs, struct ext2_node* dir, const char* name, size_t length, uint32_t ino, struct dir_slot* slot)
{
    uint64_t blocks = block_count(fs, dir);
    for (uint64_t index = 0; index < blocks; index++) {
        keel_buffer* buffer;
        int rc = read_block(fs, dir, index, &buffer, 0);
        if (rc)
            return rc;
        struct ext2_dir_entry* previous = 0;
        for (uint32_t offset = 0; offset < fs->block_size;) {
            struct ext2_dir_entry* entry = (struct ext2_dir_entry*)(buffer->data + offset);
            if (entry->inode == ino && entry_name_length(fs, entry) == length
                && __builtin_memcmp(entry->name, name, length) == 0) {
                slot->buffer = buffer;
                slot->entry = entry;
                slot->previous = previous;
                return 0;
            }
            previous = entry;
            offset += entry->rec_len;
        }
        keel_bcache_put(buffer);
    }
    return EXT2_CORRUPT(fs, dir->ino, "no entry \"%.*s\" names inode %u", (int)length, name, ino);
}

/* A change to the directory's entries: times, and the index flag goes. */
static int changed(struct ext2_fs* fs, struct ext2_node* dir)
{
    dir->raw.i_flags &= ~EXT2_INDEX_FL;
    ext2_touch(fs, dir, 1);
    return ext2_write_inode(fs, dir);
}

/* The offset of the entry named `name` among the entries from `start` to
 * `end` (entry offsets in a checked block), or the block size. */
static uint32_t scan(
    const struct ext2_fs* fs, const uint8_t* data, uint32_t start, uint32_t end, const char* name, size_t length)
{
    for (uint32_t offset = start; offset < end;) {
        const struct ext2_dir_entry* entry = (const struct ext2_dir_entry*)(data + offset);
        if (entry->inode && entry_name_length(fs, entry) == length && entry->name[0] == name[0]
            && __builtin_memcmp(entry->name, name, length) == 0)
            return offset;
        offset += entry->rec_len;
    }
    return fs->block_size;
}

int ext2_dir_find(struct ext2_fs* fs, struct ext2_node* dir, const char* name, size_t length, uint32_t* ino_out)
{
    if (length == 0)
        return -KEEL_ENOENT;
    uint64_t blocks = block_count(fs, dir);
    uint64_t first = dir->lookup_block < blocks ? dir->lookup_block : 0;
    for (uint64_t n = 0; n < blocks; n++) {
        uint64_t index = first + n < blocks ? first + n : first + n - blocks;
        keel_buffer* buffer;
        struct ext2_checked_block* checked;
        int rc = read_block(fs, dir, index, &buffer, &checked);
        if (rc)
            return rc;
        /* From where the last lookup in the block matched, then the rest. */
        uint32_t resume = checked ? checked->resume : 0;
        uint32_t found = scan(fs, buffer->data, resume, fs->block_size, name, length);
        if (found == fs->block_size && resume)
            found = scan(fs, buffer->data, 0, resume, name, length);
        if (found < fs->block_size) {
            const struct ext2_dir_entry* entry = (const struct ext2_dir_entry*)(buffer->data + found);
            *ino_out = entry->inode;
            if (checked)
                checked->resume = found + entry->rec_len < fs->block_size ? found + entry->rec_len : 0;
            dir->lookup_block = (uint32_t)index;
            keel_bcache_put(buffer);
            return 0;
        }
        keel_bcache_put(buffer);
    }
    return -KEEL_ENOENT;
}

int ext2_dir_find_only(struct ext2_fs* fs, struct ext2_node* dir, const char* name, size_t length, uint32_t* ino_out)
{
    if (length == 0)
        return -KEEL_ENOENT;
    uint32_t found = 0;
    uint64_t blocks = block_count(fs, dir);
    for (uint64_t index = 0; index < blocks; index++) {
        keel_buffer* buffer;
        int rc = read_block(fs, dir, index, &buffer, 0);
        if (rc)
            return rc;
        for (uint32_t at = scan(fs, buffer->data, 0, fs->block_size, name, length); at < fs->block_size;) {
            const struct ext2_dir_entry* entry = (const struct ext2_dir_entry*)(buffer->data + at);
            if (found++ == 0)
                *ino_out = entry->inode;
            at = scan(fs, buffer->data, at + entry->rec_len, fs->block_size, name, length);
        }
        keel_bcache_put(buffer);
    }
    if (found > 1)
        return EXT2_CORRUPT(fs, dir->ino, "\"%.*s\" names more than one entry (%u)", (int)length, name, found);
    return found ? 0 : -KEEL_ENOENT;
}

int ext2_dir_add(
    struct ext2_fs* fs, struct ext2_node* dir, const char* name, size_t length, uint32_t ino, uint32_t mode)
{
    uint32_t need = EXT2_DIR_REC_LEN(length);
    uint64_t blocks = block_count(fs, dir);
    for (uint64_t index = 0; index < blocks; index++) {
        keel_buffer* buffer;
        int rc = read_block(fs, dir, index, &buffer, 0);
        if (rc)
            return rc;
        for (uint32_t offset = 0; offset < fs->block_size;) {
            struct ext2_dir_entry* entry = (struct ext2_dir_entry*)(buffer->data + offset);
            uint32_t used = entry->inode ? EXT2_DIR_REC_LEN(entry_name_length(fs, entry)) : 0;
            if (entry->rec_len >= used + need) {
                if (used) {
                    struct ext2_dir_entry* split = (struct ext2_dir_entry*)((uint8_t*)entry + used);
                    split->rec_len = (uint16_t)(entry->rec_len - used);
                    entry->rec_len = (uint16_t)used;
                    entry = split;
                }
                set_entry(fs, entry, ino, name, length, mode);
                ext2_block_dirty(fs, buffer);
                keel_bcache_put(buffer);
                return changed(fs, dir);
            }
            offset += entry->rec_len;
        }
        keel_bcache_put(buffer);
    }
    /* No room: a new block at the end. */
    if (((blocks + 1) << fs->block_log) > 0xffffffffull)
        return -KEEL_ENOSPC;
    uint32_t block;
    int rc = ext2_bmap(fs, dir, blocks, 1, &block);
    if (rc)
        return rc;
    keel_buffer* buffer;
    rc = ext2_block_zero(fs, block, &buffer);
    if (rc)
        return rc;
    struct ext2_dir_entry* entry = (struct ext2_dir_entry*)buffer->data;
    entry->rec_len = (uint16_t)fs->block_size;
    set_entry(fs, entry, ino, name, length, mode);
    keel_bcache_put(buffer);
    ext2_set_size(dir, (blocks + 1) << fs->block_log);
    return changed(fs, dir);
}

int ext2_dir_remove(struct ext2_fs* fs, struct ext2_node* dir, const char* name, size_t length, uint32_t ino)
{
    struct dir_slot slot;
    int rc = find(fs, dir, name, length, ino, &slot);
    if (rc)
        return rc;
    if (slot.previous)
        slot.previous->rec_len = (uint16_t)(slot.previous->rec_len + slot.entry->rec_len);
    else
        slot.entry->inode = 0;
    ext2_block_dirty(fs, slot.buffer);
    keel_bcache_put(slot.buffer);
    return changed(fs, dir);
}

int ext2_dir_retarget(struct ext2_fs* fs, struct ext2_node* dir, const char* name, size_t length, uint32_t old_ino,
    uint32_t ino, uint32_t mode)
{
    struct dir_slot slot;
    int rc = find(fs, dir, name, length, old_ino, &slot);
    if (rc)
        return rc;
    set_entry(fs, slot.entry, ino, name, length, mode);
    ext2_block_dirty(fs, slot.buffer);
    keel_bcache_put(slot.buffer);
    return changed(fs, dir);
}

int ext2_dir_is_empty(struct ext2_fs* fs, struct ext2_node* dir, int* empty)
{
    *empty = 1;
    uint64_t blocks = block_count(fs, dir);
    for (uint64_t index = 0; index < blocks && *empty; index++) {
        keel_buffer* buffer;
        int rc = read_block(fs, dir, index, &buffer, 0);
        if (rc)
            return rc;
        for (uint32_t offset = 0; offset < fs->block_size;) {
            struct ext2_dir_entry* entry = (struct ext2_dir_entry*)(buffer->data + offset);
            if (entry->inode && !is_dots(entry, entry_name_length(fs, entry)))
                *empty = 0;
            offset += entry->rec_len;
        }
        keel_bcache_put(buffer);
    }
    return 0;
}

int ext2_dir_init(struct ext2_fs* fs, struct ext2_node* dir, uint32_t parent)
{
    uint32_t block;
    int rc = ext2_bmap(fs, dir, 0, 1, &block);
    if (rc)
        return rc;
    keel_buffer* buffer;
    rc = ext2_block_zero(fs, block, &buffer);
    if (rc)
        return rc;
    struct ext2_dir_entry* dot = (struct ext2_dir_entry*)buffer->data;
    dot->rec_len = EXT2_DIR_REC_LEN(1);
    set_entry(fs, dot, dir->ino, ".", 1, KEEL_S_IFDIR);
    struct ext2_dir_entry* dotdot = (struct ext2_dir_entry*)(buffer->data + EXT2_DIR_REC_LEN(1));
    dotdot->rec_len = (uint16_t)(fs->block_size - EXT2_DIR_REC_LEN(1));
    set_entry(fs, dotdot, parent, "..", 2, KEEL_S_IFDIR);
    keel_bcache_put(buffer);
    ext2_set_size(dir, fs->block_size);
    return ext2_write_inode(fs, dir);
}

/* The ".." entry: the second of the first block. */
static int find_dotdot(struct ext2_fs* fs, struct ext2_node* dir, keel_buffer** buffer, struct ext2_dir_entry** out)
{
    int rc = read_block(fs, dir, 0, buffer, 0);
    if (rc)
        return rc;
    struct ext2_dir_entry* dot = (struct ext2_dir_entry*)(*buffer)->data;
    struct ext2_dir_entry* dotdot = (struct ext2_dir_entry*)((*buffer)->data + dot->rec_len);
    int ok = dot->rec_len < fs->block_size && entry_name_length(fs, dot) == 1 && dot->name[0] == '.'
        && entry_name_length(fs, dotdot) == 2 && dotdot->name[0] == '.' && dotdot->name[1] == '.' && dotdot->inode != 0;
    if (!ok) {
        keel_bcache_put(*buffer);
        return EXT2_CORRUPT(fs, dir->ino, "directory's first block does not begin with \".\" and \"..\"");
    }
    *out = dotdot;
    return 0;
}

int ext2_dir_parent(struct ext2_fs* fs, struct ext2_node* dir, uint32_t* parent_out)
{
    keel_buffer* buffer;
    struct ext2_dir_entry* dotdot;
    int rc = find_dotdot(fs, dir, &buffer, &dotdot);
    if (rc)
        return rc;
    *parent_out = dotdot->inode;
    keel_bcache_put(buffer);
    return 0;
}

int ext2_dir_set_parent(struct ext2_fs* fs, struct ext2_node* dir, uint32_t parent)
{
    keel_buffer* buffer;
    struct ext2_dir_entry* dotdot;
    int rc = find_dotdot(fs, dir, &buffer, &dotdot);
    if (rc)
        return rc;
    dotdot->inode = parent;
    ext2_block_dirty(fs, buffer);
    keel_bcache_put(buffer);
    return changed(fs, dir);
}

int ext2_dir_iterate(struct ext2_fs* fs, struct ext2_node* dir, uint64_t* cookie, keel_fs_dirent_fn emit, void* context)
{
    uint64_t blocks = block_count(fs, dir);
    for (uint64_t index = *cookie >> fs->block_log; index < blocks; index++) {
        keel_buffer* buffer;
        int rc = read_block(fs, dir, index, &buffer, 0);
        if (rc)
            return rc;
        uint64_t base = index << fs->block_log;
        for (uint32_t offset = 0; offset < fs->block_size;) {
            struct ext2_dir_entry* entry = (struct ext2_dir_entry*)(buffer->data + offset);
            uint32_t length = entry_name_length(fs, entry);
            uint32_t next = offset + entry->rec_len;
            if (base + offset >= *cookie && entry->inode && !is_dots(entry, length)) {
                uint32_t mode = fs->filetype && entry->file_type < EXT2_FT_MAX ? k_type_modes[entry->file_type] : 0;
                if (!mode) {
                    struct ext2_node* node;
                    rc = ext2_get_node(fs, entry->inode, &node);
                    if (rc) {
                        keel_bcache_put(buffer);
                        return rc;
                    }
                    mode = node->raw.i_mode;
                    ext2_put_node(fs, node);
                }
                if (emit(context, entry->name, length, entry->inode, mode)) {
                    *cookie = base + offset;
                    keel_bcache_put(buffer);
                    return 0;
                }
            }
            if (base + offset >= *cookie)
                *cookie = base + next;
            offset = next;
        }
        keel_bcache_put(buffer);
        *cookie = base + fs->block_size;
    }
    return 0;
}
