// KABI_DEVICE_1.0: drivers, and the resources of their bindings.
//
// A keel_device* is the core's Device*, a keel_driver* its Driver*; the
// resource handles (keel_mmio*, keel_dma_buffer*, ...) point at the public
// first member of the core's objects. A driver's table is checked against
// the image of the module that registers it (module_containing), which
// also becomes the driver's owner: pins hold that module.
#include "device/device.h"
#include "device/resources.h"
#include "kabi/errno.h"
#include "kabi/owner.h"
#include "kabi_impl.h"
#include "loader/loader.h"
#include "log/log.h"

namespace keel {

namespace {

Device* to_device(keel_device* device) { return reinterpret_cast<Device*>(device); }
const Device* to_device(const keel_device* device) { return reinterpret_cast<const Device*>(device); }

template<typename T> int32_t result_code(const Result<T>& result)
{
    return result.is_ok() ? 0 : kabi_error(result.error());
}

} // namespace

bool kabi_owner_readable(const void* address, size_t size, void* owner)
{
    auto* module = static_cast<Module*>(owner);
    if (!module)
        return true;
    auto start = reinterpret_cast<uintptr_t>(address);
    auto base = reinterpret_cast<uintptr_t>(module->base);
    return start >= base && size <= module->span && start - base <= module->span - size;
}

const char* kabi_device_owner_name(void* owner) { return owner ? static_cast<Module*>(owner)->name : "the core"; }
void kabi_device_owner_hold(void* owner, OwnerHold& hold) { module_hold(static_cast<Module*>(owner), hold); }
void kabi_device_owner_release(OwnerHold& hold) { module_release(hold); }

} // namespace keel

using namespace keel;

extern "C" int32_t keel_driver_register(const keel_driver_ops* ops, keel_driver** driver_out)
{
    if (!driver_out)
        return kabi_error(Error::EINVAL);
    // The table lives in the registering module's image.
    auto owned = module_owning_table(ops, KABI_TABLE_FUNCTION(ops, probe), __builtin_return_address(0), "driver");
    if (owned.is_error())
        return kabi_error(owned.error());
    Module* owner = owned.value();
    Diagnostic problem;
    auto driver = driver_register(ops, owner, kabi_owner_readable, problem);
    if (driver.is_error()) {
        log_err("device: %s: driver refused: %s", owner ? owner->name : "the core", problem.message);
        return kabi_error(driver.error());
    }
    *driver_out = reinterpret_cast<keel_driver*>(driver.value());
    return 0;
}

extern "C" int32_t keel_driver_unregister(keel_driver* driver)
{
    if (!driver)
        return kabi_error(Error::EINVAL);
    Diagnostic problem;
    auto result = driver_unregister(*reinterpret_cast<Driver*>(driver), problem);
    if (result.is_error())
        log_err("device: %s", problem.message);
    return result_code(result);
}

extern "C" const char* keel_device_name(const keel_device* device) { return device ? to_device(device)->name : "?"; }

extern "C" keel_device* keel_device_parent(keel_device* device)
{
    return device ? reinterpret_cast<keel_device*>(to_device(device)->parent) : nullptr;
}

extern "C" void keel_device_set_drvdata(keel_device* device, void* data)
{
    if (device)
        to_device(device)->drvdata = data;
}

extern "C" void* keel_device_get_drvdata(const keel_device* device)
{
    return device ? to_device(device)->drvdata : nullptr;
}

extern "C" int32_t keel_device_get_region(const keel_device* device, uint32_t index, keel_device_region* out)
{
    if (!device || !out)
        return kabi_error(Error::EINVAL);
    const Device& d = *to_device(device);
    if (index >= d.region_count)
        return kabi_error(Error::ENOENT);
    const DeviceRegion& region = d.regions[index];
    *out = { region.phys, region.length, region.flags, 0 };
    return 0;
}

extern "C" int32_t keel_mmio_map(
    keel_device* device, uint32_t region, uint64_t offset, uint64_t length, keel_mmio** out)
{
    if (!device || !out)
        return kabi_error(Error::EINVAL);
    auto mapping = mmio_map(*to_device(device), region, offset, length);
    if (mapping.is_error())
        return kabi_error(mapping.error());
    *out = &mapping.value()->pub;
    return 0;
}

extern "C" void keel_mmio_unmap(keel_mmio* mmio) { mmio_unmap(reinterpret_cast<MmioMapping*>(mmio)); }

