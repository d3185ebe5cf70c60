// The PL011 UART: polled for output, interrupt-driven for input. Mapped
// through the fixmap at entry (platform.h), so the console works before
// memory management does.
#include "arch/serial.h"

#include "arch/cpu.h"
#include "arch/irq.h"
#include "platform.h"

namespace keel::arch {

namespace {

enum Register : uint32_t {
    kData = 0x00,
    kFlags = 0x18,
    kLineControl = 0x2c,
    kControl = 0x30,
    kInterruptMask = 0x38,
    kInterruptClear = 0x44,
};
constexpr uint32_t kFlagReceiveEmpty = 1 << 4;
constexpr uint32_t kFlagTransmitFull = 1 << 5;
constexpr uint32_t kReceiveInterrupt = 1 << 4;
constexpr uint32_t kReceiveTimeoutInterrupt = 1 << 6;

volatile uint32_t* g_uart = nullptr;

uint32_t read(Register reg) { return g_uart[reg / 4]; }
void write(Register reg, uint32_t value) { g_uart[reg / 4] = value; }

void put_byte(char c)
{
    // Bounded wait: a missing or wedged UART must not hang the kernel.
    for (int spins = 0; spins < 100000 && (read(kFlags) & kFlagTransmitFull); spins++)
        cpu_relax();
    write(kData, uint8_t(c));
}

} // namespace

void serial_init()
{
    const fdt::Machine& machine = platform();
    if (!machine.uart.present)
        return;
    g_uart = static_cast<volatile uint32_t*>(early_map_device(machine.uart.registers.base));
    if (!g_uart)
        return;
    write(kInterruptMask, 0);
    // 8 bits, FIFOs on; UART, transmitter and receiver enabled. The boot
    // loader already set the rate (QEMU ignores it).
    write(kLineControl, (3 << 5) | (1 << 4));
    write(kControl, (1 << 0) | (1 << 8) | (1 << 9));
}

void serial_write(const char* text, size_t length)
{
    if (!g_uart)
        return;
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '\n')
            put_byte('\r');
        put_byte(text[i]);
    }
}

int serial_try_read()
{
    if (!g_uart || (read(kFlags) & kFlagReceiveEmpty))
        return -1;
    return int(read(kData) & 0xff);
}

void serial_attach_interrupt(InterruptHandler handler)
{
    const fdt::Machine& machine = platform();
    if (g_uart && machine.uart.has_interrupt)
        irq_attach(machine.uart.interrupt.intid(), handler);
}

void serial_enable_rx_interrupt()
{
    if (!g_uart)
        return;
    write(kInterruptClear, 0x7ff);
    write(kInterruptMask, kReceiveInterrupt | kReceiveTimeoutInterrupt);
}

} // namespace keel::arch
