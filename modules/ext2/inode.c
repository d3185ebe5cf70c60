/*
 * Inodes: reading (every field checked), writing back, creating and
 * releasing them, and the block map (direct, indirect, double and triple
 * indirect blocks).
 */
#include "ext2_internal.h"

/* ---- the nodes in use */

static uint32_t node_bucket(const struct ext2_fs* fs, uint32_t ino)
{
    return (ino * 2654435761u) >> (32 - fs->node_buckets_log);
}

int ext2_nodes_init(struct ext2_fs* fs)
{
    fs->nodes = (struct ext2_node**)keel_zalloc(sizeof(struct ext2_node*) << EXT2_NODE_BUCKETS_MIN_LOG);
    if (!fs->nodes)
        return -KEEL_ENOMEM;
    fs->node_buckets_log = EXT2_NODE_BUCKETS_MIN_LOG;
    fs->node_count = 0;
    return 0;
}

void ext2_nodes_free(struct ext2_fs* fs)
{
    if (!fs->nodes)
        return;
    for (uint32_t i = 0; i < 1u << fs->node_buckets_log; i++) {
        while (fs->nodes[i]) {
            struct ext2_node* node = fs->nodes[i];
            fs->nodes[i] = node->hash_next;
            keel_free(node);
            ext2_count_node(-1);
        }
    }
    keel_free(fs->nodes);
    fs->nodes = 0;
    fs->node_count = 0;
}

/* Twice the buckets when there are more nodes than buckets; without the
 * memory the table stays as it is (only slower). */
static void grow_nodes(struct ext2_fs* fs)
{
    uint32_t log = fs->node_buckets_log;
    if (fs->node_count <= 1u << log || log >= EXT2_NODE_BUCKETS_MAX_LOG)
        return;
    struct ext2_node** table = (struct ext2_node**)keel_zalloc(sizeof(struct ext2_node*) << (log + 1));
    if (!table)
        return;
    struct ext2_node** old = fs->nodes;
    fs->nodes = table;
    fs->node_buckets_log = log + 1;
    for (uint32_t i = 0; i < 1u << log; i++) {
        while (old[i]) {
            struct ext2_node* node = old[i];
            old[i] = node->hash_next;
            uint32_t bucket = node_bucket(fs, node->ino);
            node->hash_next = table[bucket];
            table[bucket] = node;
        }
    }
    keel_free(old);
}

static void insert_node(struct ext2_fs* fs, struct ext2_node* node)
{
    uint32_t bucket = node_bucket(fs, node->ino);
    node->hash_next = fs->nodes[bucket];
    fs->nodes[bucket] = node;
    fs->node_count++;
    ext2_count_node(1);
    grow_nodes(fs);
}

static struct ext2_node* find_node(struct ext2_fs* fs, uint32_t ino)
{
    struct ext2_node* node = fs->nodes[node_bucket(fs, ino)];
    while (node && node->ino != ino)
        node = node->hash_next;
    return node;
}

static void remove_node(struct ext2_fs* fs, struct ext2_node* node)
{
    struct ext2_node** link = &fs->nodes[node_bucket(fs, node->ino)];
    while (*link != node)
        link = &(*link)->hash_next;
    *link = node->hash_next;
    fs->node_count--;
    ext2_count_node(-1);
}

static int inode_location(struct ext2_fs* fs, uint32_t ino, uint32_t* block, uint32_t* offset)
{
    uint32_t group = (ino - 1) / fs->inodes_per_group;
    uint64_t byte = (uint64_t)((ino - 1) % fs->inodes_per_group) * fs->inode_size;
    *block = ext2_group(fs, group)->bg_inode_table + (uint32_t)(byte >> fs->block_log);
    *offset = (uint32_t)(byte & (fs->block_size - 1));
    return 0;
}

/* Reads ahead the inode table from `block` (in `group`) unless the last
 * window holds it: inodes are mostly read in runs (a directory's entries,
 * files made one after another), and one request in flight per block
 * beats one wait per block. */
