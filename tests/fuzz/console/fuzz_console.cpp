// Fuzzes the console as a user at the prompt: each input line goes
// through console_execute (the word splitter and the checks every command
// relies on) into the real commands, built for the host with the real VFS
// and tmpfs (tests/unit/vfs/host_platform.cpp) underneath: the file,
// attribute and mount commands, help, dmesg, mem, threads, uptime,
// cmdline, poweroff, reboot, vfsbench. After every input the VFS is taken
// down, and every object and byte must be gone: a command that leaks on
// some path of its argument handling is a finding, as is any crash.
// (The loader's commands and selftest need the kernel; the boot test
// console-every-command-any-arguments covers them.)
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "console/console.h"
#include "console/shell/console_context.h"
#include "console_stubs.h"
#include "host_platform.h"
#include "nullfs_fs.h"
#include "tmpfs_fs.h"
#include "vfs/vfs.h"

using namespace keel;

namespace {

int g_owner;

void require(bool condition)
{
    if (!condition)
        abort();
}

void run(const char* line)
{
    std::vector<char> copy(line, line + strlen(line) + 1);
    require(console_execute(copy.data()) >= 0);
}

// The root the boot leaves: nullfs under a tmpfs (limited as the boot
// limits it), a few directories and files.
void setup(bool nullfs_root)
{
    // The host build collects every command of console_host_sources.
    static const bool table_complete = [] {
        size_t count = size_t(console_commands_end() - console_commands_begin());
        for (const char* name : { "ls", "mount", "truncate", "help", "poweroff", "dmesg", "vfsbench", "threads" })
            require(find_console_command(name) != nullptr);
        return count >= 30;
    }();
    require(table_complete);
    require(vfs_register_filesystem(&tmpfs_type_ops, &g_owner).is_ok());
    require(vfs_register_filesystem(&nullfs_type_ops, &g_owner).is_ok());
    if (nullfs_root)
        require(vfs_mount_root("nullfs", "none", nullptr).is_ok());
    require(vfs_mount_root("tmpfs", "rootfs", "size=1m,nr_inodes=300").is_ok());
    for (const char* line : { "mkdir -p /etc /lib/modules /tmp /dev", "write /etc/hostname keel",
             "ln -s hostname /etc/name", "write /lib/modules/hello.kmod not really a module" })
        run(line);
    g_console_stub.output_bytes = 0;
    g_console_stub.polls = 0;
}

void teardown()
{
    console_vfs_context_reset();
    vfs_reset_initial_namespace();
    VfsCounters counters = vfs_counters();
    require(!counters.mounts && !counters.superblocks && !counters.dentries && !counters.files);
    require(tmpfs_nodes_in_use() == 0 && tmpfs_pages_in_use() == 0 && host_platform_stats().pins == 0);
    require(vfs_unregister_filesystem(&tmpfs_type_ops).is_ok());
    require(vfs_unregister_filesystem(&nullfs_type_ops).is_ok());
    require(host_platform_stats().allocations == 0);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size > 4096)
        return 0;
    setup(size > 0 && data[0] & 1);
    // One console line per input line, as long as the input gives it: the
    // line editor passes at most kConsoleMaxLine bytes, but console_execute
    // takes lines from elsewhere too and must refuse too many words.
    std::vector<char> line;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != '\n') {
            line.push_back(char(data[i]));
            continue;
        }
        line.push_back('\0');
        g_console_stub.polls = 0;
        if (setjmp(g_console_stub.exit) != 0)
            break; // powered off or rebooted: the machine stops here
        require(console_execute(line.data()) >= 0);
        line.clear();
    }
    teardown();
    return 0;
}
