// The real root: RAM disks from initramfs files (ramdisk=NAME:PATH, for
// images carried in the initramfs, as Linux's initrd on /dev/ram0), then
// root= mounted and made the root the way an init does it.
#include "init/real_root.h"

#include "bcache/block_device.h"
#include "bcache/ramdisk.h"
#include "boot/params.h"
#include "init/root_device.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "loader/autoload.h"
#include "loader/loader.h"
#include "log/log.h"
#include "sched/thread.h"
#include "time/clock.h"
#include "vfs/vfs.h"

namespace keel {

namespace {

constexpr const char* kMountPoint = "/root";
constexpr uint64_t kRootWaitStepMs = 10;

// "NAME:PATH": a RAM disk NAME holding a copy of the file PATH.
void make_ramdisk(const char* spec)
{
    const char* colon = strchr(spec, ':');
    char name[kBlockDeviceNameMax + 1];
    size_t length = colon ? size_t(colon - spec) : 0;
    if (!colon || length == 0 || length > kBlockDeviceNameMax || colon[1] != '/') {
        log_err("ramdisk=%s: give NAME:/PATH (a name of 1 to %zu characters)", spec, kBlockDeviceNameMax);
        return;
    }
    memcpy(name, spec, length);
    name[length] = '\0';
    const char* path = colon + 1;
    VfsContext& ctx = *vfs_kernel_context();
    auto stat = vfs_stat(ctx, path);
    if (stat.is_error()) {
        log_err("ramdisk: %s: cannot read %s (%s)", name, path, error_name(stat.error()));
        return;
    }
    uint64_t size = stat.value().attr.size;
    Diagnostic problem;
    auto disk = ramdisk_create(name, size, false, &problem);
    if (disk.is_error()) {
        log_err("ramdisk: cannot create %s (%s)%s%s", name, error_name(disk.error()), problem.empty() ? "" : ": ",
            problem.message);
        return;
    }
    auto file = vfs_open(ctx, path, kOpenReadOnly, 0);
    uint64_t done = 0;
    while (file.is_ok() && done < size) {
        auto read = vfs_read(*file.value(), ramdisk_data(*disk.value()) + done, size_t(size - done));
        if (read.is_error() || read.value() == 0)
            break;
        done += read.value();
    }
    if (file.is_ok())
        vfs_close(file.value());
    if (done != size) {
        log_err("ramdisk: %s: reading %s stopped at %llu of %llu bytes", name, path, (unsigned long long)done,
            (unsigned long long)size);
        (void)ramdisk_destroy(name);
        return;
    }
    log_info("ramdisk: %s holds %s (%llu bytes)", name, path, (unsigned long long)size);
}

// The block devices there are, for a root= that names none of them (as
// Linux lists its partitions when it cannot mount the root).
void log_block_devices()
{
    BlockDeviceName names[16];
    size_t count = block_device_names(names, 16);
    char line[200];
    size_t length = 0;
    line[0] = '\0';
    for (size_t i = 0; i < count && length < sizeof(line); i++)
        length += format(line + length, sizeof(line) - length, "%s%s", i ? " " : "", names[i]);
    log_err("root: block devices: %s", count ? line : "none");
}

// root=, found once every device present at boot has its driver (autoload
// settled), and waited for with rootwait: for ever, or at most
// rootwait=SECONDS (rootwait=0 does not wait, as in Linux).
bool wait_for_device(const char* spec, char* name, size_t size)
{
    autoload_settle();
    if (find_root_device(spec, name, size))
        return true;
    const CmdlineOptionalUInt& wait = kernel_params().rootwait;
    bool limited = wait.has_value;
    uint64_t limit_s = wait.value;
    if (!wait.given || (limited && limit_s == 0)) {
        log_err("root: no device %s; the initramfs stays the root (rootwait waits for it)", spec);
        log_block_devices();
        return false;
    }
    if (limited)
        log_notice("root: waiting up to %llu s for %s (rootwait=%llu)", (unsigned long long)limit_s, spec,
            (unsigned long long)limit_s);
    else
        log_notice("root: waiting for %s (rootwait)", spec);
    uint64_t deadline = time::monotonic_ns() + limit_s * 1000000000ull;
    while (!find_root_device(spec, name, size)) {
        if (limited && time::monotonic_ns() >= deadline) {
            log_err("root: no device %s after waiting %llu s (rootwait=%llu); the initramfs stays the root", spec,
                (unsigned long long)limit_s, (unsigned long long)limit_s);
            log_block_devices();
            return false;
        }
        thread_sleep_ms(kRootWaitStepMs);
    }
    return true;
}

Result<void> switch_root(VfsContext& ctx, bool nullfs_below)
{
    TRY(vfs_chdir(ctx, kMountPoint));
    if (nullfs_below) {
        // The init idiom: the old root ends up under the new one, and goes.
        TRY(vfs_pivot_root(ctx, ".", "."));
        TRY(vfs_umount(ctx, ".", kUmountDetach));
    } else {
        // The root tmpfs cannot be pivoted away (as in Linux): enter the
        // disk with chroot, the initramfs staying underneath.
        TRY(vfs_chroot(ctx, "."));
    }
    return vfs_chdir(ctx, "/");
}

} // namespace

void mount_real_root()
{
    const KernelParams& params = kernel_params();
    for (size_t i = 0; i < params.ramdisks.count; i++)
        make_ramdisk(params.ramdisks.values[i]);
    if (!params.root)
        return;
    const char* type = params.rootfstype ? params.rootfstype : "ext2";
    char device[kBlockDeviceNameMax + 1];
    if (!wait_for_device(params.root, device, sizeof(device)))
        return;
    // The filesystem's module, from the initramfs, as modules_load= would.
    if (!vfs_filesystem_registered(type))
        load_boot_modules(type);
    VfsContext& ctx = *vfs_kernel_context();
    if (auto made = vfs_mkdir(ctx, kMountPoint, 0755); made.is_error() && made.error() != Error::EEXIST) {
        log_err("root: cannot create %s (%s)", kMountPoint, error_name(made.error()));
        return;
    }
    bool writable = params.root_rw && !params.root_ro;
    uint32_t flags = writable ? 0 : kMountReadOnly;
    char source[kBlockDeviceNameMax + 6];
    format(source, sizeof(source), "/dev/%s", device);
    if (auto mounted = vfs_mount(ctx, source, kMountPoint, type, flags, params.rootflags); mounted.is_error()) {
        log_err("root: cannot mount %s (%s) on %s: %s; the initramfs stays the root", source, type, kMountPoint,
            error_name(mounted.error()));
        return;
    }
    bool nullfs_below = params.nullfs_rootfs;
    if (auto switched = switch_root(ctx, nullfs_below); switched.is_error()) {
        log_err("root: cannot make %s the root: %s", source, error_name(switched.error()));
        return;
    }
    log_info("root: %s (%s, %s) is the root%s", source, type, writable ? "read-write" : "read-only",
        nullfs_below ? "; the initramfs was unmounted" : ", entered with chroot");
}

} // namespace keel
