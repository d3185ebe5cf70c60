/*
 * File contents: reads (holes read as zeros, sequential readers read
 * ahead), writes (blocks allocated as they are reached, so files are
 * sparse) and truncation.
 */
#include "ext2_internal.h"

/* Read-ahead: a reader that reads on from where it stopped (or starts at
 * the file's beginning) gets a window beyond its read that doubles from 8
 * blocks up to 128 KiB; one whose reads are larger gets a window of its
 * read's size (at most 1 MiB), so that the next read's blocks are on their
 * way while this one copies. A reader that jumps around gets only the
 * blocks it asked for, started together. */
#define READAHEAD_FIRST 8u
#define READAHEAD_MAX_BYTES (128u * 1024u)
#define READAHEAD_LARGEST_BYTES (1024u * 1024u)

/* Starts reading logical blocks [first, first + count) in runs of
 * consecutive device blocks; holes and the end of the file stop nothing. */
static void read_ahead(struct ext2_fs* fs, struct ext2_node* node, uint64_t first, uint32_t count)
{
    uint64_t last_block = (node->size + fs->block_size - 1) >> fs->block_log;
    uint32_t run_start = 0, run_length = 0;
    for (uint64_t index = first; index < first + count && index < last_block; index++) {
        uint32_t block;
        if (ext2_bmap(fs, node, index, 0, &block) || block == 0)
            block = 0;
        if (run_length && block == run_start + run_length) {
            run_length++;
            continue;
        }
        if (run_length)
            keel_bcache_readahead(fs->bdev, run_start, run_length);
        run_start = block;
        run_length = block ? 1 : 0;
    }
    if (run_length)
        keel_bcache_readahead(fs->bdev, run_start, run_length);
}

/* What one read asks to have in flight: its own blocks [next, end) and
 * the window past them, started in chunks as the copy moves on. */
struct read_plan {
    uint64_t next; /* the first logical block not started yet */
    uint64_t end;
    uint32_t window;
};

#define READAHEAD_CHUNK 256u /* keel_bcache_readahead's most per call */

static struct read_plan plan_read_ahead(struct ext2_fs* fs, struct ext2_node* node, uint64_t first, uint64_t last)
{
    uint64_t wanted = last - first + 1;
    uint32_t max_window = READAHEAD_MAX_BYTES >> fs->block_log;
    uint32_t largest = READAHEAD_LARGEST_BYTES >> fs->block_log;
    if (wanted > max_window)
        max_window = wanted > largest ? largest : (uint32_t)wanted;
    if (first == node->ra_next && first != 0) {
        uint64_t window = node->ra_window ? node->ra_window * 2 : READAHEAD_FIRST;
        if (window < wanted)
            window = wanted;
        node->ra_window = window > max_window ? max_window : (uint32_t)window;
    } else if (first == 0) {
        /* From the start of the file: a reader that reads on, likely. */
        uint64_t window = wanted > READAHEAD_FIRST ? wanted : READAHEAD_FIRST;
        node->ra_window = window > max_window ? max_window : (uint32_t)window;
    } else {
        node->ra_window = 0;
    }
    node->ra_next = (uint32_t)(last + 1);
    struct read_plan plan = { first, last + 1 + node->ra_window, node->ra_window };
    return plan;
}

/* Before reading logical block `index`: start the next chunk once fewer
 * than a window's blocks past it are on their way. The block about to be
 * read, alone, is read by keel_bcache_read itself. */
static void keep_reading_ahead(struct ext2_fs* fs, struct ext2_node* node, struct read_plan* plan, uint64_t index)
{
    if (plan->next >= plan->end || plan->next > index + plan->window)
        return;
    uint64_t count = plan->end - plan->next;
    if (count > READAHEAD_CHUNK)
        count = READAHEAD_CHUNK;
    if (count > 1 || plan->next != index)
        read_ahead(fs, node, plan->next, (uint32_t)count);
    plan->next += count;
}

/* atime as Linux's relatime: only when it is older than the last change
 * or a day old, so reading does not write the inode each time. */
static void note_access(struct ext2_fs* fs, struct ext2_node* node)
{
    if (fs->readonly)
        return;
    uint32_t now = ext2_now(fs);
    struct ext2_inode* raw = &node->raw;
    if (raw->i_atime <= raw->i_mtime || raw->i_atime <= raw->i_ctime || now - raw->i_atime >= 24 * 3600) {
        raw->i_atime = now;
        ext2_write_inode(fs, node);
    }
}