static void itable_readahead(struct ext2_fs* fs, uint32_t group, uint32_t block)
{
    if (block >= fs->itable_ra_start && block < fs->itable_ra_end)
        return;
    uint32_t table_end = ext2_group(fs, group)->bg_inode_table + fs->itable_blocks;
    uint32_t window = EXT2_ITABLE_READAHEAD_BYTES >> fs->block_log;
    if (window > table_end - block)
        window = table_end - block;
    keel_bcache_readahead(fs->bdev, block, window);
    fs->itable_ra_start = block;
    fs->itable_ra_end = block + window;
}

uint64_t ext2_max_size(const struct ext2_fs* fs)
{
    if (fs->rev == EXT2_GOOD_OLD_REV)
        return 0x7fffffffull;
    uint64_t per = 1ull << fs->addr_log;
    uint64_t blocks = EXT2_NDIR_BLOCKS + per + per * per + per * per * per;
    uint64_t by_map = blocks << fs->block_log;
    /* i_blocks counts 512-byte sectors in 32 bits, indirect blocks too */
    uint64_t by_count = (0xffffffffull << 9) - (per * per + per + 1) * fs->block_size;
    return by_map < by_count ? by_map : by_count;
}

uint32_t ext2_uid(const struct ext2_node* node) { return node->raw.i_uid | ((uint32_t)node->raw.i_uid_high << 16); }
uint32_t ext2_gid(const struct ext2_node* node) { return node->raw.i_gid | ((uint32_t)node->raw.i_gid_high << 16); }

void ext2_set_size(struct ext2_node* node, uint64_t size)
{
    node->size = size;
    node->raw.i_size = (uint32_t)size;
    if (ext2_mode_type(node) == KEEL_S_IFREG)
        node->raw.i_size_high = (uint32_t)(size >> 32);
}

void ext2_touch(const struct ext2_fs* fs, struct ext2_node* node, int modified)
{
    uint32_t now = ext2_now(fs);
    node->raw.i_ctime = now;
    if (modified)
        node->raw.i_mtime = now;
}

static int valid_type(uint32_t type)
{
    switch (type) {
    case KEEL_S_IFREG:
    case KEEL_S_IFDIR:
    case KEEL_S_IFLNK:
    case KEEL_S_IFCHR:
    case KEEL_S_IFBLK:
    case KEEL_S_IFIFO:
    case KEEL_S_IFSOCK: return 1;
    }
    return 0;
}

int ext2_symlink_is_fast(const struct ext2_fs* fs, const struct ext2_node* node)
{
    uint32_t acl_sectors = node->raw.i_file_acl ? fs->block_size >> 9 : 0;
    return node->raw.i_blocks == acl_sectors;
}

/* A slow symlink's target (shorter than a block) is in i_block[0]: its
 * release frees what the map holds, so nothing else may be there. */
static int slow_symlink_is_one_block(const struct ext2_fs* fs, const struct ext2_inode* raw)
{
    uint32_t acl_sectors = raw->i_file_acl ? fs->block_size >> 9 : 0;
    if (raw->i_blocks != acl_sectors + (fs->block_size >> 9))
        return 0;
    for (uint32_t i = 1; i < EXT2_N_BLOCKS; i++) {
        if (raw->i_block[i])
            return 0;
    }
    return 1;
}

