// The virtio bus type and its devices: added by a transport as children
// of its binding, matched by devmatch's virtio rule, brought up through
// the library's status sequence over the transport (virtio.h).
#include "arch/cpu.h"
#include "device/resources.h"
#include "device/virtio/virtio.h"
#include "lib/base/format.h"
#include "log/log.h"
#include "time/clock.h"

namespace keel {

namespace {

bool virtio_match(const Device& device, const devmatch::DeviceTable& table, uint32_t index)
{
    return is_virtio_device(device)
        && devmatch::virtio_matches(devmatch::virtio_entry(table, index), virtio_device(device).id);
}

void virtio_release(Device& device) { device_destroy_object(static_cast<VirtioDevice*>(device.bus_data)); }

// After remove(), before the binding's resources go (newest first, buffers
// before the queues that name them): a reset stops the device using any
// of them. One that does not complete leaves the device free to write
// them: its transport's DMA is stopped where the transport's bus can
// (virtio-pci: bus mastering off, until the transport is bound again),
// else their memory is kept (dma_quarantine). A device that is gone
// (reads 0xff) writes nothing. And the driver's remove() has returned, so
// no queue callback may run from here on, though the queues themselves go
// later with the binding: they are unpublished now, and a dispatch already
// running is waited for (an interrupt raised before the reset finds none).
void virtio_quiesce(Device& device)
{
    VirtioDevice& owner = virtio_device(device);
    owner.quiesced = true;
    for (VirtioQueue*& queue : owner.queues)
        __atomic_store_n(&queue, nullptr, __ATOMIC_SEQ_CST);
    owner.wait_for_dispatches();
    Diagnostic problem;
    Result<void> reset = {};
    if (__atomic_exchange_n(&owner.test_fail_reset, false, __ATOMIC_ACQ_REL))
        reset = problem.fail(Error::ETIMEDOUT, "failed on purpose (devtest failreset)");
    else if (owner.transport.ops.get_status(owner.transport.context) != 0)
        reset = owner.status.reset(&problem);
    if (reset.is_ok()) {
        // Quiet now: what this binding was given may go again.
        __atomic_store_n(&device.dma_quarantined, false, __ATOMIC_RELEASE);
        return;
    }
    log_err("virtio: %s: reset at unbinding: %s", device.name, problem.message);
    if (reset.error() == Error::ENODEV)
        return;
    Device* transport = device.parent;
    if (transport && transport->bus && transport->bus->quiesce) {
        transport->bus->quiesce(*transport);
        owner.transport_stopped = true;
        log_err("virtio: %s: DMA stopped at its transport %s", device.name, transport->name);
        return;
    }
    dma_quarantine(device, "its virtio reset failed");
}

BusType g_virtio_bus {
    "virtio",
    devmatch::DeviceBus::Virtio,
    virtio_match,
    nullptr, // the queues, released with the binding, reset the device
    virtio_release,
    {},
    nullptr,
    virtio_config_unbinding,
    virtio_quiesce,
};

// virtio0, virtio1, ...: never reused while the kernel runs, as Linux's.
uint32_t g_next_index = 0;

} // namespace

void virtio_bus_init() { bus_register(g_virtio_bus); }

bool is_virtio_device(const Device& device) { return device.bus == &g_virtio_bus && device.bus_data; }

Result<Device*> virtio_device_add(Device& transport, const VirtioTransport& ops, uint32_t device_type, uint32_t vendor,
    Device** published, Diagnostic& diagnostic)
{
    if (transport.state != DeviceState::Probing && transport.state != DeviceState::Bound)
        return diagnostic.fail(Error::ENODEV, "%s is %s: only its driver adds virtio devices", transport.name,
            device_state_name(transport.state));
    auto* state = device_create_object<VirtioDevice>(ops);
    if (!state)
        return diagnostic.fail(Error::ENOMEM, "out of memory");
    state->id = { device_type, vendor };
    auto created = device_create(&g_virtio_bus, &transport, "virtio%u", g_next_index);
    if (created.is_error()) {
        device_destroy_object(state);
        return diagnostic.fail(Error::ENOMEM, "out of memory");
    }
    g_next_index++;
    Device& device = *created.value();
    device.bus_data = state;
    device.added_by_parent_driver = true;
    device.dma_mask = transport.dma_mask;
    MUST(devmatch::format_virtio_modalias(state->id, device.modalias, sizeof(device.modalias)));
    device_log(kDeviceLogInfo, "%s: virtio %s (type %u) on %s", device.name, virtio::device_type_name(device_type),
        device_type, transport.name);
    __atomic_store_n(published, &device, __ATOMIC_RELEASE);
    device_register(device);
    return &device;
}

Result<uint64_t> virtio_device_negotiate(Device& device, uint64_t wanted, Diagnostic& diagnostic)
{
    VirtioDevice& state = virtio_device(device);
    if (state.transport_stopped)
        return diagnostic.fail(Error::EIO, "its transport's DMA was stopped after a reset that failed: bind %s again",
            device.parent ? device.parent->name : "the transport");
    state.features = 0;
    state.features = TRY(virtio_negotiate(state.status, wanted, diagnostic));
    return state.features;
}

Result<void> virtio_device_driver_ok(Device& device, Diagnostic& diagnostic)
{
    VirtioDevice& state = virtio_device(device);
    if (state.status.step() != virtio::DeviceStatus::Step::FeaturesOk)
        return diagnostic.fail(Error::EINVAL, "DRIVER_OK before the features were negotiated");
    return state.status.driver_ok(&diagnostic);
}

Result<void> virtio_device_reset(Device& device, Diagnostic& diagnostic)
{
    return virtio_device(device).status.reset(&diagnostic);
}

// 10 us between reads of the status, spun: a reset may come from an
// interrupt handler (virtio_blk's, on a broken queue), where nothing may
// sleep; kResetPolls of them give a device 10 ms.
virtio::DeviceAccess VirtioDevice::with_reset_wait(virtio::DeviceAccess access)
{
    access.wait = [](void*) {
        uint64_t until = time::monotonic_ns() + 10000;
        while (time::monotonic_ns() < until)
            arch::cpu_relax();
    };
    return access;
}

} // namespace keel
