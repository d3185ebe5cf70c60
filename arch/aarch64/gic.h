// The GIC's CPU interface, as exception entry uses it.
#pragma once

namespace keel::arch {

// The interrupt being taken (its ID; 1020 and above: spurious).
unsigned gic_acknowledge();
// Signal the end of `intid` unless the handler already did
// (end_of_interrupt()).
void gic_end_if_pending(unsigned intid);

} // namespace keel::arch
