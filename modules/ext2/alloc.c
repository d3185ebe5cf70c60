/*
 * Block and inode allocation through the group bitmaps, keeping the group
 * descriptors' and the superblock's counts exact.
 *
 * Placement (docs/ext2.md):
 * - A directory below the root goes to its parent's group while that
 *   group has at least the average share of free inodes and free blocks;
 *   a directory in the root, or one whose parent's group is fuller, goes
 *   to the group with the most free blocks among those with an
 *   above-average share of free inodes, searching from a point that
 *   moves on with each top-level directory: top-level trees spread over
 *   the disk, their contents stay together (Orlov's idea, simplified).
 * - Any other inode goes to its directory's group, else to the next group
 *   with a free inode and a free block, else to any with a free inode.
 * - A block goes at the goal (the block after the file's previous one,
 *   or the start of its inode's group) or the first free one after it in
 *   that group, then in the following groups, wrapping around.
 */
#include "ext2_internal.h"

static uint32_t group_first_block(const struct ext2_fs* fs, uint32_t group)
{
    return fs->first_data_block + group * fs->blocks_per_group;
}

static uint32_t group_block_count(const struct ext2_fs* fs, uint32_t group)
{
    uint32_t first = group_first_block(fs, group);
    uint32_t left = fs->blocks_count - first;
    return left < fs->blocks_per_group ? left : fs->blocks_per_group;
}

int ext2_data_block_ok(const struct ext2_fs* fs, uint32_t block)
{
    if (block < fs->first_data_block || block >= fs->blocks_count)
        return 0;
    uint32_t group = (block - fs->first_data_block) / fs->blocks_per_group;
    uint32_t first = group_first_block(fs, group);
    if (ext2_group_has_super(fs, group) && block < first + 1 + fs->gd_blocks + fs->reserved_gdt)
        return 0;
    const struct ext2_group_desc* gd = ext2_group((struct ext2_fs*)fs, group);
    if (block == gd->bg_block_bitmap || block == gd->bg_inode_bitmap)
        return 0;
    return block < gd->bg_inode_table || block - gd->bg_inode_table >= fs->itable_blocks;
}

/* The first clear bit in [from, limit), or limit. */
static uint32_t find_clear_bit(const uint8_t* bits, uint32_t from, uint32_t limit)
{
    uint32_t bit = from;
    while (bit < limit) {
        if ((bit & 7) == 0 && bits[bit >> 3] == 0xff) {
            bit += 8;
            continue;
        }
        if (!(bits[bit >> 3] & (1u << (bit & 7))))
            return bit;
        bit++;
    }
    return limit;
}

static int test_bit(const uint8_t* bits, uint32_t bit) { return (bits[bit >> 3] >> (bit & 7)) & 1; }
static void set_bit(uint8_t* bits, uint32_t bit) { bits[bit >> 3] |= (uint8_t)(1u << (bit & 7)); }
static void clear_bit(uint8_t* bits, uint32_t bit) { bits[bit >> 3] &= (uint8_t) ~(1u << (bit & 7)); }

static int read_bitmap(struct ext2_fs* fs, uint32_t block, keel_buffer** out)
{
    int rc = keel_bcache_read(fs->bdev, block, out);
    return rc ? ext2_io_error(fs, 0, rc, "a bitmap") : 0;
}

/* Counts never wrap: a corrupt count that is already 0 stays 0. */
static uint32_t add_saturating(uint32_t value, int delta, uint32_t max)
{
    int64_t sum = (int64_t)value + delta;
    return sum < 0 ? 0 : sum > max ? max : (uint32_t)sum;
}

static void count_blocks(struct ext2_fs* fs, uint32_t group, int delta)
{
    struct ext2_group_desc* gd = ext2_group(fs, group);
    gd->bg_free_blocks_count = (uint16_t)add_saturating(gd->bg_free_blocks_count, delta, 0xffff);
    fs->sb->s_free_blocks_count = add_saturating(fs->sb->s_free_blocks_count, delta, fs->blocks_count);
    ext2_group_dirty(fs, group);
    ext2_super_dirty(fs);
}

