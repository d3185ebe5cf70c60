// modprobe ALIAS|NAME: load the driver modules whose match tables cover a
// modalias (pci:v00001234d000011E8...), or one module by name.
#include "console/console.h"
#include "loader/autoload.h"
#include "log/log.h"

namespace keel {

namespace {

int modprobe_command(int argc, char** argv)
{
    if (argc != 2) {
        console_print("usage: modprobe ALIAS|NAME\n");
        return 1;
    }
    Diagnostic error;
    auto result = modprobe(argv[1], error);
    if (result.is_error()) {
        console_print("modprobe: ERROR: %s (%s)\n", error.message, error_name(result.error()));
        return 1;
    }
    return 0;
}

} // namespace

KEEL_CONSOLE_COMMAND(
    modprobe, "modprobe", "ALIAS|NAME", "load the driver modules for a modalias, or a module", modprobe_command);

} // namespace keel
