// Kernel command-line parameters (Linux's names where they mean the same).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

struct KernelParams {
    int64_t loglevel = -1; // console loglevel; -1: default
    int64_t panic = 0;     // see set_panic_timeout
    bool nullfs_rootfs = false;
    const char* rdinit = nullptr;
    const char* init = nullptr;
    bool module_sig_enforce = false;
    const char* memmap = nullptr;       // memmap=nn[KMG]$ss[KMG]: reserve a range
    const char* test_fault = nullptr;   // test hook: fault deliberately at boot
    const char* modules_load = nullptr; // comma-separated modules to load at boot
    const char* module_keys = nullptr;  // comma-separated endorsement files, added before modules_load
    const char* init_args = nullptr;    // everything after `--`
    bool quiet = false;
};

const KernelParams& kernel_params();
// Parse the command line (copied into a kernel buffer) and apply it.
// Problems are logged, never fatal.
void parse_kernel_params(const char* cmdline);
// The command line as the boot loader gave it.
const char* saved_command_line();

} // namespace keel
