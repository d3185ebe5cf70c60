#include "lib/fdt/interrupt.h"

#include "lib/fdt/fdt.h"

namespace keel::fdt {

bool read_gic_interrupt(uint32_t type, uint32_t number, uint32_t flags, GicInterrupt& out)
{
    if ((type != GicInterrupt::kSpi && type != GicInterrupt::kPpi)
        || number >= (type == GicInterrupt::kSpi ? 988u : 16u))
        return false;
    out = { type, number, flags };
    return true;
}

bool is_gic_compatible(const Property& compatible)
{
    return compatible.contains_string("arm,gic-v3") || compatible.contains_string("arm,cortex-a15-gic")
        || compatible.contains_string("arm,gic-400");
}

} // namespace keel::fdt
