// libFuzzer: the .keel_device_table parser (core/lib/devtable) on arbitrary
// section bytes, as the loader's autoload index, kmodpost and the core's
// driver registration read them. Every accepted table's aliases must be
// well-formed (NUL-terminated, within the capacity, matching the modalias
// of an identity built from the entry) and globbing must terminate.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/devtable/alias_glob.h"
#include "lib/devtable/device_table.h"
#include "lib/devtable/pci.h"

using namespace keel;
using namespace keel::devtable;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    Diagnostic diagnostic;
    auto tables = for_each_table(data, size, diagnostic, [](const Table& table) {
        for (uint32_t i = 0; i < table.entry_count; i++) {
            char alias[kAliasCapacity];
            size_t length = entry_alias(table, i, alias, sizeof(alias));
            if (length >= sizeof(alias) || strlen(alias) != length)
                abort();
            // An identity the entry must match: its own fixed fields.
            PciDeviceId entry = pci_entry(table, i);
            PciIdentity identity { uint16_t(entry.vendor), uint16_t(entry.device), uint16_t(entry.subvendor),
                uint16_t(entry.subdevice), entry.class_code };
            char modalias[kAliasCapacity];
            pci_modalias(identity, modalias, sizeof(modalias));
            if (!pci_id_matches(entry, identity) || !alias_glob_match(alias, modalias))
                abort();
        }
        return true;
    });
    if (tables.is_error() && diagnostic.message[0] == '\0')
        abort(); // every refusal says why
    // Globbing arbitrary patterns against arbitrary text terminates.
    if (size > 2) {
        size_t split = data[0] % size;
        char pattern[128] = {}, text[128] = {};
        memcpy(pattern, data, split < 127 ? split : 127);
        memcpy(text, data + split, size - split < 127 ? size - split : 127);
        (void)alias_glob_match(pattern, text);
    }
    return 0;
}
