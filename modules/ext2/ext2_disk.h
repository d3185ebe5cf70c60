/*
 * The ext2 on-disk format (revision 0 and 1), little-endian, as
 * e2fsprogs writes it. Only what this driver reads or writes is named;
 * the rest of each structure is padding it preserves.
 */
#ifndef KEEL_EXT2_DISK_H
#define KEEL_EXT2_DISK_H

#include <stddef.h>
#include <stdint.h>

#define EXT2_SUPER_MAGIC 0xEF53u
#define EXT2_SUPER_OFFSET 1024u /* bytes from the start of the device */
#define EXT2_SUPER_SIZE 1024u
#define EXT2_MIN_BLOCK_LOG 10u /* 1 KiB */
#define EXT2_MAX_BLOCK_LOG 12u /* 4 KiB: what this driver supports */

#define EXT2_BAD_INO 1u
#define EXT2_ROOT_INO 2u
#define EXT2_GOOD_OLD_FIRST_INO 11u
#define EXT2_GOOD_OLD_INODE_SIZE 128u
#define EXT2_GOOD_OLD_REV 0u
#define EXT2_DYNAMIC_REV 1u

/* s_state */
#define EXT2_VALID_FS 0x0001u
#define EXT2_ERROR_FS 0x0002u
/* s_errors */
#define EXT2_ERRORS_CONTINUE 1u
#define EXT2_ERRORS_RO 2u
#define EXT2_ERRORS_PANIC 3u

/* Features. Compatible ones need nothing; read-only compatible ones this
 * driver does not know make it mount read-only; incompatible ones it does
 * not know make it refuse the filesystem. */
#define EXT2_FEATURE_COMPAT_DIR_INDEX 0x0020u
#define EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER 0x0001u
#define EXT2_FEATURE_RO_COMPAT_LARGE_FILE 0x0002u
#define EXT2_FEATURE_INCOMPAT_FILETYPE 0x0002u
#define EXT2_SUPPORTED_RO_COMPAT (EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE)
#define EXT2_SUPPORTED_INCOMPAT EXT2_FEATURE_INCOMPAT_FILETYPE

struct ext2_super_block {
    uint32_t s_inodes_count;
    uint32_t s_blocks_count;
    uint32_t s_r_blocks_count;
    uint32_t s_free_blocks_count;
    uint32_t s_free_inodes_count;
    uint32_t s_first_data_block;
    uint32_t s_log_block_size; /* block size = 1024 << this */
    uint32_t s_log_frag_size;
    uint32_t s_blocks_per_group;
    uint32_t s_frags_per_group;
    uint32_t s_inodes_per_group;
    uint32_t s_mtime;
    uint32_t s_wtime;
    uint16_t s_mnt_count;
    int16_t s_max_mnt_count;
    uint16_t s_magic;
    uint16_t s_state;
    uint16_t s_errors;
    uint16_t s_minor_rev_level;
    uint32_t s_lastcheck;
    uint32_t s_checkinterval;
    uint32_t s_creator_os;
    uint32_t s_rev_level;
    uint16_t s_def_resuid;
    uint16_t s_def_resgid;
    /* EXT2_DYNAMIC_REV */
    uint32_t s_first_ino;
    uint16_t s_inode_size;
    uint16_t s_block_group_nr;
    uint32_t s_feature_compat;
    uint32_t s_feature_incompat;
    uint32_t s_feature_ro_compat;
    uint8_t s_uuid[16];
    char s_volume_name[16];
    char s_last_mounted[64];
    uint8_t s_rest[EXT2_SUPER_SIZE - 200];
};
_Static_assert(sizeof(struct ext2_super_block) == EXT2_SUPER_SIZE, "superblock size");
_Static_assert(offsetof(struct ext2_super_block, s_magic) == 56, "s_magic");
_Static_assert(offsetof(struct ext2_super_block, s_first_ino) == 84, "s_first_ino");
_Static_assert(offsetof(struct ext2_super_block, s_feature_ro_compat) == 100, "s_feature_ro_compat");
_Static_assert(offsetof(struct ext2_super_block, s_volume_name) == 120, "s_volume_name");

