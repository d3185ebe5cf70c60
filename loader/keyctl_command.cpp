// keyctl list | add FILE | block KEYID | block-module DIGEST
#include "console/console.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "loader/internal.h"
#include "loader/keyring.h"
#include "log/log.h"
#include "mm/heap.h"

namespace keel {

namespace {

void print_key(const KeyringEntry& entry, void*)
{
    char id[key_id_text_size];
    format_key_id(entry.key.id, id);
    console_print("%s  %-9s %-8s %-33s %s  (from %s)\n", id,
        entry.origin == KeyOrigin::Builtin ? "built-in" : "secondary", entry.blocked ? "blocked" : "trusted",
        entry.endorsed_by[0] ? entry.endorsed_by : "-", entry.description, entry.source);
}

bool parse_hex(const char* text, uint8_t* out, size_t size)
{
    if (strlen(text) != size * 2)
        return false;
    for (size_t i = 0; i < size; i++) {
        int high = hex_digit_value(text[2 * i]), low = hex_digit_value(text[2 * i + 1]);
        if (high < 0 || low < 0)
            return false;
        out[i] = uint8_t(high << 4 | low);
    }
    return true;
}

int keyctl_command(int argc, char** argv)
{
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        console_print("%-32s  %-9s %-8s %-33s %s\n", "KEY ID", "ORIGIN", "STATE", "ENDORSED BY", "DESCRIPTION  (FROM)");
        keyring_for_each(print_key, nullptr);
        console_print("blocked module digests: %zu\n", keyring_blocked_digest_count());
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "add") == 0) {
        Diagnostic error;
        auto file = read_module_file(argv[2], error);
        if (file.is_error()) {
            console_print("keyctl: %s\n", error.message);
            return 1;
        }
        Diagnostic why;
        char source[96];
        format(source, sizeof(source), "keyctl add %s", argv[2]);
        auto added = keyring_add_endorsed(file.value().data, file.value().size, source, why);
        kfree(file.value().data);
        if (added.is_error()) {
            console_print("keyctl: %s: %s (%s)\n", argv[2], why.message, error_name(added.error()));
            return 1;
        }
        char id[key_id_text_size];
        format_key_id(added.value()->key.id, id);
        log_notice("keyring: added secondary key %s '%s', endorsed by %s", id, added.value()->description,
            added.value()->endorsed_by);
        console_print("added key %s\n", id);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "block") == 0) {
        KeyId id;
        if (!parse_hex(argv[2], id.bytes, KeyId::size)) {
            console_print("keyctl: a key id is %zu hex digits\n", KeyId::size * 2);
            return 1;
        }
        if (keyring_block_key(id).is_error()) {
            console_print("keyctl: the blocklist is full\n");
            return 1;
        }
        log_notice("keyring: blocked key %s", argv[2]);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "block-module") == 0) {
        Blake2bDigest digest;
        if (!parse_hex(argv[2], digest.bytes, Blake2bDigest::size)) {
            console_print(
                "keyctl: a module digest is %zu hex digits (BLAKE2b-512 of the image without its signature)\n",
                Blake2bDigest::size * 2);
            return 1;
        }
        if (keyring_block_digest(digest).is_error()) {
            console_print("keyctl: the blocklist is full\n");
            return 1;
        }
        log_notice("keyring: blocked module digest %.16s...", argv[2]);
        return 0;
    }
    console_print("usage: keyctl list | add FILE | block KEYID | block-module DIGEST\n");
    return 1;
}

} // namespace

KEEL_CONSOLE_COMMAND(keyctl, "keyctl", "list|add FILE|block KEYID|block-module DIGEST",
    "module signing keys and the blocklist", keyctl_command);

} // namespace keel
