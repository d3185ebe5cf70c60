#include "lib/fdt/interrupt.h"

namespace keel::fdt {

bool read_gic_interrupt(uint32_t type, uint32_t number, uint32_t flags, GicInterrupt& out)
{
    if ((type != GicInterrupt::kSpi && type != GicInterrupt::kPpi)
        || number >= (type == GicInterrupt::kSpi ? 988u : 16u))
        return false;
    out = { type, number, flags };
    return true;
}

} // namespace keel::fdt