/* The checks every inode passes before the driver uses it. */
static int check_inode(struct ext2_fs* fs, uint32_t ino, struct ext2_node* node)
{
    const struct ext2_inode* raw = &node->raw;
    uint32_t type = raw->i_mode & KEEL_S_IFMT;
    if (raw->i_links_count == 0)
        return EXT2_CORRUPT(fs, ino, "i_links_count is 0: a deleted inode is still referenced");
    if (!valid_type(type))
        return EXT2_CORRUPT(fs, ino, "i_mode 0%o has no valid file type", raw->i_mode);
    if (raw->i_flags & (EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL))
        return EXT2_CORRUPT(fs, ino, "i_flags 0x%x: extents or inline data are not ext2", raw->i_flags);
    if (raw->i_file_acl && !ext2_data_block_ok(fs, raw->i_file_acl))
        return EXT2_CORRUPT(fs, ino, "i_file_acl %u is not a data block", raw->i_file_acl);
    uint64_t size = raw->i_size;
    if (type == KEEL_S_IFREG)
        size |= (uint64_t)raw->i_size_high << 32;
    node->size = size;
    switch (type) {
    case KEEL_S_IFDIR:
        if (size == 0 || (size & (fs->block_size - 1)))
            return EXT2_CORRUPT(fs, ino, "directory i_size %llu is not a positive multiple of the block size",
                (unsigned long long)size);
        break;
    case KEEL_S_IFREG:
        if (size > ext2_max_size(fs))
            return EXT2_CORRUPT(fs, ino, "i_size %llu exceeds the largest file (%llu)", (unsigned long long)size,
                (unsigned long long)ext2_max_size(fs));
        break;
    case KEEL_S_IFLNK:
        if (size == 0 || size >= 4096)
            return EXT2_CORRUPT(fs, ino, "symlink i_size %llu is not 1 to 4095", (unsigned long long)size);
        if (ext2_symlink_is_fast(fs, node) && size >= EXT2_FAST_SYMLINK_MAX)
            return EXT2_CORRUPT(fs, ino, "fast symlink i_size %llu does not fit in i_block", (unsigned long long)size);
        if (!ext2_symlink_is_fast(fs, node) && !slow_symlink_is_one_block(fs, raw))
            return EXT2_CORRUPT(
                fs, ino, "slow symlink: i_blocks %u is not one block, or i_block maps more than one", raw->i_blocks);
        break;
    }
    return 0;
}

/* The cached block that holds inode `ino`, and where in it. */
static int read_inode_block(struct ext2_fs* fs, uint32_t ino, keel_buffer** buffer, uint32_t* offset)
{
    uint32_t block;
    inode_location(fs, ino, &block, offset);
    itable_readahead(fs, (ino - 1) / fs->inodes_per_group, block);
    int rc = keel_bcache_read(fs->bdev, block, buffer);
    return rc ? ext2_io_error(fs, ino, rc, "the inode table") : 0;
}

int ext2_get_node(struct ext2_fs* fs, uint32_t ino, struct ext2_node** out)
{
    if (ino == 0 || ino > fs->inodes_count)
        return EXT2_CORRUPT(fs, ino, "inode number out of range (1 to %u)", fs->inodes_count);
    struct ext2_node* known = find_node(fs, ino);
    if (known) {
        known->refs++;
        *out = known;
        return 0;
    }
    uint32_t offset;
    keel_buffer* buffer;
    int rc = read_inode_block(fs, ino, &buffer, &offset);
    if (rc)
        return rc;
    struct ext2_node* node = (struct ext2_node*)keel_zalloc(sizeof(*node));
    if (!node) {
        keel_bcache_put(buffer);
        return -KEEL_ENOMEM;
    }
    ext2_copy(&node->raw, buffer->data + offset, sizeof(node->raw));
    if (fs->inode_size > EXT2_GOOD_OLD_INODE_SIZE) {
        uint16_t extra;
        ext2_copy(&extra, buffer->data + offset + EXT2_GOOD_OLD_INODE_SIZE, sizeof(extra));
        /* A bad i_extra_isize only means the extra times are not used. */
        if (extra <= fs->inode_size - EXT2_GOOD_OLD_INODE_SIZE && !(extra & 3))
            node->extra_isize = extra;
    }
    keel_bcache_put(buffer);
    node->ino = ino;
    rc = check_inode(fs, ino, node);
    if (rc) {
        keel_free(node);
        return rc;
    }
    node->refs = 1;
    insert_node(fs, node);
    *out = node;
    return 0;
}

int ext2_inode_live(struct ext2_fs* fs, uint32_t ino, int* is_dir)
{
    struct ext2_node* node = find_node(fs, ino);
    if (node) {
        *is_dir = ext2_is_dir(node);
        return 1;
    }
    uint32_t offset;
    keel_buffer* buffer;
    int rc = read_inode_block(fs, ino, &buffer, &offset);
    if (rc)
        return rc;
    struct ext2_inode raw;
    ext2_copy(&raw, buffer->data + offset, sizeof(raw));
    keel_bcache_put(buffer);
    *is_dir = (raw.i_mode & KEEL_S_IFMT) == KEEL_S_IFDIR;
    return raw.i_links_count != 0;
}

