// `random`: the pool's state and its sources; `random N`: N random bytes in
// hex (1 to 256).
#include "console/console.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"
#include "random/random.h"

namespace keel {

namespace {

void print_line(const char* line, void*) { console_print("%s\n", line); }

int random_command(int argc, char** argv)
{
    if (argc == 1) {
        random_report(print_line, nullptr);
        return 0;
    }
    Result<uint64_t> count = parse_uint(argv[1], strlen(argv[1]));
    if (argc != 2 || count.is_error() || count.value() < 1 || count.value() > 256) {
        console_print("usage: random [COUNT] (COUNT 1 to 256)\n");
        return 2;
    }
    uint8_t bytes[256];
    random_get(bytes, count.value());
    for (uint64_t i = 0; i < count.value(); i++)
        console_print("%02x", bytes[i]);
    console_print("\n");
    return 0;
}

} // namespace

KEEL_CONSOLE_COMMAND(random, "random", "[COUNT]", "the entropy pool's state, or COUNT random bytes", random_command);

} // namespace keel
