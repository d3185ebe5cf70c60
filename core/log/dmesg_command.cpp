#include "console/console.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"

namespace keel {

namespace {

struct DmesgOptions {
    int max_level;
};

void print_record(const LogRecordView& record, void* context)
{
    auto* options = static_cast<DmesgOptions*>(context);
    if (record.level > options->max_level)
        return;
    console_print("[%5llu.%06llu] %.*s\n", (unsigned long long)(record.timestamp_us / 1000000),
        (unsigned long long)(record.timestamp_us % 1000000), int(record.length), record.text);
}

int dmesg_command(int argc, char** argv)
{
    DmesgOptions options { kLogDebug };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-l") == 0 && i + 1 < argc) {
            auto level = parse_int(argv[i + 1], strlen(argv[i + 1]));
            if (level.is_error() || level.value() < 0 || level.value() > 7) {
                console_print("dmesg: level must be 0..7\n");
                return 1;
            }
            options.max_level = int(level.value());
            i++;
        } else {
            console_print("usage: dmesg [-l maxlevel]\n");
            return 1;
        }
    }
    uint64_t lost = log_for_each(print_record, &options);
    if (lost)
        console_print("(%llu older messages were overwritten)\n", (unsigned long long)lost);
    return 0;
}

} // namespace

KEEL_CONSOLE_COMMAND(dmesg, "dmesg", "[-l maxlevel]", "print the kernel log", dmesg_command);

} // namespace keel