int ext2_write_inode(struct ext2_fs* fs, struct ext2_node* node)
{
    uint32_t block, offset;
    inode_location(fs, node->ino, &block, &offset);
    keel_buffer* buffer;
    int rc = keel_bcache_read(fs->bdev, block, &buffer);
    if (rc)
        return ext2_io_error(fs, node->ino, rc, "the inode table");
    ext2_copy(buffer->data + offset, &node->raw, sizeof(node->raw));
    if (node->extra_isize >= EXT2_EXTRA_TIMES_SIZE) {
        /* The times are whole seconds here: no stale nanoseconds. */
        ext2_zero(buffer->data + offset + EXT2_GOOD_OLD_INODE_SIZE + 4, 12);
    }
    ext2_block_dirty(fs, buffer);
    keel_bcache_put(buffer);
    return 0;
}

int ext2_new_node(
    struct ext2_fs* fs, struct ext2_node* dir, uint32_t mode, uint32_t uid, uint32_t gid, struct ext2_node** out)
{
    struct ext2_node* node = (struct ext2_node*)keel_zalloc(sizeof(*node));
    if (!node)
        return -KEEL_ENOMEM;
    uint32_t ino;
    int rc = ext2_alloc_inode(fs, dir, mode, &ino);
    if (rc) {
        keel_free(node);
        return rc;
    }
    uint32_t block, offset;
    inode_location(fs, ino, &block, &offset);
    itable_readahead(fs, (ino - 1) / fs->inodes_per_group, block);
    keel_buffer* buffer;
    rc = keel_bcache_read(fs->bdev, block, &buffer);
    if (rc) {
        ext2_free_inode(fs, ino, 0);
        keel_free(node);
        return ext2_io_error(fs, ino, rc, "the inode table");
    }
    /* Whatever a previous inode left here goes, extra fields included. */
    ext2_zero(buffer->data + offset, fs->inode_size);
    ext2_block_dirty(fs, buffer);
    keel_bcache_put(buffer);
    uint32_t now = ext2_now(fs);
    node->ino = ino;
    node->refs = 1;
    node->raw.i_mode = (uint16_t)mode;
    node->raw.i_uid = (uint16_t)uid;
    node->raw.i_uid_high = (uint16_t)(uid >> 16);
    node->raw.i_gid = (uint16_t)gid;
    node->raw.i_gid_high = (uint16_t)(gid >> 16);
    node->raw.i_atime = node->raw.i_ctime = node->raw.i_mtime = now;
    node->raw.i_generation = ++fs->generation;
    node->raw.i_links_count = 1;
    insert_node(fs, node);
    ext2_write_inode(fs, node);
    *out = node;
    return 0;
}

/* ---- the block map */

static void add_sectors(struct ext2_fs* fs, struct ext2_node* node, int blocks)
{
    int64_t sectors = (int64_t)node->raw.i_blocks + (int64_t)blocks * (int64_t)(fs->block_size >> 9);
    node->raw.i_blocks = sectors < 0 ? 0 : sectors > 0xffffffffll ? 0xffffffffu : (uint32_t)sectors;
}

static const char* const k_level_names[]
    = { "a data block", "an indirect block", "a double indirect block", "a triple indirect block" };

