/*
 * ext2 superblocks: mount (options, the superblock and group descriptors
 * checked field by field, features, state), unmount, remount, statfs, and
 * what an error does (errors=).
 */
#include "ext2_internal.h"

#define NS_PER_SECOND 1000000000ull

uint32_t ext2_now(const struct ext2_fs* fs)
{
    uint64_t now = fs->time_base + (keel_monotonic_ns() - fs->mounted_ns) / NS_PER_SECOND;
    return now > 0xffffffffu ? 0xffffffffu : (uint32_t)now;
}

/* The latest of the superblock's times. A deleted inode's i_dtime must
 * not fall below s_inodes_count (e2fsck reads such a value as a link of
 * the orphan list), so the clock never starts below that either. */
static void start_clock(struct ext2_fs* fs)
{
    const struct ext2_super_block* sb = fs->sb;
    uint32_t base = sb->s_wtime > sb->s_mtime ? sb->s_wtime : sb->s_mtime;
    if (sb->s_lastcheck > base)
        base = sb->s_lastcheck;
    if (base < fs->inodes_count)
        base = fs->inodes_count;
    fs->time_base = base;
    fs->mounted_ns = keel_monotonic_ns();
}

static int name_equals(const char* text, size_t length, const char* word)
{
    size_t i = 0;
    for (; i < length && word[i]; i++) {
        if (text[i] != word[i])
            return 0;
    }
    return i == length && word[i] == '\0';
}

/* ---- errors */

static void panic_now(struct ext2_fs* fs)
{
    char message[80] = "ext2 (";
    size_t at = 6;
    for (const char* c = fs->device; *c && at < 40; c++)
        message[at++] = *c;
    const char* tail = "): panic forced after error";
    for (const char* c = tail; *c; c++)
        message[at++] = *c;
    message[at] = '\0';
    keel_panic(message);
}

int ext2_report(struct ext2_fs* fs, int error)
{
    fs->had_error = 1;
    if (fs->sb_buffer && fs->state_cleared) {
        fs->sb->s_state |= EXT2_ERROR_FS;
        ext2_super_dirty(fs);
    }
    if (fs->errors == EXT2_ERRORS_PANIC)
        panic_now(fs);
    if (fs->errors == EXT2_ERRORS_RO && !fs->readonly) {
        keel_logf(KEEL_LOG_ERR, "ext2 (%s): remounting read-only (errors=remount-ro)", fs->device);
        fs->readonly = 1;
        keel_bcache_sync(fs->bdev);
    }
    return error;
}

void ext2_io_report(struct ext2_fs* fs, uint32_t ino, int error, const char* what)
{
    if (error == -KEEL_ENOMEM)
        return;
    if (ino)
        keel_logf(KEEL_LOG_ERR, "ext2 (%s): inode %u: reading %s failed (error %d)", fs->device, ino, what, -error);
    else
        keel_logf(KEEL_LOG_ERR, "ext2 (%s): reading %s failed (error %d)", fs->device, what, -error);
    ext2_report(fs, error);
}

int ext2_check_writable(struct ext2_fs* fs) { return fs->readonly ? -KEEL_EROFS : 0; }

void ext2_super_dirty(struct ext2_fs* fs) { ext2_block_dirty(fs, fs->sb_buffer); }

struct ext2_group_desc* ext2_group(struct ext2_fs* fs, uint32_t group)
{
    uint32_t per_block = fs->block_size / sizeof(struct ext2_group_desc);
    return (struct ext2_group_desc*)fs->gd_buffers[group / per_block]->data + group % per_block;
}

void ext2_group_dirty(struct ext2_fs* fs, uint32_t group)
{
    ext2_block_dirty(fs, fs->gd_buffers[group / (fs->block_size / sizeof(struct ext2_group_desc))]);
}

static int is_power_of(uint32_t value, uint32_t base)
{
    while (value > 1 && value % base == 0)
        value /= base;
    return value == 1;
}

static int has_super(uint32_t ro_compat, uint32_t group)
{
    if (group <= 1 || !(ro_compat & EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER))
        return 1;
    return (group & 1) && (is_power_of(group, 3) || is_power_of(group, 5) || is_power_of(group, 7));
}

int ext2_group_has_super(const struct ext2_fs* fs, uint32_t group)
{
    return has_super(fs->sb->s_feature_ro_compat, group);
}

/* ---- options */

struct ext2_options {
    int readonly;
    int errors;
    uint32_t sb; /* 1 KiB units; 0: the primary superblock */
    int sb_given;
};

