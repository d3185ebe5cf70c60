// sha256sum FILE...: coreutils' lines, "HASH  FILE", to check what a
// download or a disk write left behind.
#include "console/console.h"
#include "console/shell/console_context.h"
#include "lib/crypto/sha256.h"
#include "log/log.h"
#include "vfs/vfs.h"

namespace keel {

namespace {

uint8_t g_buffer[16 * 1024];

int sha256sum_command(int argc, char** argv)
{
    if (argc < 2) {
        console_print("usage: sha256sum FILE...\n");
        return 2;
    }
    VfsContext* context = console_vfs_context_or_complain("sha256sum");
    if (!context)
        return 1;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        auto file = vfs_open(*context, argv[i], kOpenReadOnly, 0);
        if (file.is_error()) {
            status = console_vfs_failure("sha256sum", "cannot open", argv[i], file.error());
            continue;
        }
        Sha256 hash;
        bool failed = false;
        for (;;) {
            auto done = vfs_read(*file.value(), g_buffer, sizeof(g_buffer));
            if (done.is_error()) {
                status = console_vfs_failure("sha256sum", "cannot read", argv[i], done.error());
                failed = true;
                break;
            }
            if (done.value() == 0)
                break;
            hash.update(g_buffer, done.value());
        }
        vfs_close(file.value());
        if (failed)
            continue;
        Sha256Digest digest = hash.finish();
        for (uint8_t byte : digest.bytes)
            console_print("%02x", byte);
        console_print("  %s\n", argv[i]);
    }
    return status;
}

} // namespace

KEEL_CONSOLE_COMMAND(sha256sum, "sha256sum", "FILE...", "print the SHA-256 of each FILE", sha256sum_command);

} // namespace keel
