// Kernel command-line parameters (Linux's names where they mean the same).
// docs/kernel-parameters.md lists them with their limits.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/cmdline/cmdline.h"

namespace keel {

struct KernelParams {
    int64_t loglevel = -1; // console loglevel 0..15; -1: default
    int64_t panic = 0;     // see set_panic_timeout
    bool nullfs_rootfs = false;
    const char* rdinit = nullptr;
    const char* init = nullptr;
    bool module_sig_enforce = false;
    CmdlineValues memmap;                    // each memmap=nn[KMG]$ss[KMG] reserves a range
    const char* test_fault = nullptr;        // test hook: fault deliberately at boot
    CmdlineValues modules_load;              // each a comma-separated list of modules to load at boot
    CmdlineValues module_keys;               // each PATH,...: endorsement files, added before modules_load
    const char* initramfs_options = nullptr; // mount options of the root tmpfs (size=, nr_inodes=, mode=)
    const char* init_args = nullptr;         // everything after `--`
    bool quiet = false;
    const char* root = nullptr;       // the real root's device: /dev/NAME, NAME, LABEL=, UUID=
    const char* rootfstype = nullptr; // its filesystem type (default ext2)
    const char* rootflags = nullptr;  // its mount options
    CmdlineOptionalUInt rootwait;     // wait for the device: for ever, or at most `value` seconds
    bool root_ro = false;             // ro: read-only (also the default)
    bool root_rw = false;             // rw: read-write, unless ro is given too
    CmdlineValues ramdisks;           // each NAME:/PATH, a RAM disk made from an initramfs file
    const char* ip = nullptr;         // ip=: dhcp, off, or Linux's long form (lib/net/ip_param.h)
};

const KernelParams& kernel_params();
// Parse the command line (copied into a kernel buffer) and apply it.
// Problems are logged, never fatal.
void parse_kernel_params(const char* cmdline);
// The command line as the boot loader gave it.
const char* saved_command_line();

// Parses `line` in place into `params` (which keeps its defaults where
// the line says nothing good), logging every problem; what
// parse_kernel_params does, without applying anything. Returns init's
// arguments.
char* read_kernel_params(char* line, KernelParams& params);

} // namespace keel