static int parse_number(const char* text, size_t length, uint32_t* out)
{
    uint64_t value = 0;
    if (length == 0 || length > 10)
        return 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
        value = value * 10 + (uint64_t)(text[i] - '0');
    }
    if (value > 0xffffffffu)
        return 0;
    *out = (uint32_t)value;
    return 1;
}

static int parse_options(const char* data, struct ext2_options* options, int remount)
{
    if (!data)
        return 0;
    const char* cursor = data;
    while (*cursor) {
        const char* end = cursor;
        while (*end && *end != ',')
            end++;
        size_t length = (size_t)(end - cursor);
        const char* value = cursor;
        while (value < end && *value != '=')
            value++;
        size_t key_length = (size_t)(value - cursor);
        size_t value_length = value < end ? (size_t)(end - value - 1) : 0;
        if (value < end)
            value++;
        if (length == 0) {
            /* ",," or a trailing comma */
        } else if (name_equals(cursor, length, "ro")) {
            options->readonly = 1;
        } else if (name_equals(cursor, length, "rw")) {
            options->readonly = 0;
        } else if (name_equals(cursor, key_length, "errors") && value_length) {
            if (name_equals(value, value_length, "continue"))
                options->errors = EXT2_ERRORS_CONTINUE;
            else if (name_equals(value, value_length, "remount-ro"))
                options->errors = EXT2_ERRORS_RO;
            else if (name_equals(value, value_length, "panic"))
                options->errors = EXT2_ERRORS_PANIC;
            else {
                keel_logf(KEEL_LOG_ERR,
                    "ext2: bad value '%.*s' for mount option 'errors' (continue, remount-ro or panic)",
                    (int)value_length, value);
                return -KEEL_EINVAL;
            }
        } else if (name_equals(cursor, key_length, "sb") && value_length) {
            if (!parse_number(value, value_length, &options->sb) || options->sb == 0) {
                keel_logf(KEEL_LOG_ERR,
                    "ext2: bad value '%.*s' for mount option 'sb' (a superblock's place in 1 KiB units)",
                    (int)value_length, value);
                return -KEEL_EINVAL;
            }
            if (remount) {
                keel_logf(KEEL_LOG_ERR, "ext2: mount option 'sb' cannot change on remount");
                return -KEEL_EINVAL;
            }
            options->sb_given = 1;
        } else {
            keel_logf(KEEL_LOG_ERR, "ext2: unknown mount option '%.*s'", (int)length, cursor);
            return -KEEL_EINVAL;
        }
        cursor = *end ? end + 1 : end;
    }
    return 0;
}

/* ---- the superblock */

static const struct {
    uint32_t mask;
    const char* name;
} k_incompat_names[] = {
    { 0x0001, "compression" },
    { 0x0002, "filetype" },
    { 0x0004, "needs_recovery" },
    { 0x0008, "journal_dev" },
    { 0x0010, "meta_bg" },
    { 0x0040, "extent" },
    { 0x0080, "64bit" },
    { 0x0100, "mmp" },
    { 0x0200, "flex_bg" },
    { 0x0400, "ea_inode" },
    { 0x1000, "dirdata" },
    { 0x2000, "metadata_csum_seed" },
    { 0x4000, "large_dir" },
    { 0x8000, "inline_data" },
    { 0x10000, "encrypt" },
    { 0x20000, "casefold" },
}, k_ro_compat_names[] = {
    { 0x0001, "sparse_super" },
    { 0x0002, "large_file" },
    { 0x0004, "btree_dir" },
    { 0x0008, "huge_file" },
    { 0x0010, "uninit_bg" },
    { 0x0020, "dir_nlink" },
    { 0x0040, "extra_isize" },
    { 0x0080, "snapshot" },
    { 0x0100, "quota" },
    { 0x0200, "bigalloc" },
    { 0x0400, "metadata_csum" },
    { 0x0800, "replica" },
    { 0x1000, "read-only" },
    { 0x2000, "project" },
    { 0x4000, "shared_blocks" },
    { 0x8000, "verity" },
    { 0x10000, "orphan_present" },
};

/* "extent, 64bit, flex_bg" for the bits of `features` (names from the
 * table, hex for bits it lacks). */
