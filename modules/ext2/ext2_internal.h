/*
 * ext2's own objects and the functions its files share.
 *
 * The VFS calls every operation under its lock, so nothing here locks.
 * Every change is written through to the block cache at once (the
 * superblock and the group descriptors stay held for the mount's life), so
 * there is no dirty state outside the cache: a sync of the device is a
 * sync of the filesystem.
 *
 * Everything read from the disk is input: each field is checked before it
 * is used, and a bad one makes the operation fail with EUCLEAN (EIO for a
 * failed read) through ext2_error(), which names the inode and the field
 * and then does what errors= says.
 */
#ifndef KEEL_EXT2_INTERNAL_H
#define KEEL_EXT2_INTERNAL_H

#include <keel/keel.h>

#include "ext2_disk.h"
#include "ext2_fs.h"

/* The table of nodes in use starts with this many buckets and doubles
 * while there are more nodes than buckets, up to the maximum (a lookup
 * that walks a whole tree keeps every inode of it in use). */
#define EXT2_NODE_BUCKETS_MIN_LOG 6u
#define EXT2_NODE_BUCKETS_MAX_LOG 16u
/* Inode-table read-ahead: when an inode's block is not in the current
 * window, this many bytes of the group's inode table from it are read
 * ahead (the inodes of one directory tend to be neighbours). */
#define EXT2_ITABLE_READAHEAD_BYTES (128u << 10)
/* Directory blocks remembered as checked (dir.c). */
#define EXT2_CHECKED_BLOCKS 16u

struct ext2_fs;

/* An inode the VFS holds references to. `raw` is the first 128 bytes of the
 * on-disk inode, checked when it was read; changes go to `raw`, then to the
 * cache with ext2_write_inode. */
struct ext2_node {
    struct ext2_node* hash_next;
    uint32_t ino;
    uint32_t refs;
    struct ext2_inode raw;
    uint64_t size;
    uint32_t extra_isize;  /* i_extra_isize (0 for 128-byte inodes) */
    uint32_t ra_next;      /* the logical block a sequential reader reads next */
    uint32_t ra_window;    /* how far ahead that reader was read */
    uint32_t last_block;   /* the last block allocated to it: the next allocation's goal */
    uint32_t lookup_block; /* a directory's block where the last lookup found its name */
};

/* A directory block that passed check_block and has not changed since
 * (dir.c): held, so that the cache neither drops it nor reads it again. */
struct ext2_checked_block {
    keel_buffer* buffer; /* null: the slot is free */
    uint32_t resume;     /* an entry's offset: where the next lookup in it starts */
};

struct ext2_fs {
    keel_bdev* bdev;
    char device[KEEL_BDEV_NAME_MAX + 1];
    keel_buffer* sb_buffer; /* holds the superblock */
    struct ext2_super_block* sb;
    keel_buffer** gd_buffers; /* hold the group descriptor blocks */
    uint32_t gd_blocks;
    uint32_t sb_block; /* where the superblock in use is, in blocks */
    uint32_t block_size;
    uint32_t block_log; /* block_size == 1 << block_log */
    uint32_t addr_log;  /* addresses per block == 1 << addr_log */
    uint32_t blocks_count;
    uint32_t first_data_block;
    uint32_t blocks_per_group;
    uint32_t inodes_per_group;
    uint32_t inodes_count;
    uint32_t groups;
    uint32_t inode_size;
    uint32_t first_ino;
    uint32_t itable_blocks; /* per group */
    uint32_t reserved_gdt;  /* blocks reserved after the descriptors for growth */
    uint32_t overhead;      /* metadata blocks, left out of statfs */
    uint32_t rev;
    int filetype; /* directory entries carry the file type */
    int readonly; /* mounted so, or made so by an error */
    int errors;   /* EXT2_ERRORS_*: what an error does */
    int had_error;
    int state_cleared;      /* the disk says "not clean" because of this mount */
    int counts_fixed;       /* the superblock's free counts disagreed with the descriptors */
    int writable_device;    /* the device is open for writing */
    int must_stay_readonly; /* features or state forbid writing */
    uint16_t mount_state;   /* s_state at mount: written back at a clean unmount */
    uint32_t next_dir_group;
    uint32_t time_base;  /* ext2_now() at mount: the latest time on the disk */
    uint64_t mounted_ns; /* keel_monotonic_ns() at mount */
    uint32_t generation;
    struct ext2_node** nodes; /* the nodes in use, hashed by number */
    uint32_t node_buckets_log;
    uint32_t node_count;
    struct ext2_checked_block checked[EXT2_CHECKED_BLOCKS];
    uint32_t checked_next; /* the slot the next checked block takes */
    /* The inode-table blocks read ahead last: [itable_ra_start, itable_ra_end). */
    uint32_t itable_ra_start;
    uint32_t itable_ra_end;
};