extern "C" void keel_mmio_bad_access(const keel_mmio* mmio, uint64_t offset, uint32_t width)
{
    // Reported, not fatal: the access was not made. A driver stuck in a
    // loop of bad accesses would flood the log, so only some are told.
    static uint32_t reported = 0;
    uint32_t count = __atomic_add_fetch(&reported, 1, __ATOMIC_RELAXED);
    if (count > 10 && count % 1000 != 0)
        return;
    auto* mapping = reinterpret_cast<const MmioMapping*>(mmio);
    Module* module = module_containing_for_log(__builtin_return_address(0));
    log_err("%s: %s: %u-byte MMIO access at offset %#llx is outside the %#llx-byte mapping; not done (%u so far)",
        module ? module->name : "?", mapping && mapping->device ? mapping->device->name : "?", width,
        (unsigned long long)offset, mmio ? (unsigned long long)mmio->length : 0ull, count);
}

extern "C" int32_t keel_irq_request(
    keel_device* device, uint32_t index, keel_irq_handler_fn handler, void* arg, uint32_t flags, keel_irq** out)
{
    if (!device || !out || flags != 0)
        return kabi_error(Error::EINVAL);
    auto action = irq_request(*to_device(device), index, handler, arg);
    if (action.is_error())
        return kabi_error(action.error());
    *out = reinterpret_cast<keel_irq*>(action.value());
    return 0;
}

extern "C" void keel_irq_free(keel_irq* irq) { irq_free(reinterpret_cast<IrqAction*>(irq)); }

extern "C" int32_t keel_dma_set_mask(keel_device* device, uint64_t mask)
{
    if (!device)
        return kabi_error(Error::EINVAL);
    return result_code(dma_set_mask(*to_device(device), mask));
}

extern "C" int32_t keel_dma_alloc_coherent(keel_device* device, uint64_t size, keel_dma_buffer** out)
{
    if (!device || !out)
        return kabi_error(Error::EINVAL);
    auto buffer = dma_alloc_coherent(*to_device(device), size);
    if (buffer.is_error())
        return kabi_error(buffer.error());
    *out = &buffer.value()->pub;
    return 0;
}

extern "C" void keel_dma_free_coherent(keel_dma_buffer* buffer)
{
    dma_free_coherent(reinterpret_cast<DmaBuffer*>(buffer));
}

extern "C" int32_t keel_dma_map(
    keel_device* device, void* cpu, uint64_t size, uint32_t direction, keel_dma_mapping** out)
{
    if (!device || !out)
        return kabi_error(Error::EINVAL);
    auto mapping = dma_map(*to_device(device), cpu, size, direction);
    if (mapping.is_error())
        return kabi_error(mapping.error());
    *out = &mapping.value()->pub;
    return 0;
}

extern "C" void keel_dma_unmap(keel_dma_mapping* mapping) { dma_unmap(reinterpret_cast<DmaMapping*>(mapping)); }

extern "C" void keel_dma_sync_for_cpu(keel_dma_mapping* mapping)
{
    dma_sync_for_cpu(reinterpret_cast<DmaMapping*>(mapping));
}

extern "C" void keel_dma_sync_for_device(keel_dma_mapping* mapping)
{
    dma_sync_for_device(reinterpret_cast<DmaMapping*>(mapping));
}

extern "C" int32_t keel_work_create(keel_device* device, keel_work_fn fn, void* arg, keel_work** out)
{
    if (!device || !out)
        return kabi_error(Error::EINVAL);
    auto item = work_create(*to_device(device), fn, arg);
    if (item.is_error())
        return kabi_error(item.error());
    *out = reinterpret_cast<keel_work*>(item.value());
    return 0;
}

extern "C" int32_t keel_work_queue(keel_work* work)
{
    return work && work_queue(*reinterpret_cast<WorkItem*>(work), 0) ? 1 : 0;
}

extern "C" int32_t keel_work_queue_delayed(keel_work* work, uint64_t delay_ns)
{
    return work && work_queue(*reinterpret_cast<WorkItem*>(work), delay_ns) ? 1 : 0;
}

extern "C" int32_t keel_work_cancel(keel_work* work)
{
    return work && work_cancel(*reinterpret_cast<WorkItem*>(work)) ? 1 : 0;
}

extern "C" void keel_work_free(keel_work* work) { work_free(reinterpret_cast<WorkItem*>(work)); }

extern "C" int32_t keel_device_add_action(keel_device* device, keel_device_action_fn fn, void* arg)
{
    if (!fn)
        return kabi_error(Error::EINVAL);
    if (!device) {
        fn(arg);
        return kabi_error(Error::EINVAL);
    }
    return result_code(device_add_action(*to_device(device), fn, arg));
}

extern "C" int32_t keel_device_pin(keel_device* device, const char* holder, keel_pin** out)
{
    if (!device || !out)
        return kabi_error(Error::EINVAL);
    Diagnostic problem;
    auto pin = device_pin(*to_device(device), holder, problem);
    if (pin.is_error())
        return kabi_error(pin.error());
    *out = reinterpret_cast<keel_pin*>(pin.value());
    return 0;
}

extern "C" void keel_device_unpin(keel_pin* pin) { device_unpin(reinterpret_cast<DevicePin*>(pin)); }