static void name_features(char* out, size_t size, uint32_t features, int incompat)
{
    size_t at = 0;
    size_t count = incompat ? sizeof(k_incompat_names) / sizeof(k_incompat_names[0])
                            : sizeof(k_ro_compat_names) / sizeof(k_ro_compat_names[0]);
    for (uint32_t bit = 1; bit && at + 24 < size; bit <<= 1) {
        if (!(features & bit))
            continue;
        const char* name = 0;
        for (size_t i = 0; i < count; i++) {
            uint32_t mask = incompat ? k_incompat_names[i].mask : k_ro_compat_names[i].mask;
            if (mask == bit)
                name = incompat ? k_incompat_names[i].name : k_ro_compat_names[i].name;
        }
        if (at) {
            out[at++] = ',';
            out[at++] = ' ';
        }
        if (name) {
            while (*name)
                out[at++] = *name++;
        } else {
            static const char hex[] = "0123456789abcdef";
            const char* prefix = "unknown 0x";
            while (*prefix)
                out[at++] = *prefix++;
            int started = 0;
            for (int shift = 28; shift >= 0; shift -= 4) {
                unsigned digit = (bit >> shift) & 15;
                if (digit || started || shift == 0) {
                    out[at++] = hex[digit];
                    started = 1;
                }
            }
        }
    }
    out[at] = '\0';
}

#define SB_BAD(fs, ...) (keel_logf(KEEL_LOG_ERR, "ext2 (%s): superblock: " __VA_ARGS__), -KEEL_EUCLEAN)

/* Checks every field the driver relies on and derives the geometry. */
static int check_super(struct ext2_fs* fs, const struct ext2_super_block* sb, uint64_t device_bytes, int* readonly)
{
    if (sb->s_magic != EXT2_SUPER_MAGIC) {
        keel_logf(KEEL_LOG_ERR, "ext2 (%s): no ext2 filesystem (magic 0x%04x, not 0xef53)", fs->device, sb->s_magic);
        return -KEEL_EINVAL;
    }
    if (sb->s_log_block_size > EXT2_MAX_BLOCK_LOG - EXT2_MIN_BLOCK_LOG) {
        keel_logf(KEEL_LOG_ERR, "ext2 (%s): block size 2^%u KiB is not supported (1 to 4 KiB)", fs->device,
            sb->s_log_block_size);
        return -KEEL_EINVAL;
    }
    fs->block_log = EXT2_MIN_BLOCK_LOG + sb->s_log_block_size;
    fs->block_size = 1u << fs->block_log;
    fs->addr_log = fs->block_log - 2;
    if (sb->s_rev_level > EXT2_DYNAMIC_REV) {
        keel_logf(KEEL_LOG_WARNING, "ext2 (%s): revision %u is newer than 1: read-only", fs->device, sb->s_rev_level);
        *readonly = 1;
    }
    fs->rev = sb->s_rev_level;
    if (sb->s_log_frag_size != sb->s_log_block_size)
        return SB_BAD(fs, "s_log_frag_size %u differs from s_log_block_size %u", fs->device, sb->s_log_frag_size,
            sb->s_log_block_size);
    if (fs->rev == EXT2_GOOD_OLD_REV) {
        fs->inode_size = EXT2_GOOD_OLD_INODE_SIZE;
        fs->first_ino = EXT2_GOOD_OLD_FIRST_INO;
    } else {
        fs->inode_size = sb->s_inode_size;
        fs->first_ino = sb->s_first_ino;
        if (fs->inode_size < EXT2_GOOD_OLD_INODE_SIZE || fs->inode_size > fs->block_size
            || (fs->inode_size & (fs->inode_size - 1)))
            return SB_BAD(
                fs, "s_inode_size %u is not a power of two from 128 to the block size", fs->device, fs->inode_size);
    }
    uint32_t bits_per_block = fs->block_size * 8;
    fs->blocks_per_group = sb->s_blocks_per_group;
    fs->inodes_per_group = sb->s_inodes_per_group;
    fs->blocks_count = sb->s_blocks_count;
    fs->first_data_block = sb->s_first_data_block;
    fs->inodes_count = sb->s_inodes_count;
    if (fs->blocks_per_group < 8 || fs->blocks_per_group > bits_per_block || fs->blocks_per_group % 8)
        return SB_BAD(fs, "s_blocks_per_group %u is not a multiple of 8 up to %u", fs->device, fs->blocks_per_group,
            bits_per_block);
    uint32_t inodes_per_block = fs->block_size / fs->inode_size;
    if (fs->inodes_per_group == 0 || fs->inodes_per_group > bits_per_block || fs->inodes_per_group % inodes_per_block)
        return SB_BAD(fs, "s_inodes_per_group %u is not a multiple of %u up to %u", fs->device, fs->inodes_per_group,
            inodes_per_block, bits_per_block);
    fs->itable_blocks = fs->inodes_per_group / inodes_per_block;
    uint32_t expected_first = fs->block_size == 1024 ? 1 : 0;
    if (fs->first_data_block != expected_first)
        return SB_BAD(fs, "s_first_data_block %u is not %u", fs->device, fs->first_data_block, expected_first);
    uint64_t device_blocks = device_bytes >> fs->block_log;
    if (fs->blocks_count <= fs->first_data_block + 1)
        return SB_BAD(fs, "s_blocks_count %u is too small", fs->device, fs->blocks_count);
    if (fs->blocks_count > device_blocks)
        return SB_BAD(fs, "s_blocks_count %u exceeds the device (%llu blocks of %u bytes)", fs->device,
            fs->blocks_count, (unsigned long long)device_blocks, fs->block_size);
    fs->groups = (fs->blocks_count - fs->first_data_block + fs->blocks_per_group - 1) / fs->blocks_per_group;
    if ((uint64_t)fs->groups * fs->inodes_per_group != fs->inodes_count)
        return SB_BAD(fs, "s_inodes_count %u is not %u groups of %u", fs->device, fs->inodes_count, fs->groups,
            fs->inodes_per_group);
    if (fs->first_ino < EXT2_GOOD_OLD_FIRST_INO || fs->first_ino >= fs->inodes_count)
        return SB_BAD(fs, "s_first_ino %u is out of range (11 to %u)", fs->device, fs->first_ino, fs->inodes_count - 1);
    /* In 64 bits: 2^27 groups of descriptors wrap 32 bits to almost nothing. */
    uint64_t gd_blocks = ((uint64_t)fs->groups * sizeof(struct ext2_group_desc) + fs->block_size - 1) >> fs->block_log;
    if (gd_blocks > fs->blocks_per_group)
        return SB_BAD(fs, "%u groups need %llu blocks of descriptors, more than a group's %u", fs->device, fs->groups,
            (unsigned long long)gd_blocks, fs->blocks_per_group);
    fs->gd_blocks = (uint32_t)gd_blocks;
    fs->reserved_gdt = 0;
    if (fs->rev >= EXT2_DYNAMIC_REV && (sb->s_feature_compat & 0x0010u /* resize_inode */)) {
        uint16_t reserved;
        ext2_copy(&reserved, &sb->s_rest[6], sizeof(reserved)); /* s_reserved_gdt_blocks at 206 */
        fs->reserved_gdt = reserved;
        if (fs->reserved_gdt > fs->block_size / 4)
            return SB_BAD(fs, "s_reserved_gdt_blocks %u exceeds %u", fs->device, fs->reserved_gdt, fs->block_size / 4);
    }
    if (1 + fs->gd_blocks + fs->reserved_gdt + 2 + fs->itable_blocks > fs->blocks_per_group)
        return SB_BAD(fs, "groups of %u blocks cannot hold their own metadata", fs->device, fs->blocks_per_group);
    return 0;
}

