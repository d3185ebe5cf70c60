// modprobe ALIAS|NAME: load the driver modules whose match tables cover a
// modalias (pci:v00001234d000011E8...), or one module by name.
// modprobe -a NAME...: each named module in turn, as Linux's `modprobe -a`;
// one already loaded (by an earlier name's autoload, say) is not an error.
// The first that fails stops the rest, which usually need it.
#include "console/console.h"
#include "lib/base/string.h"
#include "loader/autoload.h"
#include "log/log.h"

namespace keel {

namespace {

constexpr const char* kUsage = "usage: modprobe ALIAS|NAME | -a NAME...\n";

int modprobe_command(int argc, char** argv)
{
    bool all = argc >= 2 && strcmp(argv[1], "-a") == 0;
    if (all ? argc < 3 : argc != 2) {
        console_print("%s", kUsage);
        return 1;
    }
    for (int i = all ? 2 : 1; i < argc; i++) {
        Diagnostic error;
        auto result = modprobe(argv[i], error);
        if (result.is_error()) {
            console_print("modprobe: ERROR: %s (%s)\n", error.message, error_name(result.error()));
            return 1;
        }
    }
    return 0;
}

} // namespace

KEEL_CONSOLE_COMMAND(modprobe, "modprobe", "ALIAS|NAME | -a NAME...",
    "load the driver modules for a modalias, or a module (-a: each module named)", modprobe_command);

} // namespace keel
