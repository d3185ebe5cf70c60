// In-kernel self tests, driven by the boot tests through the console
// (`selftest ...`) or the command line (`test_fault=`). Using one taints
// the kernel ('T').
#pragma once

namespace keel {

// Honour `test_fault=` at the end of boot.
void run_boot_test_hooks();

} // namespace keel