static int check_features(struct ext2_fs* fs, const struct ext2_super_block* sb, int* readonly)
{
    char names[256];
    if (fs->rev == EXT2_GOOD_OLD_REV)
        return 0;
    uint32_t incompat = sb->s_feature_incompat & ~EXT2_SUPPORTED_INCOMPAT;
    if (incompat) {
        name_features(names, sizeof(names), incompat, 1);
        keel_logf(KEEL_LOG_ERR, "ext2 (%s): unsupported incompatible features: %s; not mounted", fs->device, names);
        return -KEEL_EINVAL;
    }
    uint32_t ro_compat = sb->s_feature_ro_compat & ~EXT2_SUPPORTED_RO_COMPAT;
    if (ro_compat) {
        name_features(names, sizeof(names), ro_compat, 0);
        keel_logf(
            KEEL_LOG_WARNING, "ext2 (%s): unsupported read-only-compatible features: %s; read-only", fs->device, names);
        *readonly = 1;
    }
    fs->filetype = (sb->s_feature_incompat & EXT2_FEATURE_INCOMPAT_FILETYPE) != 0;
    return 0;
}

/* The group's blocks: [first, last]. */
static void group_range(const struct ext2_fs* fs, uint32_t group, uint32_t* first, uint32_t* last)
{
    *first = fs->first_data_block + group * fs->blocks_per_group;
    uint64_t end = (uint64_t)*first + fs->blocks_per_group - 1;
    *last = end >= fs->blocks_count ? fs->blocks_count - 1 : (uint32_t)end;
}

#define GD_BAD(fs, group, ...) (keel_logf(KEEL_LOG_ERR, "ext2 (%s): group %u: " __VA_ARGS__), -KEEL_EUCLEAN)

