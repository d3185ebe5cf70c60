// sha256sum FILE... and b2sum FILE...: coreutils' lines, "HASH  FILE", to
// check what a download or a disk write left behind, or which bytes a
// module's signature covers (b2sum is BLAKE2b-512, the module image
// digest's algorithm, as coreutils' b2sum).
#include "console/console.h"
#include "console/shell/console_context.h"
#include "lib/crypto/blake2b.h"
#include "lib/crypto/sha256.h"
#include "log/log.h"
#include "vfs/vfs.h"

namespace keel {

namespace {

uint8_t g_buffer[16 * 1024];

template<typename Hasher> int hash_files(const char* name, int argc, char** argv)
{
    if (argc < 2) {
        console_print("usage: %s FILE...\n", name);
        return 2;
    }
    VfsContext* context = console_vfs_context_or_complain(name);
    if (!context)
        return 1;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        auto file = vfs_open(*context, argv[i], kOpenReadOnly, 0);
        if (file.is_error()) {
            status = console_vfs_failure(name, "cannot open", argv[i], file.error());
            continue;
        }
        Hasher hash;
        bool failed = false;
        for (;;) {
            auto done = vfs_read(*file.value(), g_buffer, sizeof(g_buffer));
            if (done.is_error()) {
                status = console_vfs_failure(name, "cannot read", argv[i], done.error());
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
        auto digest = hash.finish();
        for (uint8_t byte : digest.bytes)
            console_print("%02x", byte);
        console_print("  %s\n", argv[i]);
    }
    return status;
}

int sha256sum_command(int argc, char** argv) { return hash_files<Sha256>("sha256sum", argc, argv); }

int b2sum_command(int argc, char** argv) { return hash_files<Blake2b>("b2sum", argc, argv); }

} // namespace

KEEL_CONSOLE_COMMAND(sha256sum, "sha256sum", "FILE...", "print the SHA-256 of each FILE", sha256sum_command);
KEEL_CONSOLE_COMMAND(b2sum, "b2sum", "FILE...", "print the BLAKE2b-512 of each FILE", b2sum_command);

} // namespace keel
