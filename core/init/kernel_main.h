// The core's entry: the architecture's entry code calls it once, on the boot
// stack with interrupts off, with what the boot loader handed over.
#pragma once

namespace keel {

struct BootInfo;

[[noreturn]] void kernel_main(const BootInfo& boot);

} // namespace keel