static int check_groups(struct ext2_fs* fs)
{
    uint64_t free_blocks = 0, free_inodes = 0;
    for (uint32_t g = 0; g < fs->groups; g++) {
        const struct ext2_group_desc* gd = ext2_group(fs, g);
        uint32_t first, last;
        group_range(fs, g, &first, &last);
        uint32_t data_start = first + (ext2_group_has_super(fs, g) ? 1 + fs->gd_blocks + fs->reserved_gdt : 0);
        if (gd->bg_block_bitmap < data_start || gd->bg_block_bitmap > last)
            return GD_BAD(fs, g, "bg_block_bitmap %u is outside the group's blocks %u to %u", fs->device, g,
                gd->bg_block_bitmap, data_start, last);
        if (gd->bg_inode_bitmap < data_start || gd->bg_inode_bitmap > last
            || gd->bg_inode_bitmap == gd->bg_block_bitmap)
            return GD_BAD(fs, g, "bg_inode_bitmap %u is outside the group's blocks %u to %u or on the block bitmap",
                fs->device, g, gd->bg_inode_bitmap, data_start, last);
        uint32_t table = gd->bg_inode_table;
        if (table < data_start || table > last || last - table + 1 < fs->itable_blocks)
            return GD_BAD(fs, g, "bg_inode_table %u (%u blocks) is outside the group's blocks %u to %u", fs->device, g,
                table, fs->itable_blocks, data_start, last);
        uint32_t table_end = table + fs->itable_blocks;
        if ((gd->bg_block_bitmap >= table && gd->bg_block_bitmap < table_end)
            || (gd->bg_inode_bitmap >= table && gd->bg_inode_bitmap < table_end))
            return GD_BAD(fs, g, "a bitmap lies inside the inode table at %u", fs->device, g, table);
        if (gd->bg_free_blocks_count > last - first + 1 || gd->bg_free_inodes_count > fs->inodes_per_group
            || gd->bg_used_dirs_count > fs->inodes_per_group)
            return GD_BAD(fs, g, "counts (free blocks %u, free inodes %u, directories %u) exceed the group", fs->device,
                g, gd->bg_free_blocks_count, gd->bg_free_inodes_count, gd->bg_used_dirs_count);
        free_blocks += gd->bg_free_blocks_count;
        free_inodes += gd->bg_free_inodes_count;
        fs->overhead += data_start - first + 2 + fs->itable_blocks;
    }
    fs->overhead += fs->first_data_block;
    /* The descriptors are what allocation keeps exact; the superblock's
     * totals follow them (as Linux does). */
    if (fs->sb->s_free_blocks_count != free_blocks || fs->sb->s_free_inodes_count != free_inodes) {
        fs->sb->s_free_blocks_count = (uint32_t)free_blocks;
        fs->sb->s_free_inodes_count = (uint32_t)free_inodes;
        fs->counts_fixed = 1;
    }
    return 0;
}

/* The superblock at byte `offset` (sb=) must be one its own geometry puts
 * there: the primary, or the backup at the start of a group that has one.
 * Anywhere else, the blocks of the superblock and the descriptors in use
 * would count as data blocks (ext2_data_block_ok), free to be given to a
 * file and overwritten. */
static int check_super_place(struct ext2_fs* fs, const struct ext2_super_block* sb, uint64_t offset)
{
    uint64_t block = offset >> fs->block_log;
    uint64_t in_block = offset & (fs->block_size - 1);
    uint64_t from_first = block - fs->first_data_block;
    uint64_t group = from_first / fs->blocks_per_group;
    int placed = block >= fs->first_data_block && from_first % fs->blocks_per_group == 0 && group < fs->groups
        && has_super(sb->s_feature_ro_compat, (uint32_t)group)
        && in_block == (group == 0 ? (EXT2_SUPER_OFFSET & (fs->block_size - 1)) : 0);
    if (placed)
        return 0;
    keel_logf(KEEL_LOG_ERR, "ext2 (%s): sb=%llu: block %llu is not where any group's superblock lies (%u + n * %u)",
        fs->device, (unsigned long long)(offset >> 10), (unsigned long long)block, fs->first_data_block,
        fs->blocks_per_group);
    return -KEEL_EINVAL;
}

static void put_buffers(struct ext2_fs* fs)
{
    if (fs->gd_buffers) {
        for (uint32_t i = 0; i < fs->gd_blocks; i++)
            keel_bcache_put(fs->gd_buffers[i]);
        keel_free(fs->gd_buffers);
        fs->gd_buffers = 0;
    }
    keel_bcache_put(fs->sb_buffer);
    fs->sb_buffer = 0;
    fs->sb = 0;
}

