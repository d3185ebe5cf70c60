// The PL011 UART the device tree names as the console.
#pragma once

#include <stddef.h>

#include "arch/interrupts.h"

namespace keel::arch {

// The UART is mapped at entry; before that output is dropped.
void serial_init();
void serial_write(const char* text, size_t length);
// A received byte, or -1 when the receive FIFO is empty.
int serial_try_read();
// Deliver the UART's interrupt to `handler` and raise it on received data
// (after the interrupt controller is up).
void serial_attach_interrupt(InterruptHandler handler);
void serial_enable_rx_interrupt();

} // namespace keel::arch