/* ---- super.c */
/* An error found in the filesystem: logs "ext2 (DEVICE): inode INO:
 * MESSAGE", marks the filesystem as having errors and does what errors=
 * says; the value is `error` (negative), for `return ext2_error(...)`.
 * The macros' value is their `error` argument itself, so that a caller's
 * "failed" branch is visibly nonzero. */
#define ext2_error(fs, error, ino, format, ...)                                                                        \
    (ext2_report((fs),                                                                                                 \
         (keel_logf(KEEL_LOG_ERR, "ext2 (%s): inode %u: " format, (fs)->device, (unsigned)(ino), ##__VA_ARGS__),       \
             (error))),                                                                                                \
        (error))
#define EXT2_CORRUPT(fs, ino, ...) ext2_error((fs), -KEEL_EUCLEAN, (ino), __VA_ARGS__)
/* The same for a problem outside any inode (a group's bitmap). */
#define EXT2_CORRUPT_FS(fs, format, ...)                                                                               \
    (ext2_report((fs), (keel_logf(KEEL_LOG_ERR, "ext2 (%s): " format, (fs)->device, ##__VA_ARGS__), -KEEL_EUCLEAN)),   \
        -KEEL_EUCLEAN)
int ext2_report(struct ext2_fs* fs, int error);
/* A read through the cache failed (the cache logged the block): `error`,
 * after what ext2_report does. */
#define ext2_io_error(fs, ino, error, what) (ext2_io_report((fs), (ino), (error), (what)), (error))
void ext2_io_report(struct ext2_fs* fs, uint32_t ino, int error, const char* what);
void ext2_super_dirty(struct ext2_fs* fs);
struct ext2_group_desc* ext2_group(struct ext2_fs* fs, uint32_t group);
void ext2_group_dirty(struct ext2_fs* fs, uint32_t group);
int ext2_group_has_super(const struct ext2_fs* fs, uint32_t group);
/* Seconds since 1970 as far as the filesystem knows: the core has no
 * wall clock yet, so time runs on from the latest time the disk records
 * (docs/ext2.md). */
uint32_t ext2_now(const struct ext2_fs* fs);
int ext2_check_writable(struct ext2_fs* fs);
void ext2_count_node(int delta);

/* ---- alloc.c */
/* Whether `block` may hold file data: inside the filesystem and not one
 * of the blocks its structure occupies (superblocks, descriptors,
 * bitmaps, inode tables). */
int ext2_data_block_ok(const struct ext2_fs* fs, uint32_t block);
/* A free block near `goal` (0: the owner's group), marked in use and
 * counted; -ENOSPC. */
int ext2_alloc_block(struct ext2_fs* fs, uint32_t ino, uint32_t goal, uint32_t* block_out);
int ext2_free_block(struct ext2_fs* fs, uint32_t ino, uint32_t block);
/* A free inode for a new node of type `mode` in directory `dir` (the
 * placement policy is in alloc.c). */
int ext2_alloc_inode(struct ext2_fs* fs, const struct ext2_node* dir, uint32_t mode, uint32_t* ino_out);
int ext2_free_inode(struct ext2_fs* fs, uint32_t ino, int is_dir);

/* ---- inode.c */
/* The table of nodes in use, empty (-ENOMEM), and its end: the nodes still
 * in it are freed with it. */
int ext2_nodes_init(struct ext2_fs* fs);
void ext2_nodes_free(struct ext2_fs* fs);
int ext2_get_node(struct ext2_fs* fs, uint32_t ino, struct ext2_node** out);
/* Whether inode `ino` is in use whatever the bitmap says: 1 for a node in
 * use or an inode with links on the disk (`is_dir` says its type), 0 for a
 * free one, or the read's error. */
int ext2_inode_live(struct ext2_fs* fs, uint32_t ino, int* is_dir);
void ext2_put_node(struct ext2_fs* fs, struct ext2_node* node);
/* A new inode of `mode` near `dir`, zeroed, with one reference, written. */
int ext2_new_node(
    struct ext2_fs* fs, struct ext2_node* dir, uint32_t mode, uint32_t uid, uint32_t gid, struct ext2_node** out);
int ext2_write_inode(struct ext2_fs* fs, struct ext2_node* node);
/* Sets ctime (and mtime with `modified`) to now; the caller writes the inode. */
void ext2_touch(const struct ext2_fs* fs, struct ext2_node* node, int modified);
void ext2_set_size(struct ext2_node* node, uint64_t size);
uint64_t ext2_max_size(const struct ext2_fs* fs);
/* The device block of logical block `index` (0: a hole). With `create`, a
 * hole gets a block (and the indirect blocks on the way). */
int ext2_bmap(struct ext2_fs* fs, struct ext2_node* node, uint64_t index, int create, uint32_t* block_out);
/* Frees every block from logical block `first` on. */
int ext2_free_blocks_from(struct ext2_fs* fs, struct ext2_node* node, uint64_t first);
static inline uint32_t ext2_mode_type(const struct ext2_node* node) { return node->raw.i_mode & KEEL_S_IFMT; }
static inline int ext2_is_dir(const struct ext2_node* node) { return ext2_mode_type(node) == KEEL_S_IFDIR; }
/* A fast symlink keeps its target in i_block, a slow one in a block that
 * i_blocks counts: i_blocks decides, as in Linux's ext2, not the target's
 * length (another driver may put a short target in a block). */
int ext2_symlink_is_fast(const struct ext2_fs* fs, const struct ext2_node* node);
uint32_t ext2_uid(const struct ext2_node* node);
uint32_t ext2_gid(const struct ext2_node* node);

/* ---- file.c */
int ext2_read(struct ext2_fs* fs, struct ext2_node* node, uint64_t offset, void* buffer, size_t size, size_t* done);
int ext2_write(
    struct ext2_fs* fs, struct ext2_node* node, uint64_t offset, const void* buffer, size_t size, size_t* done);
int ext2_truncate(struct ext2_fs* fs, struct ext2_node* node, uint64_t size);

/* ---- dir.c */
/* Every change ext2 makes to a cached block is marked with these (not
 * keel_bcache_dirty and keel_bcache_zero): a directory block checked
 * before must be checked again once changed, whatever changed it. */
void ext2_block_dirty(struct ext2_fs* fs, keel_buffer* buffer);
int ext2_block_zero(struct ext2_fs* fs, uint32_t block, keel_buffer** out);
/* Lets go of every directory block remembered as checked (unmount). */
void ext2_forget_checked_blocks(struct ext2_fs* fs);
int ext2_dir_find(struct ext2_fs* fs, struct ext2_node* dir, const char* name, size_t length, uint32_t* ino_out);
int ext2_dir_add(
    struct ext2_fs* fs, struct ext2_node* dir, const char* name, size_t length, uint32_t ino, uint32_t mode);
/* The inode of the only entry `name`: -ENOENT without one, EUCLEAN when a
 * corrupt directory holds the name twice (which entry the VFS met is not
 * known, so a rename must not pick one). Scans the whole directory. */
int ext2_dir_find_only(struct ext2_fs* fs, struct ext2_node* dir, const char* name, size_t length, uint32_t* ino_out);
/* Removes the entry `name` that names `ino` (EUCLEAN when none does). */
int ext2_dir_remove(struct ext2_fs* fs, struct ext2_node* dir, const char* name, size_t length, uint32_t ino);
/* Points the existing entry `name` that names `old_ino` at `ino` (rename
 * over a name; EUCLEAN when no entry is that one). */
int ext2_dir_retarget(struct ext2_fs* fs, struct ext2_node* dir, const char* name, size_t length, uint32_t old_ino,
    uint32_t ino, uint32_t mode);
int ext2_dir_is_empty(struct ext2_fs* fs, struct ext2_node* dir, int* empty);
/* Writes "." and ".." into the new directory's first block. */
int ext2_dir_init(struct ext2_fs* fs, struct ext2_node* dir, uint32_t parent);
int ext2_dir_parent(struct ext2_fs* fs, struct ext2_node* dir, uint32_t* parent_out);
int ext2_dir_set_parent(struct ext2_fs* fs, struct ext2_node* dir, uint32_t parent);
int ext2_dir_iterate(
    struct ext2_fs* fs, struct ext2_node* dir, uint64_t* cookie, keel_fs_dirent_fn emit, void* context);

/* ---- helpers */
static inline void ext2_copy(void* to, const void* from, size_t n) { __builtin_memcpy(to, from, n); }
static inline void ext2_zero(void* to, size_t n) { __builtin_memset(to, 0, n); }

#endif
