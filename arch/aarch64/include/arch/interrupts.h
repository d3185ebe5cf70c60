// aarch64 exceptions: the saved register frame and the table of interrupt
// handlers, indexed by GIC interrupt ID.
#pragma once

#include <stdint.h>

namespace keel::arch {

// Saved by the vectors (vectors.S) in this order.
struct InterruptFrame {
    uint64_t x[31]; // x0..x30 (x29 the frame pointer, x30 the link register)
    uint64_t sp;
    uint64_t elr; // where the exception was taken
    uint64_t spsr;
    uint64_t esr;
    uint64_t far;
};
static_assert(sizeof(InterruptFrame) == 36 * 8);

using InterruptHandler = void (*)(InterruptFrame& frame);

// Vectors the core hands to device interrupts are GIC INTIDs: the shared
// peripheral interrupts up to 255 (QEMU virt's devices, its PCIe INTx
// lines and its GICv2m frame all lie below). Which ones a line gets is the
// GIC's to say (irq.h): an input's own INTID, an MSI frame's SPIs.
inline constexpr unsigned kDeviceVectorFirst = 32;
inline constexpr unsigned kDeviceVectorLast = 255;
// The INTID being handled (exception entry records it).
unsigned interrupt_vector(const InterruptFrame& frame);

// GIC interrupt IDs: 16..31 private (PPI), 32..1019 shared (SPI).
inline constexpr unsigned kMaxInterrupts = 1020;

void vectors_init();
// Interrupts arrive only after this; `handler` runs with interrupts off.
void set_interrupt_handler(unsigned intid, InterruptHandler handler);

} // namespace keel::arch
