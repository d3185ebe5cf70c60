// Fuzzes the cpio reader: the initramfs comes from the boot loader and is
// input we do not control. Beyond the sanitizers, checks that every entry
// lies inside the buffer, that the walk always ends, and that cpio_find
// agrees with a full walk.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "lib/cpio/cpio.h"

using namespace keel;

namespace {

void check(bool condition)
{
    if (!condition)
        abort();
}

struct Outcome {
    bool ok;
    Error error;
    std::vector<std::string> names;
};

Outcome walk(const uint8_t* data, size_t size, CpioLinkSlot* table, size_t table_size)
{
    keel::Diagnostic diagnostic;
    char* const message = diagnostic.message;
    CpioReader reader(data, size, &diagnostic);
    if (table)
        reader.set_link_table(table, table_size);
    Outcome outcome { false, Error(0), {} };
    size_t previous_index = 0;
    size_t previous_offset = 0;
    while (auto result = reader.next()) {
        const CpioEntry& entry = result.value();
        check(entry.index == previous_index + 1);
        check(entry.index == 1 || entry.offset > previous_offset);
        check(entry.offset + kCpioHeaderSize <= size);
        check(entry.name >= reinterpret_cast<const char*>(data));
        check(entry.name + entry.name_length < reinterpret_cast<const char*>(data) + size);
        check(strlen(entry.name) == entry.name_length);
        check(entry.data >= data && entry.data + entry.data_size <= data + size);
        if (entry.link_target) {
            check(entry.link_index < entry.index);
            check(entry.link_target >= reinterpret_cast<const char*>(data));
            check(entry.link_target < reinterpret_cast<const char*>(data) + size);
            (void)strlen(entry.link_target);
        }
        if (!entry.is_trailer) {
            check(strstr(entry.name, "..") == nullptr || strstr(entry.name, "/../") == nullptr);
            outcome.names.emplace_back(entry.name, entry.name_length);
        }
        previous_index = entry.index;
        previous_offset = entry.offset;
    }
    check(reader.at_end() || reader.failed());
    outcome.ok = reader.status().is_ok();
    if (!outcome.ok) {
        outcome.error = reader.status().error();
        check(strlen(message) > 0 && strlen(message) < sizeof(diagnostic.message));
    }
    return outcome;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // A copy of exactly `size` bytes, so reads past the end are caught.
    std::vector<uint8_t> buffer(data, data + size);
    const uint8_t* bytes = buffer.data();

    Outcome plain = walk(bytes, size, nullptr, 0);
    CpioLinkSlot table[4];
    Outcome tabled = walk(bytes, size, table, 4);
    // A table only adds ENOSPC when more inodes are linked than it holds.
    check(plain.ok == tabled.ok || tabled.error == Error::ENOSPC);

    // cpio_find fails exactly when the walk does, and finds what it saw.
    // (The fuzzer learns the name it looks for from the comparisons and
    // may put an entry of that name in an archive.)
    keel::Diagnostic diagnostic;
    const std::string missing = "no/such/path/in/any/archive";
    if (std::find(plain.names.begin(), plain.names.end(), missing) == plain.names.end()) {
        auto none = cpio_find(bytes, size, missing.c_str(), &diagnostic);
        check(none.is_error());
        check(plain.ok ? none.error() == Error::ENOENT : none.error() == plain.error);
    }
    if (plain.ok && !plain.names.empty()) {
        for (const std::string& name : { plain.names.front(), plain.names.back() }) {
            auto found = cpio_find(bytes, size, name.c_str(), &diagnostic);
            check(found.is_ok());
            check(found.value().name_length == name.size());
            check(memcmp(found.value().name, name.data(), name.size()) == 0);
            check(found.value().data + found.value().data_size <= bytes + size);
        }
    }
    return 0;
}
