// 16550 UART driver, polled for output and interrupt-driven for input.
#include "arch/serial.h"

#include "arch/cpu.h"
#include "arch/irq.h"

namespace keel::arch {

namespace {

constexpr uint16_t kCom1 = 0x3f8;
enum : uint16_t {
    kData = 0, // DLAB=0: RBR/THR; DLAB=1: divisor low
    kInterruptEnable = 1,
    kFifoControl = 2,
    kLineControl = 3,
    kModemControl = 4,
    kLineStatus = 5,
};
constexpr uint8_t kLineStatusDataReady = 0x01;
constexpr uint8_t kLineStatusTransmitEmpty = 0x20;

void put_byte(char c)
{
    // Bounded wait: a missing or wedged UART must not hang the kernel.
    for (int spins = 0; spins < 100000; spins++) {
        if (inb(kCom1 + kLineStatus) & kLineStatusTransmitEmpty)
            break;
        cpu_relax();
    }
    outb(kCom1 + kData, uint8_t(c));
}

} // namespace

void serial_init()
{
    outb(kCom1 + kInterruptEnable, 0x00);
    outb(kCom1 + kLineControl, 0x80); // DLAB on
    outb(kCom1 + kData, 0x01);        // divisor 1: 115200 baud
    outb(kCom1 + kInterruptEnable, 0x00);
    outb(kCom1 + kLineControl, 0x03); // 8N1, DLAB off
    // FIFOs on, but not cleared: input that arrived before the kernel
    // started (a script typing ahead) stays queued.
    outb(kCom1 + kFifoControl, 0x01);
    outb(kCom1 + kModemControl, 0x0b); // DTR, RTS, OUT2 (IRQ line enabled)
}

void serial_write(const char* text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '\n')
            put_byte('\r');
        put_byte(text[i]);
    }
}

int serial_try_read()
{
    if (!(inb(kCom1 + kLineStatus) & kLineStatusDataReady))
        return -1;
    return inb(kCom1 + kData);
}

void serial_attach_interrupt(InterruptHandler handler) { irq_attach_isa(kSerialIrq, handler); }

void serial_enable_rx_interrupt()
{
    outb(kCom1 + kInterruptEnable, 0x01); // received data available
}

} // namespace keel::arch
