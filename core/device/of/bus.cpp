// The of bus in the kernel: the device tree's platform nodes become
// devices under "platform", registered (and bound, or queued for
// autoload) as the tree is walked.
#include "arch/memory_layout.h"
#include "device/of/of.h"
#include "device/resources.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "lib/fdt/platform.h"
#include "log/log.h"

namespace keel {

namespace {

// Linux's limit for a device tree, and ours (arch/aarch64/device_tree.cpp).
constexpr size_t kMaxTreeSize = 2u << 20;

bool of_match(const Device& device, const devmatch::DeviceTable& table, uint32_t index)
{
    return is_of_device(device) && of_best_entry(of_device(device).node(), table, index);
}

// A binding's interrupt lines: the node's inputs, routed and masked until
// a handler is requested. One that cannot be routed stays null (requesting
// it fails with ENOENT), logged.
void of_binding(Device& device)
{
    OfDevice& of = of_device(device);
    for (size_t i = 0; i < of.interrupt_count; i++) {
        auto line
            = irq_line_get_gsi(of.interrupts[i].intid, of.interrupts[i].level_triggered, of.interrupts[i].active_low);
        if (line.is_error())
            log_warn("of: %s: interrupt %zu (INTID %u): %s; not available", device.name, i, of.interrupts[i].intid,
                error_name(line.error()));
        of.lines[i] = line.is_ok() ? line.value() : nullptr;
    }
    device.irq_lines = of.lines;
    device.irq_count = uint32_t(of.interrupt_count);
}

void of_unbound(Device& device)
{
    OfDevice& of = of_device(device);
    for (size_t i = 0; i < of.interrupt_count; i++) {
        irq_line_put(of.lines[i]);
        of.lines[i] = nullptr;
    }
    device.irq_lines = nullptr;
    device.irq_count = 0;
}

void of_release(Device& device)
{
    device_destroy_object(static_cast<OfDevice*>(device.bus_data));
    device.bus_data = nullptr;
}

BusType g_of_bus {
    "of",
    devmatch::DeviceBus::Of,
    of_match,
    of_unbound,
    of_release,
    {},
    of_binding,
};

void copy_string(char* out, size_t size, const char* text)
{
    size_t length = min(strlen(text), size - 1);
    memcpy(out, text, length);
    out[length] = '\0';
}

class Populate final : public fdt::PlatformVisitor {
public:
    explicit Populate(Device* root)
        : m_root(root)
    {
    }

    void platform_node(const fdt::PlatformNode& node) override REQUIRES(g_device_lock)
    {
        if (node.compatible_size > OfDevice::kCompatibleSize || strlen(node.name) >= sizeof(OfDevice::name)
            || (node.type && strlen(node.type) >= sizeof(OfDevice::type))) {
            log_warn("of: %s: compatible, name or device_type too long; no device", node.name);
            return;
        }
        auto* of = device_create_object<OfDevice>();
        if (!of) {
            log_err("of: %s: out of memory", node.name);
            return;
        }
        copy_string(of->name, sizeof(of->name), node.name);
        of->has_type = node.type != nullptr;
        if (node.type)
            copy_string(of->type, sizeof(of->type), node.type);
        memcpy(of->compatible, node.compatible, node.compatible_size);
        of->compatible_size = node.compatible_size;
        for (size_t i = 0; i < node.interrupt_count && i < OfDevice::kMaxInterrupts; i++) {
            const fdt::GicInterrupt& interrupt = node.interrupts[i];
            of->interrupts[i] = { interrupt.intid(), interrupt.level_triggered(), interrupt.active_low() };
            of->interrupt_count++;
        }

        // Linux's name: the first address, a dot, the name without it.
        const char* at = strchr(node.name, '@');
        size_t base_length = at ? size_t(at - node.name) : strlen(node.name);
        auto created = node.reg_count ? device_create(&g_of_bus, m_root, "%llx.%.*s",
                           (unsigned long long)node.regs[0].base, int(base_length), node.name)
                                      : device_create(&g_of_bus, m_root, "%.*s", int(base_length), node.name);
        if (created.is_error()) {
            log_err("of: %s: out of memory", node.name);
            device_destroy_object(of);
            return;
        }
        Device& device = *created.value();
        device.bus_data = of;
        Diagnostic diagnostic;
        if (format_of_modalias(of->node(), device.modalias, sizeof(device.modalias), &diagnostic).is_error()) {
            log_warn("of: %s: no modalias (%s); no device", node.name, diagnostic.message);
            device_remove(device);
            return;
        }
        for (size_t i = 0; i < node.reg_count && i < Device::kMaxRegions; i++)
            device.regions[i] = { node.regs[i].base, node.regs[i].size, KEEL_REGION_MEMORY };
        device.region_count = min(node.reg_count, Device::kMaxRegions);
        size_t left_out = node.skipped
            + (node.reg_count > Device::kMaxRegions ? node.reg_count - Device::kMaxRegions : 0)
            + (node.interrupt_count > OfDevice::kMaxInterrupts ? node.interrupt_count - OfDevice::kMaxInterrupts : 0);
        if (left_out)
            log_warn("of: %s: %zu reg or interrupt entries left out", device.name, left_out);
        device_register(device);
        m_count++;
    }

    size_t count() const { return m_count; }

private:
    Device* m_root;
    size_t m_count = 0;
};

} // namespace

void of_init(uint64_t device_tree_phys)
{
    if (!device_tree_phys)
        return;
    Diagnostic diagnostic;
    auto blob = fdt::Blob::open(arch::phys_to_virt(device_tree_phys), kMaxTreeSize, diagnostic);
    if (blob.is_error()) {
        log_err("of: the device tree is unreadable: %s; no platform devices", diagnostic.message);
        return;
    }
    bus_register(g_of_bus);
    DeviceLockAccess access;
    auto root = device_create(nullptr, nullptr, "platform");
    if (root.is_error())
        return;
    device_register(*root.value());
    Populate populate(root.value());
    if (fdt::for_each_platform_node(blob.value(), populate, diagnostic).is_error())
        log_err("of: the device tree broke off: %s", diagnostic.message);
    log_info("of: %zu platform device(s) from the device tree", populate.count());
}

} // namespace keel
