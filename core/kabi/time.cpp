// keel_monotonic_ns: the monotonic clock for modules.
#include "kabi_impl.h"
#include "time/clock.h"

extern "C" uint64_t keel_monotonic_ns() { return keel::time::monotonic_ns(); }