/* Reads and checks the superblock at byte `offset` and the descriptors
 * after it, and holds their blocks. */
static int load(struct ext2_fs* fs, uint64_t offset, int* readonly)
{
    keel_bdev_info info;
    keel_bdev_get_info(fs->bdev, &info);
    uint32_t probe_size = info.sector_size > 1024 ? info.sector_size : 1024;
    int rc = keel_bdev_set_block_size(fs->bdev, probe_size);
    if (rc)
        return rc;
    keel_buffer* probe;
    rc = keel_bcache_read(fs->bdev, offset / probe_size, &probe);
    if (rc)
        return ext2_io_error(fs, 0, rc, "the superblock");
    struct ext2_super_block* copy = (struct ext2_super_block*)keel_alloc(sizeof(*copy));
    if (!copy) {
        keel_bcache_put(probe);
        return -KEEL_ENOMEM;
    }
    ext2_copy(copy, probe->data + offset % probe_size, sizeof(*copy));
    keel_bcache_put(probe);
    rc = check_super(fs, copy, info.size, readonly);
    if (!rc)
        rc = check_features(fs, copy, readonly);
    if (!rc)
        rc = check_super_place(fs, copy, offset);
    keel_free(copy);
    if (rc)
        return rc;
    if (fs->block_size < info.sector_size) {
        keel_logf(KEEL_LOG_ERR, "ext2 (%s): blocks of %u bytes are smaller than the device's sectors (%u)", fs->device,
            fs->block_size, info.sector_size);
        return -KEEL_EINVAL;
    }
    rc = keel_bdev_set_block_size(fs->bdev, fs->block_size);
    if (rc)
        return rc;
    fs->sb_block = (uint32_t)(offset >> fs->block_log);
    rc = keel_bcache_read(fs->bdev, fs->sb_block, &fs->sb_buffer);
    if (rc)
        return ext2_io_error(fs, 0, rc, "the superblock");
    fs->sb = (struct ext2_super_block*)(fs->sb_buffer->data + (offset & (fs->block_size - 1)));
    fs->gd_buffers = (keel_buffer**)keel_zalloc(fs->gd_blocks * sizeof(keel_buffer*));
    if (!fs->gd_buffers)
        return -KEEL_ENOMEM;
    for (uint32_t i = 0; i < fs->gd_blocks; i++) {
        rc = keel_bcache_read(fs->bdev, fs->sb_block + 1 + i, &fs->gd_buffers[i]);
        if (rc) {
            for (uint32_t j = 0; j < i; j++)
                keel_bcache_put(fs->gd_buffers[j]);
            keel_free(fs->gd_buffers);
            fs->gd_buffers = 0;
            return ext2_io_error(fs, 0, rc, "the group descriptors");
        }
    }
    fs->overhead = 0;
    start_clock(fs);
    return check_groups(fs);
}

/* A read-write mount marks the filesystem in use on the disk (not clean)
 * until a clean unmount or remount read-only puts the state back. */
static int start_writing(struct ext2_fs* fs)
{
    struct ext2_super_block* sb = fs->sb;
    fs->mount_state = sb->s_state;
    sb->s_state &= (uint16_t)~EXT2_VALID_FS;
    sb->s_mnt_count++;
    sb->s_mtime = ext2_now(fs);
    sb->s_wtime = sb->s_mtime;
    fs->state_cleared = 1;
    ext2_super_dirty(fs);
    return keel_bcache_sync(fs->bdev);
}

static void stop_writing(struct ext2_fs* fs)
{
    if (!fs->state_cleared)
        return;
    fs->sb->s_state = (uint16_t)(fs->mount_state | (fs->had_error ? EXT2_ERROR_FS : 0));
    fs->sb->s_wtime = ext2_now(fs);
    ext2_super_dirty(fs);
    fs->state_cleared = 0;
}

static void warn_state(struct ext2_fs* fs, int* readonly)
{
    uint16_t state = fs->sb->s_state;
    if (!(state & EXT2_VALID_FS))
        keel_logf(KEEL_LOG_WARNING, "ext2 (%s): was not cleanly unmounted; running e2fsck is recommended", fs->device);
    if (state & EXT2_ERROR_FS) {
        if (fs->errors == EXT2_ERRORS_CONTINUE) {
            keel_logf(KEEL_LOG_WARNING, "ext2 (%s): has errors; running e2fsck is recommended", fs->device);
        } else {
            keel_logf(KEEL_LOG_WARNING, "ext2 (%s): has errors; read-only until e2fsck repairs it (errors=%s)",
                fs->device, fs->errors == EXT2_ERRORS_PANIC ? "panic" : "remount-ro");
            *readonly = 1;
        }
    }
}

