#include "init/root_mount.h"

#include "boot/initramfs.h"
#include "boot/params.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/cpio/cpio.h"
#include "loader/loader.h"
#include "log/log.h"
#include "mm/pmm.h"
#include "time/clock.h"
#include "vfs/unpack.h"
#include "vfs/vfs.h"
#include "vfs/vfs_config.h"

namespace keel {

namespace {

bool load_early_module(const char* name)
{
    if (vfs_filesystem_registered(name))
        return true;
    Diagnostic error;
    auto module = load_module(name, LoadOptions {}, error);
    if (module.is_error()) {
        log_err("vfs: early module %s did not load: %s", name, error.message);
        return false;
    }
    return vfs_filesystem_registered(name);
}

void report_skipped(void*, const char* message) { log_warn("initramfs: %s; skipped", message); }

bool has_option(const char* options, const char* key)
{
    size_t length = strlen(key);
    for (const char* item = options; item;) {
        if (strncmp(item, key, length) == 0 && item[length] == '=')
            return true;
        item = strchr(item, ',');
        if (item)
            item++;
    }
    return false;
}

// The root tmpfs is limited as Linux limits every tmpfs: its data to half
// of RAM and its inodes to half as many as RAM has pages, so that what
// users put there cannot take the memory the kernel needs to run (or to
// let them remove it again). initramfs_options= (Linux's name) gives the
// mount options; the limits it does not set keep these defaults.
Result<void> mount_root_tmpfs()
{
    static char options[320];
    uint64_t pages = pmm_stats().total_pages;
    const char* given = kernel_params().initramfs_options;
    auto compose = [&](const char* extra) {
        size_t length = 0;
        if (!extra || !has_option(extra, "size"))
            length += format(
                options + length, sizeof(options) - length, "size=%llu,", (unsigned long long)(pages / 2) * 4096ULL);
        if (!extra || !has_option(extra, "nr_inodes"))
            length += format(
                options + length, sizeof(options) - length, "nr_inodes=%llu,", (unsigned long long)(pages / 2));
        if (extra)
            format(options + length, sizeof(options) - length, "%s", extra);
        else if (length > 0)
            options[length - 1] = '\0'; // the last comma
    };
    compose(given);
    auto result = vfs_mount_root("tmpfs", "rootfs", options);
    if (result.is_ok() || !given)
        return result;
    log_err("vfs: the root tmpfs refused initramfs_options=%s (%s); mounted with the default limits", given,
        error_name(result.error()));
    compose(nullptr);
    return vfs_mount_root("tmpfs", "rootfs", options);
}

void unpack_initramfs(const BootInfo& boot)
{
    InitramfsImage image = initramfs_image();
    if (!image.data)
        return;
    uint64_t start = time::monotonic_ns();
    UnpackOptions options;
    options.skip = report_skipped;
    UnpackReport report {};
    Diagnostic diagnostic;
    auto result = unpack_cpio(*vfs_kernel_context(), "/", image.data, image.size, options, report, diagnostic);
    uint64_t us = (time::monotonic_ns() - start) / 1000;
    if (result.is_error())
        log_err("initramfs: unpacking stopped: %s (%s); %zu entries before it were unpacked", diagnostic.message,
            error_name(result.error()), report.entries);
    log_info("initramfs: unpacked %zu entries (%zu files, %zu directories, %zu symlinks, %zu hard links, %zu "
             "special, %zu skipped), %llu bytes in %llu us",
        report.entries, report.files, report.directories, report.symlinks, report.hard_links, report.special,
        report.skipped, (unsigned long long)report.bytes, (unsigned long long)us);

    // From here on the loader reads modules through the VFS
    // (loader/source.cpp), so the archive's memory goes back.
    set_initramfs_image({ nullptr, 0 });
    pmm_release(boot.initrd_phys, boot.initrd_size);
    log_info("Freeing initrd memory: %lluK", (unsigned long long)(align_up<uint64_t>(boot.initrd_size, 4096) / 1024));
}

} // namespace

void mount_root_filesystem(const BootInfo& boot)
{
    bool nullfs_root = kernel_params().nullfs_rootfs || kNullfsRootAlways;
    if (nullfs_root && !load_early_module("nullfs"))
        nullfs_root = false;
    bool have_tmpfs = load_early_module("tmpfs");
    if (nullfs_root) {
        if (auto result = vfs_mount_root("nullfs", "none", nullptr); result.is_error()) {
            log_err("vfs: cannot mount nullfs as the root: %s", error_name(result.error()));
            nullfs_root = false;
        }
    }
    if (!have_tmpfs) {
        log_err("vfs: no tmpfs: %s", nullfs_root ? "the root stays the empty nullfs" : "no root filesystem");
    } else if (auto result = mount_root_tmpfs(); result.is_error()) {
        log_err("vfs: cannot mount the root tmpfs: %s", error_name(result.error()));
        have_tmpfs = false;
    }
    if (nullfs_root || have_tmpfs)
        log_info("vfs: root is %s", nullfs_root ? (have_tmpfs ? "tmpfs over nullfs" : "nullfs") : "tmpfs");
    if (have_tmpfs)
        unpack_initramfs(boot);
}

} // namespace keel