struct ext2_group_desc {
    uint32_t bg_block_bitmap;
    uint32_t bg_inode_bitmap;
    uint32_t bg_inode_table;
    uint16_t bg_free_blocks_count;
    uint16_t bg_free_inodes_count;
    uint16_t bg_used_dirs_count;
    uint16_t bg_flags;
    uint32_t bg_reserved[3];
};
_Static_assert(sizeof(struct ext2_group_desc) == 32, "group descriptor size");

#define EXT2_NDIR_BLOCKS 12u
#define EXT2_IND_BLOCK 12u
#define EXT2_DIND_BLOCK 13u
#define EXT2_TIND_BLOCK 14u
#define EXT2_N_BLOCKS 15u

/* i_flags this driver acts on */
#define EXT2_INDEX_FL 0x00001000u   /* hashed directory: the index is ignored and the flag cleared on change */
#define EXT4_EXTENTS_FL 0x00080000u /* not ext2 */
#define EXT4_INLINE_DATA_FL 0x10000000u

struct ext2_inode {
    uint16_t i_mode;
    uint16_t i_uid;
    uint32_t i_size;
    uint32_t i_atime;
    uint32_t i_ctime;
    uint32_t i_mtime;
    uint32_t i_dtime;
    uint16_t i_gid;
    uint16_t i_links_count;
    uint32_t i_blocks; /* 512-byte sectors */
    uint32_t i_flags;
    uint32_t i_osd1;
    uint32_t i_block[EXT2_N_BLOCKS];
    uint32_t i_generation;
    uint32_t i_file_acl;
    uint32_t i_size_high; /* i_dir_acl of directories in revision 0 */
    uint32_t i_faddr;
    uint16_t i_blocks_hi;
    uint16_t i_file_acl_high;
    uint16_t i_uid_high;
    uint16_t i_gid_high;
    uint16_t i_checksum_lo;
    uint16_t i_reserved;
};
_Static_assert(sizeof(struct ext2_inode) == EXT2_GOOD_OLD_INODE_SIZE, "inode size");
_Static_assert(offsetof(struct ext2_inode, i_block) == 40, "i_block");
_Static_assert(offsetof(struct ext2_inode, i_uid_high) == 120, "i_uid_high");

/* Past the first 128 bytes, when the inode is larger and i_extra_isize
 * covers them: nanoseconds (<< 2; the low 2 bits extend the epoch). */
struct ext2_inode_extra {
    uint16_t i_extra_isize;
    uint16_t i_checksum_hi;
    uint32_t i_ctime_extra;
    uint32_t i_mtime_extra;
    uint32_t i_atime_extra;
};
#define EXT2_EXTRA_TIMES_SIZE 16u /* i_extra_isize covering the three *_extra fields */

/* Extended attribute block header (i_file_acl points at one). */
#define EXT2_XATTR_MAGIC 0xEA020000u
struct ext2_xattr_header {
    uint32_t h_magic;
    uint32_t h_refcount;
    uint32_t h_blocks;
};

struct ext2_dir_entry {
    uint32_t inode;
    uint16_t rec_len;
    uint8_t name_len;
    uint8_t file_type; /* with the filetype feature; else the high byte of name_len */
    char name[];
};
#define EXT2_DIR_ENTRY_HEADER 8u
#define EXT2_NAME_MAX 255u
/* A record holding a name of `length` bytes. */
#define EXT2_DIR_REC_LEN(length) ((EXT2_DIR_ENTRY_HEADER + (length) + 3u) & ~3u)

/* file_type values */
#define EXT2_FT_UNKNOWN 0u
#define EXT2_FT_REG_FILE 1u
#define EXT2_FT_DIR 2u
#define EXT2_FT_CHRDEV 3u
#define EXT2_FT_BLKDEV 4u
#define EXT2_FT_FIFO 5u
#define EXT2_FT_SOCK 6u
#define EXT2_FT_SYMLINK 7u
#define EXT2_FT_MAX 8u

/* Symlink targets shorter than this live in i_block. */
#define EXT2_FAST_SYMLINK_MAX 60u
#define EXT2_LINK_MAX 32000u

#endif