/* errors= when the options do not say: the superblock's s_errors. */
static int default_errors(const struct ext2_super_block* sb)
{
    switch (sb->s_errors) {
    case EXT2_ERRORS_CONTINUE:
    case EXT2_ERRORS_RO:
    case EXT2_ERRORS_PANIC: return sb->s_errors;
    }
    return EXT2_ERRORS_RO;
}

static uint64_t g_nodes_alive;
uint64_t ext2_nodes_in_use(void) { return g_nodes_alive; }
void ext2_count_node(int delta) { g_nodes_alive += (uint64_t)(int64_t)delta; }

static void destroy_fs(struct ext2_fs* fs)
{
    ext2_nodes_free(fs);
    ext2_forget_checked_blocks(fs);
    put_buffers(fs);
    if (fs->bdev)
        keel_bdev_close(fs->bdev);
    keel_free(fs);
}

/* The root, checked before a read-write mount marks the disk in use: a
 * mount refused for its root leaves the disk as it was. */
static int get_root(struct ext2_fs* fs, struct ext2_node** root_out)
{
    struct ext2_node* root;
    int rc = ext2_get_node(fs, EXT2_ROOT_INO, &root);
    if (rc)
        return rc;
    if (!ext2_is_dir(root)) {
        rc = EXT2_CORRUPT(fs, EXT2_ROOT_INO, "the root is not a directory (i_mode 0%o)", root->raw.i_mode);
        ext2_put_node(fs, root);
        return rc;
    }
    *root_out = root;
    return 0;
}

static int ext2_mount(const char* source, uint32_t flags, const char* data, void** super_out, void** root_out)
{
    struct ext2_options options = { (flags & KEEL_MS_RDONLY) != 0, 0, 0, 0 };
    int rc = parse_options(data, &options, 0);
    if (rc)
        return rc;
    if (flags & KEEL_MS_RDONLY)
        options.readonly = 1;
    if (!source || !*source) {
        keel_logf(KEEL_LOG_ERR, "ext2: no device to mount");
        return -KEEL_EINVAL;
    }
    struct ext2_fs* fs = (struct ext2_fs*)keel_zalloc(sizeof(*fs));
    if (!fs)
        return -KEEL_ENOMEM;
    if (ext2_nodes_init(fs)) {
        keel_free(fs);
        return -KEEL_ENOMEM;
    }
    fs->errors = options.errors;
    rc = keel_bdev_open(source, options.readonly ? 0 : KEEL_BDEV_WRITE, &fs->bdev);
    fs->writable_device = !options.readonly;
    if (rc) {
        if (rc == -KEEL_EROFS)
            keel_logf(KEEL_LOG_ERR, "ext2: %s is read-only; mount it read-only", source);
        else
            keel_logf(KEEL_LOG_ERR, "ext2: cannot open %s (error %d)", source, -rc);
        ext2_nodes_free(fs);
        keel_free(fs);
        return rc;
    }
    keel_bdev_info info;
    keel_bdev_get_info(fs->bdev, &info);
    ext2_copy(fs->device, info.name, sizeof(fs->device));
    fs->device[sizeof(fs->device) - 1] = '\0';

    int must_be_readonly = 0;
    uint64_t offset = options.sb_given ? (uint64_t)options.sb * 1024 : EXT2_SUPER_OFFSET;
    rc = load(fs, offset, &must_be_readonly);
    if (!rc && !fs->errors)
        fs->errors = default_errors(fs->sb);
    if (!rc)
        warn_state(fs, &must_be_readonly);
    /* As Linux: what forbids writing makes the mount read-only, with the
     * reason logged above, rather than refusing it. */
    if (!rc && must_be_readonly && !options.readonly) {
        keel_logf(KEEL_LOG_WARNING, "ext2 (%s): mounted read-only", fs->device);
        options.readonly = 1;
    }
    fs->readonly = options.readonly;
    fs->must_stay_readonly = must_be_readonly;
    struct ext2_node* root = 0;
    if (!rc)
        rc = get_root(fs, &root);
    if (!rc && !fs->readonly)
        rc = start_writing(fs);
    if (rc) {
        if (root)
            ext2_put_node(fs, root);
        fs->state_cleared = 0; /* leave the disk's state as it was */
        destroy_fs(fs);
        return rc;
    }
    if (fs->counts_fixed && !fs->readonly)
        ext2_super_dirty(fs);
    keel_logf(KEEL_LOG_INFO, "ext2 (%s): mounted %s, %u blocks of %u bytes, %u inodes", fs->device,
        fs->readonly ? "read-only" : "read-write", fs->blocks_count, fs->block_size, fs->inodes_count);
    *super_out = fs;
    *root_out = root;
    return 0;
}