int ext2_bmap(struct ext2_fs* fs, struct ext2_node* node, uint64_t index, int create, uint32_t* block_out)
{
    uint64_t per = 1ull << fs->addr_log;
    uint64_t mask = per - 1;
    uint32_t path[4];
    int depth;
    uint64_t logical = index;
    if (index < EXT2_NDIR_BLOCKS) {
        depth = 0;
        path[0] = (uint32_t)index;
    } else if ((index -= EXT2_NDIR_BLOCKS) < per) {
        depth = 1;
        path[0] = EXT2_IND_BLOCK;
        path[1] = (uint32_t)index;
    } else if ((index -= per) < per * per) {
        depth = 2;
        path[0] = EXT2_DIND_BLOCK;
        path[1] = (uint32_t)(index >> fs->addr_log);
        path[2] = (uint32_t)(index & mask);
    } else if ((index -= per * per) < per * per * per) {
        depth = 3;
        path[0] = EXT2_TIND_BLOCK;
        path[1] = (uint32_t)(index >> (2 * fs->addr_log));
        path[2] = (uint32_t)((index >> fs->addr_log) & mask);
        path[3] = (uint32_t)(index & mask);
    } else {
        return -KEEL_EFBIG;
    }
    uint32_t* slot = &node->raw.i_block[path[0]];
    keel_buffer* holder = 0; /* the block holding *slot; none: the inode */
    int allocated = 0;
    int rc = 0;
    for (int level = 0;; level++) {
        uint32_t block = *slot;
        if (block == 0) {
            if (!create) {
                *block_out = 0;
                break;
            }
            uint32_t goal = node->last_block ? node->last_block + 1 : 0;
            if (!goal)
                goal = fs->first_data_block + ((node->ino - 1) / fs->inodes_per_group) * fs->blocks_per_group;
            rc = ext2_alloc_block(fs, node->ino, goal, &block);
            if (rc)
                break;
            if (level < depth) {
                keel_buffer* fresh;
                rc = ext2_block_zero(fs, block, &fresh);
                if (rc) {
                    ext2_free_block(fs, node->ino, block);
                    break;
                }
                keel_bcache_put(fresh);
            }
            *slot = block;
            if (holder)
                ext2_block_dirty(fs, holder);
            add_sectors(fs, node, 1);
            node->last_block = block;
            allocated = 1;
        } else if (!ext2_data_block_ok(fs, block)) {
            rc = EXT2_CORRUPT(fs, node->ino, "logical block %llu: %s pointer %u is outside the data blocks",
                (unsigned long long)logical, k_level_names[depth - level], block);
            break;
        }
        if (level == depth) {
            *block_out = block;
            break;
        }
        keel_bcache_put(holder);
        holder = 0;
        rc = keel_bcache_read(fs->bdev, block, &holder);
        if (rc) {
            holder = 0;
            rc = ext2_io_error(fs, node->ino, rc, k_level_names[depth - level]);
            break;
        }
        slot = (uint32_t*)holder->data + path[level + 1];
    }
    keel_bcache_put(holder);
    if (allocated)
        ext2_write_inode(fs, node);
    return rc;
}

/* Frees the blocks of the subtree at *slot (depth 0: a data block) from
 * logical offset `start` within it; the subtree's own block goes too when
 * start is 0. */
static int free_tree(
    struct ext2_fs* fs, struct ext2_node* node, uint32_t* slot, int depth, uint64_t start, keel_buffer* holder)
{
    uint32_t block = *slot;
    if (block == 0)
        return 0;
    if (!ext2_data_block_ok(fs, block)) {
        int rc = EXT2_CORRUPT(
            fs, node->ino, "%s pointer %u is outside the data blocks (dropped)", k_level_names[depth], block);
        *slot = 0;
        if (holder)
            ext2_block_dirty(fs, holder);
        return rc;
    }
    int rc = 0;
    if (depth > 0) {
        keel_buffer* buffer;
        rc = keel_bcache_read(fs->bdev, block, &buffer);
        if (rc)
            return ext2_io_error(fs, node->ino, rc, k_level_names[depth]);
        uint64_t per_child = 1ull << (fs->addr_log * (uint32_t)(depth - 1));
        uint32_t* slots = (uint32_t*)buffer->data;
        for (uint64_t i = start / per_child; i < (1ull << fs->addr_log); i++) {
            uint64_t child_start = i == start / per_child ? start % per_child : 0;
            int child = free_tree(fs, node, &slots[i], depth - 1, child_start, buffer);
            if (child && !rc)
                rc = child;
            if (fs->readonly)
                break;
        }
        keel_bcache_put(buffer);
        if (start != 0 || fs->readonly)
            return rc;
    }
    int freed = ext2_free_block(fs, node->ino, block);
    *slot = 0;
    if (holder)
        ext2_block_dirty(fs, holder);
    if (!freed)
        add_sectors(fs, node, -1);
    return rc ? rc : freed;
}

