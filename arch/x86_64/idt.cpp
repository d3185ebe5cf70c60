// The IDT and the C++ side of interrupt entry.
#include "arch/interrupts.h"

#include "arch/cpu.h"
#include "sync/lock_order.h"

namespace keel::arch {

// Defined in exceptions.cpp: CPU exceptions end up there.
void handle_exception(InterruptFrame& frame);

namespace {

struct [[gnu::packed]] IdtEntry {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attributes;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};
static_assert(sizeof(IdtEntry) == 16);

struct [[gnu::packed]] IdtPointer {
    uint16_t limit;
    uint64_t base;
};

alignas(16) IdtEntry g_idt[256];
InterruptHandler g_handlers[256];

constexpr uint8_t kInterruptGate = 0x8e; // present, ring 0, 64-bit interrupt gate

void set_gate(unsigned vector, uint64_t address, uint8_t ist)
{
    g_idt[vector] = IdtEntry {
        uint16_t(address & 0xffff),
        0x08,
        ist,
        kInterruptGate,
        uint16_t((address >> 16) & 0xffff),
        uint32_t(address >> 32),
        0,
    };
}

} // namespace

extern "C" const uint64_t isr_stub_table[256];

void idt_init()
{
    for (unsigned vector = 0; vector < 256; vector++)
        set_gate(vector, isr_stub_table[vector], 0);
    set_gate(2, isr_stub_table[2], kIstNmi);
    set_gate(8, isr_stub_table[8], kIstDoubleFault);
    IdtPointer pointer { sizeof(g_idt) - 1, reinterpret_cast<uint64_t>(g_idt) };
    asm volatile("lidt %0" ::"m"(pointer));
}

void set_interrupt_handler(unsigned vector, InterruptHandler handler)
{
    __atomic_store_n(&g_handlers[vector & 0xff], handler, __ATOMIC_RELEASE);
}

} // namespace keel::arch

extern "C" void interrupt_dispatch(keel::arch::InterruptFrame* frame)
{
    using namespace keel::arch;
    unsigned vector = unsigned(frame->vector);
    if (vector < 32) {
        handle_exception(*frame);
        return;
    }
    InterruptHandler handler = __atomic_load_n(&g_handlers[vector], __ATOMIC_ACQUIRE);
    if (handler) {
        // Locks the handler takes are ordered afresh (sync/lock_order.h).
        auto outer = keel::lock_order::note_enter_interrupt();
        handler(*frame);
        keel::lock_order::note_leave_interrupt(outer);
    }
}
