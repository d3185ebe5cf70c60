// The 16550 UART on COM1: the kernel console.
#pragma once

#include <stddef.h>

#include "arch/interrupts.h"

namespace keel::arch {

inline constexpr unsigned kSerialIrq = 4; // ISA IRQ of COM1

void serial_init();
void serial_write(const char* text, size_t length);
// A received byte, or -1 when the receive buffer is empty.
int serial_try_read();
// Deliver the UART's interrupt to `handler` (after the interrupt
// controllers are up), then raise it on received data.
void serial_attach_interrupt(InterruptHandler handler);
void serial_enable_rx_interrupt();

} // namespace keel::arch