static void ext2_kill_super(void* super)
{
    struct ext2_fs* fs = (struct ext2_fs*)super;
    ext2_nodes_free(fs);
    stop_writing(fs);
    destroy_fs(fs);
}

static int ext2_remount(void* super, uint32_t flags, const char* data)
{
    struct ext2_fs* fs = (struct ext2_fs*)super;
    struct ext2_options options = { (flags & KEEL_MS_RDONLY) != 0, fs->errors, 0, 0 };
    int rc = parse_options(data, &options, 1);
    if (rc)
        return rc;
    if (flags & KEEL_MS_RDONLY)
        options.readonly = 1;
    fs->errors = options.errors;
    if (options.readonly && !fs->readonly) {
        stop_writing(fs);
        fs->readonly = 1;
        return keel_bcache_sync(fs->bdev);
    }
    if (!options.readonly && fs->readonly) {
        if (!fs->writable_device || fs->had_error || fs->must_stay_readonly) {
            keel_logf(KEEL_LOG_ERR, "ext2 (%s): cannot be remounted read-write (%s)", fs->device,
                !fs->writable_device ? "the device was opened read-only: unmount and mount it read-write"
                                     : "errors or features forbid writing");
            return -KEEL_EROFS;
        }
        fs->readonly = 0;
        return start_writing(fs);
    }
    return 0;
}

static int ext2_statfs(void* super, keel_vfs_statfs* out)
{
    struct ext2_fs* fs = (struct ext2_fs*)super;
    out->magic = EXT2_SUPER_MAGIC;
    out->block_size = fs->block_size;
    out->blocks = fs->blocks_count - fs->overhead;
    out->blocks_free = fs->sb->s_free_blocks_count;
    out->files = fs->inodes_count;
    out->files_free = fs->sb->s_free_inodes_count;
    out->name_max = EXT2_NAME_MAX;
    return 0;
}

/* ops.c */
int ext2_op_lookup(void* super, void* dir, const char* name, size_t length, void** node_out);
void ext2_op_put_node(void* super, void* node);
int ext2_op_getattr(void* super, void* node, keel_vfs_attr* out);
int ext2_op_setattr(void* super, void* node, const keel_vfs_attr* attr, uint32_t mask);
int ext2_op_create(void* super, void* dir, const char* name, size_t length, uint32_t mode, uint32_t uid, uint32_t gid,
    uint32_t rdev, void** node_out);
int ext2_op_symlink(void* super, void* dir, const char* name, size_t length, const char* target, size_t target_length,
    uint32_t uid, uint32_t gid, void** node_out);
int ext2_op_link(void* super, void* dir, const char* name, size_t length, void* node);
int ext2_op_unlink(void* super, void* dir, const char* name, size_t length, void* node);
int ext2_op_rmdir(void* super, void* dir, const char* name, size_t length, void* node);
int ext2_op_rename(void* super, void* old_dir, const char* old_name, size_t old_length, void* new_dir,
    const char* new_name, size_t new_length);
int ext2_op_readlink(void* super, void* node, char* buffer, size_t size, size_t* length_out);
int ext2_op_read(void* super, void* node, uint64_t offset, void* buffer, size_t size, size_t* done_out);
int ext2_op_write(void* super, void* node, uint64_t offset, const void* buffer, size_t size, size_t* done_out);
int ext2_op_readdir(void* super, void* dir, uint64_t* cookie, keel_fs_dirent_fn emit, void* context);

const keel_fs_type_ops ext2_type_ops = {
    .size = sizeof(keel_fs_type_ops),
    .version = KEEL_FS_TYPE_OPS_VERSION,
    .name = "ext2",
    .flags = 0,
    .mount = ext2_mount,
    .kill_super = ext2_kill_super,
    .remount = ext2_remount,
    .statfs = ext2_statfs,
    .lookup = ext2_op_lookup,
    .put_node = ext2_op_put_node,
    .getattr = ext2_op_getattr,
    .setattr = ext2_op_setattr,
    .create = ext2_op_create,
    .symlink = ext2_op_symlink,
    .link = ext2_op_link,
    .unlink = ext2_op_unlink,
    .rmdir = ext2_op_rmdir,
    .rename = ext2_op_rename,
    .readlink = ext2_op_readlink,
    .read = ext2_op_read,
    .write = ext2_op_write,
    .readdir = ext2_op_readdir,
};
