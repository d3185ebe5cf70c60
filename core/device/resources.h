// The kernel resources a binding can own: interrupt handlers, register
// mappings, DMA memory and deferred work (docs/devices.md). Each object
// embeds the Devres that puts it on its binding's list, and begins with
// the public part the ABI shows modules (keel_mmio, keel_dma_buffer, ...).
//
// Interrupt lines: an MSI or MSI-X vector is a line of its own; an INTx
// line is an interrupt-controller input (GSI) shared by every function
// wired to it, level-triggered. A line that keeps firing while no handler
// claims it is masked (the storm guard) and logged.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <keel/keel.h>

#include "device/device.h"

namespace keel {

// ---- interrupts
enum class IrqKind : uint8_t {
    Msi,
    MsiX,
    Intx,
};

struct IrqLine;

// One handler on a line: the object behind keel_irq*.
struct IrqAction {
    Devres devres;
    IrqLine* line;
    keel_irq_handler_fn handler;
    void* arg;
    Device* device;
    IntrusiveListNode node;
};

struct IrqLine {
    static constexpr size_t kNameSize = 32;
    unsigned vector = 0;
    IrqKind kind = IrqKind::Msi;
    uint32_t gsi = 0;   // Intx
    uint32_t users = 0; // devices sharing an Intx line
    bool storm_masked = false;
    // Masks the line at its source (an MSI-X entry, the MSI mask bit, the
    // interrupt controller input); may run in interrupt context.
    void (*mask)(IrqLine& line, bool masked) = nullptr;
    void* mask_context = nullptr;
    uint32_t mask_index = 0;
    char name[kNameSize] = {};
    uint64_t count = 0;
    uint64_t unhandled = 0;
    uint32_t unhandled_in_a_row = 0;
    IntrusiveList<IrqAction, &IrqAction::node> actions; // guarded by the interrupt lock (irq.cpp)
    IntrusiveListNode node;
};

// A line for an MSI or MSI-X vector of `device` (its own vector), masked.
Result<IrqLine*> irq_line_create(
    IrqKind kind, const char* name, void (*mask)(IrqLine&, bool), void* context, uint32_t index);
// The shared line of an interrupt controller input; created on first use.
Result<IrqLine*> irq_line_get_gsi(uint32_t gsi, bool level_triggered, bool active_low);
// Drops a line (an Intx line when its last user goes); it must have no handlers.
void irq_line_put(IrqLine* line);
bool irq_line_has_handlers(const IrqLine& line);

// For `selftest fpu`: whether a handler that fills the FPU/SIMD registers
// leaves the interrupted thread's (`pattern` in every one) as they were.
bool irq_handlers_keep_fpu_state(uint64_t pattern);

// keel_irq_request / keel_irq_free.
Result<IrqAction*> irq_request(Device& device, uint32_t index, keel_irq_handler_fn handler, void* arg);
void irq_free(IrqAction* action);

// ---- register mappings
struct MmioMapping {
    keel_mmio pub; // first: keel_mmio* is a MmioMapping*
    Devres devres;
    Device* device;
    void* mapping;
};
Result<MmioMapping*> mmio_map(Device& device, uint32_t region, uint64_t offset, uint64_t length);
void mmio_unmap(MmioMapping* mapping);

// ---- DMA
struct DmaBuffer {
    keel_dma_buffer pub; // first
    Devres devres;
    Device* device;
    uint64_t phys;
    unsigned order;
};
struct DmaMapping {
    keel_dma_mapping pub; // first
    Devres devres;
    Device* device;
    void* cpu;
    uint32_t direction;
    // A bounce buffer when the memory was not usable in place.
    void* bounce;
    uint64_t bounce_phys;
    unsigned bounce_order;
};
Result<void> dma_set_mask(Device& device, uint64_t mask);
Result<DmaBuffer*> dma_alloc_coherent(Device& device, uint64_t size);
void dma_free_coherent(DmaBuffer* buffer);
// The device's DMA could not be stopped (its bus's reset did not
// complete): from now on the memory of its coherent buffers and bounce
// buffers is kept, never freed or reused, when they are released (counted
// as quarantined), since the device may still write it. Memory a driver
// mapped in place is the driver's, which this cannot keep. Logged once.
void dma_quarantine(Device& device, const char* why);
Result<DmaMapping*> dma_map(Device& device, void* cpu, uint64_t size, uint32_t direction);
// The device's address of [cpu, cpu + size) when the device can reach it as
// it is (one physically contiguous run within the DMA mask); 0 otherwise.
// Allocates nothing, so any context may ask (the block layer's requests).
uint64_t dma_direct_address(const Device& device, const void* cpu, uint64_t size);
void dma_unmap(DmaMapping* mapping);
void dma_sync_for_cpu(DmaMapping* mapping);
void dma_sync_for_device(DmaMapping* mapping);

// ---- deferred work and timers
struct WorkItem {
    Devres devres;
    keel_work_fn fn;
    void* arg;
    Device* device;
    uint64_t due_ns; // 0: as soon as possible
    bool pending;
    bool running;
    IntrusiveListNode node;
};
void work_init();
Result<WorkItem*> work_create(Device& device, keel_work_fn fn, void* arg);
bool work_queue(WorkItem& item, uint64_t delay_ns);
bool work_cancel(WorkItem& item);
void work_free(WorkItem* item);

// ---- what is in use (lsdev -s, mem, the leak tests)
struct ResourceStats {
    size_t irq_vectors; // device vectors allocated
    size_t irq_handlers;
    size_t mmio_mappings;
    size_t dma_buffers;
    uint64_t dma_bytes; // pages of coherent buffers and bounce buffers
    size_t dma_mappings;
    size_t dma_bounced;       // mappings that bounce
    uint64_t dma_quarantined; // bytes kept from devices that may still write them
    size_t work_items;
};
ResourceStats resource_stats();

void irq_report(void (*print)(const char* line, void* context), void* context);

} // namespace keel

namespace keel {

// Everything a binding or a driver module could leak, in one snapshot:
// the leak tests (devtest cycles, modtest cycles) compare two.
struct LeakCounters {
    size_t free_pages;
    size_t heap_bytes;
    size_t heap_allocations;
    size_t vmalloc_areas;
    DeviceStats devices;
    ResourceStats resources;
};
LeakCounters leak_counters();
// "field before -> after" for each difference, or "" when none; true when equal.
bool describe_leaks(const LeakCounters& before, const LeakCounters& after, char* out, size_t size);

} // namespace keel
