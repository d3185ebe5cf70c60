// The of bus's match: Linux's best entry, not the first that matches.
#include "device/of/of.h"
#include "lib/devmatch/device_table.h"

namespace keel {

bool is_of_device(const Device& device)
{
    return device.bus && device.bus->table_bus == devmatch::DeviceBus::Of && device.bus_data;
}

bool of_best_entry(const devmatch::OfNode& node, const devmatch::DeviceTable& table, uint32_t index)
{
    if (index >= table.count || check_of_node(node).is_error())
        return false;
    int64_t best_score = 0;
    uint32_t best = 0;
    for (uint32_t i = 0; i < table.count; i++) {
        int64_t score = of_match_score(devmatch::of_entry(table, i), node);
        if (score > best_score) {
            best_score = score;
            best = i;
        }
    }
    return best_score > 0 && best == index;
}

} // namespace keel