int ext2_read(struct ext2_fs* fs, struct ext2_node* node, uint64_t offset, void* buffer, size_t size, size_t* done)
{
    *done = 0;
    if (offset >= node->size || size == 0)
        return 0;
    if (size > node->size - offset)
        size = (size_t)(node->size - offset);
    uint64_t first = offset >> fs->block_log;
    uint64_t last = (offset + size - 1) >> fs->block_log;
    struct read_plan plan = plan_read_ahead(fs, node, first, last);
    uint8_t* out = (uint8_t*)buffer;
    while (*done < size) {
        uint64_t position = offset + *done;
        keep_reading_ahead(fs, node, &plan, position >> fs->block_log);
        uint32_t within = (uint32_t)(position & (fs->block_size - 1));
        size_t chunk = fs->block_size - within;
        if (chunk > size - *done)
            chunk = size - *done;
        uint32_t block;
        int rc = ext2_bmap(fs, node, position >> fs->block_log, 0, &block);
        if (rc)
            return *done ? 0 : rc;
        if (block == 0) {
            ext2_zero(out + *done, chunk);
        } else {
            keel_buffer* data;
            rc = keel_bcache_read(fs->bdev, block, &data);
            if (rc)
                return *done ? 0 : ext2_io_error(fs, node->ino, rc, "file data");
            ext2_copy(out + *done, data->data + within, chunk);
            keel_bcache_put(data);
        }
        *done += chunk;
    }
    note_access(fs, node);
    return 0;
}

/* Zeroes the bytes of the block holding `position` from there to its end
 * (past the end of a file they must read as zeros when it grows again). */
static int zero_tail(struct ext2_fs* fs, struct ext2_node* node, uint64_t position)
{
    uint32_t within = (uint32_t)(position & (fs->block_size - 1));
    if (within == 0)
        return 0;
    uint32_t block;
    int rc = ext2_bmap(fs, node, position >> fs->block_log, 0, &block);
    if (rc || block == 0)
        return rc;
    keel_buffer* data;
    rc = keel_bcache_read(fs->bdev, block, &data);
    if (rc)
        return ext2_io_error(fs, node->ino, rc, "file data");
    ext2_zero(data->data + within, fs->block_size - within);
    ext2_block_dirty(fs, data);
    keel_bcache_put(data);
    return 0;
}

/* Files past 2 GiB need the large_file feature; revision 0 has none. */
static int allow_size(struct ext2_fs* fs, uint64_t size)
{
    if (size <= 0x7fffffffull)
        return 0;
    if (fs->rev == EXT2_GOOD_OLD_REV)
        return -KEEL_EFBIG;
    if (!(fs->sb->s_feature_ro_compat & EXT2_FEATURE_RO_COMPAT_LARGE_FILE)) {
        fs->sb->s_feature_ro_compat |= EXT2_FEATURE_RO_COMPAT_LARGE_FILE;
        ext2_super_dirty(fs);
    }
    return 0;
}

int ext2_write(
    struct ext2_fs* fs, struct ext2_node* node, uint64_t offset, const void* buffer, size_t size, size_t* done)
{
    *done = 0;
    int rc = ext2_check_writable(fs);
    if (rc)
        return rc;
    if (size == 0)
        return 0;
    uint64_t max = ext2_max_size(fs);
    if (offset >= max)
        return -KEEL_EFBIG;
    if (size > max - offset)
        size = (size_t)(max - offset);
    rc = allow_size(fs, offset + size);
    if (rc)
        return rc;
    if (offset > node->size) {
        rc = zero_tail(fs, node, node->size);
        if (rc)
            return rc;
    }
    const uint8_t* in = (const uint8_t*)buffer;
    while (*done < size) {
        uint64_t position = offset + *done;
        uint32_t within = (uint32_t)(position & (fs->block_size - 1));
        size_t chunk = fs->block_size - within;
        if (chunk > size - *done)
            chunk = size - *done;
        uint32_t had;
        rc = ext2_bmap(fs, node, position >> fs->block_log, 0, &had);
        uint32_t block = had;
        if (!rc && !had)
            rc = ext2_bmap(fs, node, position >> fs->block_log, 1, &block);
        if (rc)
            break;
        keel_buffer* data;
        /* A new block, or one overwritten whole, need not be read. */
        if (!had || chunk == fs->block_size)
            rc = ext2_block_zero(fs, block, &data);
        else if ((rc = keel_bcache_read(fs->bdev, block, &data)) != 0)
            rc = ext2_io_error(fs, node->ino, rc, "file data");
        if (rc)
            break;
        ext2_copy(data->data + within, in + *done, chunk);
        ext2_block_dirty(fs, data);
        keel_bcache_put(data);
        *done += chunk;
    }
    if (*done == 0)
        return rc;
    if (offset + *done > node->size)
        ext2_set_size(node, offset + *done);
    ext2_touch(fs, node, 1);
    ext2_write_inode(fs, node);
    return 0;
}

int ext2_truncate(struct ext2_fs* fs, struct ext2_node* node, uint64_t size)
{
    int rc = ext2_check_writable(fs);
    if (rc)
        return rc;
    if (size > ext2_max_size(fs))
        return -KEEL_EFBIG;
    rc = allow_size(fs, size);
    if (rc)
        return rc;
    if (size < node->size) {
        rc = ext2_free_blocks_from(fs, node, (size + fs->block_size - 1) >> fs->block_log);
        if (!rc)
            rc = zero_tail(fs, node, size);
    } else if (size > node->size) {
        rc = zero_tail(fs, node, node->size);
    }
    if (rc)
        return rc;
    ext2_set_size(node, size);
    ext2_touch(fs, node, 1);
    return ext2_write_inode(fs, node);
}
