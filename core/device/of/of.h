// The `of` bus: platform devices from the device tree (lib/fdt/platform.h),
// each named as Linux names them ("9010000.pl031"), with its `reg` ranges
// as memory regions and Linux's modalias
// ("of:Npl031T(null)Carm,pl031Carm,primecell"). Drivers match them with
// KEEL_DEVICE_TABLE(of, ...) entries by Linux's rule: the best entry
// (devmatch/of.h). Only where the boot loader handed over a device tree.
// A binding gets the node's interrupts as lines 0..n-1 (keel_irq_request),
// shared interrupt-controller inputs like INTx.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "device/device.h"
#include "lib/devmatch/of.h"

namespace keel {

struct IrqLine;

struct OfDevice {
    static constexpr size_t kCompatibleSize = 256;
    static constexpr size_t kMaxInterrupts = 4;
    char name[devmatch::kOfNameSize + 32]; // with the unit address
    char type[devmatch::kOfTypeSize];
    bool has_type;
    char compatible[kCompatibleSize];
    size_t compatible_size;
    // The node's interrupts (GIC INTIDs) and, while bound, their lines:
    // keel_irq_request's index i is interrupt i.
    struct {
        uint32_t intid;
        bool level_triggered;
        bool active_low;
    } interrupts[kMaxInterrupts];
    size_t interrupt_count;
    IrqLine* lines[kMaxInterrupts];

    devmatch::OfNode node() const { return { name, has_type ? type : nullptr, compatible, compatible_size }; }
};

bool is_of_device(const Device& device);
inline OfDevice& of_device(const Device& device) { return *static_cast<OfDevice*>(device.bus_data); }

// Entry `index` of `table` is the best of the table's entries for the node
// (Linux's __of_match_node); false when none matches.
bool of_best_entry(const devmatch::OfNode& node, const devmatch::DeviceTable& table, uint32_t index);

// ---- kernel only
// Registers the bus and a device for every platform node of the tree at
// `device_tree_phys` (0: none, nothing is done).
void of_init(uint64_t device_tree_phys);

} // namespace keel