int ext2_alloc_block(struct ext2_fs* fs, uint32_t ino, uint32_t goal, uint32_t* block_out)
{
    (void)ino;
    if (fs->sb->s_free_blocks_count == 0 || fs->groups == 0)
        return -KEEL_ENOSPC;
    if (goal < fs->first_data_block || goal >= fs->blocks_count)
        goal = fs->first_data_block;
    uint32_t start_group = (goal - fs->first_data_block) / fs->blocks_per_group;
    uint32_t start_bit = (goal - fs->first_data_block) % fs->blocks_per_group;
    /* groups + 1 rounds: the last one covers the start group's bits before the goal */
    for (uint32_t round = 0; round <= fs->groups; round++) {
        uint32_t from = round == 0 ? start_bit : 0;
        if (round == fs->groups && start_bit == 0)
            break;
        uint32_t group = (start_group + round) % fs->groups;
        struct ext2_group_desc* gd = ext2_group(fs, group);
        if (gd->bg_free_blocks_count == 0)
            continue;
        keel_buffer* bitmap;
        int rc = read_bitmap(fs, gd->bg_block_bitmap, &bitmap);
        if (rc)
            return rc;
        uint32_t limit = group_block_count(fs, group);
        uint32_t bit = find_clear_bit(bitmap->data, from, limit);
        while (bit < limit) {
            uint32_t block = group_first_block(fs, group) + bit;
            set_bit(bitmap->data, bit);
            ext2_block_dirty(fs, bitmap);
            count_blocks(fs, group, -1);
            if (ext2_data_block_ok(fs, block)) {
                keel_bcache_put(bitmap);
                *block_out = block;
                return 0;
            }
            /* The bitmap said a block of the group's own structure was
             * free: now it says otherwise, and the search goes on. */
            rc = EXT2_CORRUPT_FS(fs, "group %u: the block bitmap marks metadata block %u free", group, block);
            if (fs->readonly) {
                keel_bcache_put(bitmap);
                return rc;
            }
            bit = find_clear_bit(bitmap->data, bit + 1, limit);
        }
        keel_bcache_put(bitmap);
        if (from == 0) {
            int error = EXT2_CORRUPT_FS(fs, "group %u: bg_free_blocks_count is %u but its bitmap has no free block",
                group, gd->bg_free_blocks_count);
            if (fs->readonly)
                return error;
            count_blocks(fs, group, -(int)gd->bg_free_blocks_count);
        }
    }
    return -KEEL_ENOSPC;
}

int ext2_free_block(struct ext2_fs* fs, uint32_t ino, uint32_t block)
{
    if (!ext2_data_block_ok(fs, block))
        return EXT2_CORRUPT(fs, ino, "freeing block %u, which is not a data block", block);
    uint32_t group = (block - fs->first_data_block) / fs->blocks_per_group;
    uint32_t bit = (block - fs->first_data_block) % fs->blocks_per_group;
    keel_buffer* bitmap;
    int rc = read_bitmap(fs, ext2_group(fs, group)->bg_block_bitmap, &bitmap);
    if (rc)
        return rc;
    if (!test_bit(bitmap->data, bit)) {
        keel_bcache_put(bitmap);
        return EXT2_CORRUPT(fs, ino, "block %u is free already (used twice?)", block);
    }
    clear_bit(bitmap->data, bit);
    ext2_block_dirty(fs, bitmap);
    keel_bcache_put(bitmap);
    count_blocks(fs, group, 1);
    return 0;
}

/* ---- inodes */

static int group_takes(const struct ext2_group_desc* gd, uint32_t min_inodes, uint32_t min_blocks)
{
    return gd->bg_free_inodes_count > 0 && gd->bg_free_inodes_count >= min_inodes
        && gd->bg_free_blocks_count >= min_blocks;
}

static uint32_t choose_group(struct ext2_fs* fs, const struct ext2_node* dir, int is_dir)
{
    uint32_t parent = (dir->ino - 1) / fs->inodes_per_group;
    uint32_t average_inodes = fs->sb->s_free_inodes_count / fs->groups;
    uint32_t average_blocks = fs->sb->s_free_blocks_count / fs->groups;
    if (is_dir) {
        if (dir->ino != EXT2_ROOT_INO && group_takes(ext2_group(fs, parent), average_inodes, average_blocks))
            return parent;
        uint32_t start = dir->ino == EXT2_ROOT_INO ? fs->next_dir_group++ % fs->groups : parent;
        uint32_t best = fs->groups;
        for (uint32_t i = 0; i < fs->groups; i++) {
            uint32_t group = (start + i) % fs->groups;
            const struct ext2_group_desc* gd = ext2_group(fs, group);
            if (!group_takes(gd, average_inodes, 0))
                continue;
            if (best == fs->groups || gd->bg_free_blocks_count > ext2_group(fs, best)->bg_free_blocks_count)
                best = group;
        }
        if (best < fs->groups)
            return best;
    } else {
        for (uint32_t i = 0; i < fs->groups; i++) {
            uint32_t group = (parent + i) % fs->groups;
            if (group_takes(ext2_group(fs, group), 1, 1))
                return group;
        }
    }
    for (uint32_t i = 0; i < fs->groups; i++) {
        uint32_t group = (parent + i) % fs->groups;
        if (ext2_group(fs, group)->bg_free_inodes_count > 0)
            return group;
    }
    return fs->groups;
}