/* Frees the tree at i_block[slot] from logical offset `start` within it,
 * keeping the first error in *rc. The value says whether to stop: only
 * when an error made the filesystem read-only, so that a bad pointer in
 * one slot does not leave the other slots' blocks allocated. */
static int free_slot(struct ext2_fs* fs, struct ext2_node* node, uint32_t slot, int depth, uint64_t start, int* rc)
{
    int freed = free_tree(fs, node, &node->raw.i_block[slot], depth, start, 0);
    if (freed && !*rc)
        *rc = freed;
    return fs->readonly;
}

int ext2_free_blocks_from(struct ext2_fs* fs, struct ext2_node* node, uint64_t first)
{
    int rc = 0;
    int stop = 0;
    for (uint64_t i = first; i < EXT2_NDIR_BLOCKS && !stop; i++)
        stop = free_slot(fs, node, (uint32_t)i, 0, 0, &rc);
    uint64_t base = EXT2_NDIR_BLOCKS;
    for (int depth = 1; depth <= 3 && !stop; depth++) {
        uint64_t span = 1ull << (fs->addr_log * (uint32_t)depth);
        if (first < base + span)
            stop = free_slot(
                fs, node, EXT2_IND_BLOCK + (uint32_t)depth - 1, depth, first > base ? first - base : 0, &rc);
        base += span;
    }
    if (first == 0)
        node->last_block = 0;
    int written = ext2_write_inode(fs, node);
    return rc ? rc : written;
}

/* ---- releasing */

static int has_data_blocks(const struct ext2_fs* fs, const struct ext2_node* node)
{
    uint32_t type = ext2_mode_type(node);
    if (type == KEEL_S_IFREG || type == KEEL_S_IFDIR)
        return 1;
    /* a slow symlink, whatever its length; a fast one keeps its target in i_block */
    return type == KEEL_S_IFLNK && !ext2_symlink_is_fast(fs, node);
}

/* The extended-attribute block is shared by reference count. */
static void release_xattr_block(struct ext2_fs* fs, struct ext2_node* node)
{
    uint32_t block = node->raw.i_file_acl;
    if (!block)
        return;
    keel_buffer* buffer;
    if (keel_bcache_read(fs->bdev, block, &buffer)) {
        ext2_io_report(fs, node->ino, -KEEL_EIO, "the extended attribute block");
        return;
    }
    struct ext2_xattr_header header;
    ext2_copy(&header, buffer->data, sizeof(header));
    if (header.h_magic != EXT2_XATTR_MAGIC || header.h_blocks != 1 || header.h_refcount == 0) {
        keel_bcache_put(buffer);
        (void)EXT2_CORRUPT(fs, node->ino, "extended attribute block %u has a bad header (magic 0x%x, refcount %u)",
            block, header.h_magic, header.h_refcount);
        return;
    }
    header.h_refcount--;
    ext2_copy(buffer->data, &header, sizeof(header));
    ext2_block_dirty(fs, buffer);
    keel_bcache_put(buffer);
    if (header.h_refcount == 0 && ext2_free_block(fs, node->ino, block) == 0)
        add_sectors(fs, node, -1);
    node->raw.i_file_acl = 0;
}

static void release_inode(struct ext2_fs* fs, struct ext2_node* node)
{
    if (has_data_blocks(fs, node))
        ext2_free_blocks_from(fs, node, 0);
    release_xattr_block(fs, node);
    if (fs->readonly)
        return;
    uint32_t now = ext2_now(fs);
    node->raw.i_dtime = now ? now : 1;
    ext2_set_size(node, 0);
    ext2_write_inode(fs, node);
    ext2_free_inode(fs, node->ino, ext2_is_dir(node));
}

void ext2_put_node(struct ext2_fs* fs, struct ext2_node* node)
{
    if (--node->refs > 0)
        return;
    remove_node(fs, node);
    if (node->raw.i_links_count == 0 && !fs->readonly)
        release_inode(fs, node);
    keel_free(node);
}
