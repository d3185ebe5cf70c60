// Boot stages timed with the raw cycle counter (the clock is calibrated only
// midway), reported once it is: "boot: stages (us): ..." in dmesg, which
// scripts/bench reads.
#pragma once

namespace keel {

// Record that the stage `name` (a string literal) ends now.
void mark_boot_stage(const char* name);
// Log the stage durations and "boot: core up in N us".
void log_boot_stages();

} // namespace keel