static void count_inodes(struct ext2_fs* fs, uint32_t group, int delta, int is_dir)
{
    struct ext2_group_desc* gd = ext2_group(fs, group);
    gd->bg_free_inodes_count = (uint16_t)add_saturating(gd->bg_free_inodes_count, delta, 0xffff);
    if (is_dir)
        gd->bg_used_dirs_count = (uint16_t)add_saturating(gd->bg_used_dirs_count, -delta, 0xffff);
    fs->sb->s_free_inodes_count = add_saturating(fs->sb->s_free_inodes_count, delta, fs->inodes_count);
    ext2_group_dirty(fs, group);
    ext2_super_dirty(fs);
}

/* Marks inode `bit` of the group in use and counts it; 0: the inode is the
 * caller's. One the bitmap called free that is in use all the same (a node
 * in use has its number, or it has links on the disk: a bitmap write lost
 * in a crash) must not be zeroed and given out: its bit stays set, it is
 * reported, and the value is 1 (take the next one), or the error once the
 * filesystem is read-only. */
static int take_inode(struct ext2_fs* fs, keel_buffer* bitmap, uint32_t group, uint32_t bit, int is_dir)
{
    uint32_t ino = group * fs->inodes_per_group + bit + 1;
    int live_is_dir = 0;
    int live = ext2_inode_live(fs, ino, &live_is_dir);
    if (live < 0)
        return live;
    set_bit(bitmap->data, bit);
    ext2_block_dirty(fs, bitmap);
    count_inodes(fs, group, -1, live ? live_is_dir : is_dir);
    if (!live)
        return 0;
    int rc = EXT2_CORRUPT(fs, ino, "the inode bitmap calls it free, but it is in use: marked in use again");
    return fs->readonly ? rc : 1;
}

int ext2_alloc_inode(struct ext2_fs* fs, const struct ext2_node* dir, uint32_t mode, uint32_t* ino_out)
{
    int is_dir = (mode & KEEL_S_IFMT) == KEEL_S_IFDIR;
    for (uint32_t attempt = 0; attempt < fs->groups; attempt++) {
        if (fs->sb->s_free_inodes_count == 0)
            return -KEEL_ENOSPC;
        uint32_t group = choose_group(fs, dir, is_dir);
        if (group >= fs->groups)
            return -KEEL_ENOSPC;
        struct ext2_group_desc* gd = ext2_group(fs, group);
        keel_buffer* bitmap;
        int rc = read_bitmap(fs, gd->bg_inode_bitmap, &bitmap);
        if (rc)
            return rc;
        uint32_t base = group * fs->inodes_per_group; /* inode base + 1 is bit 0 */
        uint32_t from = fs->first_ino - 1 > base ? fs->first_ino - 1 - base : 0;
        if (from > fs->inodes_per_group)
            from = fs->inodes_per_group;
        for (uint32_t bit = find_clear_bit(bitmap->data, from, fs->inodes_per_group); bit < fs->inodes_per_group;
             bit = find_clear_bit(bitmap->data, bit + 1, fs->inodes_per_group)) {
            rc = take_inode(fs, bitmap, group, bit, is_dir);
            if (rc <= 0) {
                keel_bcache_put(bitmap);
                if (rc == 0)
                    *ino_out = base + bit + 1;
                return rc;
            }
        }
        keel_bcache_put(bitmap);
        if (gd->bg_free_inodes_count == 0)
            continue; /* live inodes its bitmap called free took the rest */
        rc = EXT2_CORRUPT_FS(
            fs, "group %u: bg_free_inodes_count is %u but its inode bitmap is full", group, gd->bg_free_inodes_count);
        if (fs->readonly)
            return rc;
        count_inodes(fs, group, -(int)gd->bg_free_inodes_count, 0);
    }
    return -KEEL_ENOSPC;
}

int ext2_free_inode(struct ext2_fs* fs, uint32_t ino, int is_dir)
{
    if (ino < fs->first_ino || ino > fs->inodes_count)
        return EXT2_CORRUPT(fs, ino, "freeing a reserved or nonexistent inode");
    uint32_t group = (ino - 1) / fs->inodes_per_group;
    uint32_t bit = (ino - 1) % fs->inodes_per_group;
    keel_buffer* bitmap;
    int rc = read_bitmap(fs, ext2_group(fs, group)->bg_inode_bitmap, &bitmap);
    if (rc)
        return rc;
    if (!test_bit(bitmap->data, bit)) {
        keel_bcache_put(bitmap);
        return EXT2_CORRUPT(fs, ino, "the inode is free already in its group's bitmap");
    }
    clear_bit(bitmap->data, bit);
    ext2_block_dirty(fs, bitmap);
    keel_bcache_put(bitmap);
    count_inodes(fs, group, 1, is_dir);
    return 0;
}
