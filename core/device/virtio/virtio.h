// The virtio bus in the core (KABI_VIRTIO_1.0 and 1.1, docs/devices.md): a
// transport module adds a VirtioDevice as a child of its bound device; a
// driver module binds to it by device type and uses the core's status
// sequence, configuration reads and split virtqueues. Queues are resources
// of the driver's binding: releasing one first resets the device (so it no
// longer touches the rings), then unpublishes the queue from interrupt
// dispatch and waits for a running callback, then frees it; the rings'
// DMA memory is an older resource of the same binding, freed after. A
// driver's configuration-change callback is a resource of its binding too.
#pragma once

#include <stdint.h>

#include <keel/keel.h>

#include "arch/cpu.h"
#include "device/device.h"
#include "device/virtio/transport.h"
#include "lib/devmatch/virtio_id.h"

namespace keel {

struct VirtioQueue;
struct VirtioConfigWatch;

struct VirtioDevice {
    VirtioTransport transport;
    devmatch::VirtioId id;
    virtio::DeviceStatus status;
    uint64_t features = 0;
    // Published for interrupt dispatch (release/acquire); written under the
    // device lock.
    VirtioQueue* queues[KEEL_VIRTIO_QUEUE_MAX] = {};
    // Dispatches running now: a queue's release waits until it reads 0
    // after unpublishing the queue.
    uint32_t dispatching = 0;
    // The driver's configuration-change callback (config.cpp), published
    // as the queues are.
    VirtioConfigWatch* config_watch = nullptr;
    // A test hook (devtest failreset): the next unbinding acts as if the
    // device's reset never completed.
    bool test_fail_reset = false;
    // The bus's quiesce ran at the end of the binding (queue releases then
    // need no reset of their own); cleared when a binding makes queues.
    bool quiesced = false;
    // A reset failed and the transport's DMA was stopped instead: no driver
    // binds it (negotiation refuses) until the transport binds again and
    // adds a new device.
    bool transport_stopped = false;

    explicit VirtioDevice(const VirtioTransport& t)
        : transport(t)
        , status(with_reset_wait(transport.access()))
    {
    }
    // The access with a wait between reads of the status while a reset
    // completes (bus.cpp): a device gets 10 ms, not 1,000 reads back to back.
    static virtio::DeviceAccess with_reset_wait(virtio::DeviceAccess access);
    // After a callback was unpublished (sequentially consistent with the
    // dispatch's increment and load): until no dispatch still runs one.
    void wait_for_dispatches() const
    {
        while (__atomic_load_n(&dispatching, __ATOMIC_SEQ_CST) != 0)
            arch::cpu_relax();
    }
    VirtioDevice(const VirtioDevice&) = delete;
    VirtioDevice& operator=(const VirtioDevice&) = delete;
};

void virtio_bus_init();
bool is_virtio_device(const Device& device);
inline VirtioDevice& virtio_device(const Device& device) { return *static_cast<VirtioDevice*>(device.bus_data); }

// A child of `transport` (probing or bound), registered: a driver binds
// now, or autoload hears of it. `*published` is written before the device
// is registered, so the transport's interrupt handlers reach it while a
// driver's probe (run by the registration) waits for its first requests.
Result<Device*> virtio_device_add(Device& transport, const VirtioTransport& ops, uint32_t device_type, uint32_t vendor,
    Device** published, Diagnostic& diagnostic) REQUIRES(g_device_lock);

Result<uint64_t> virtio_device_negotiate(Device& device, uint64_t wanted, Diagnostic& diagnostic);
Result<void> virtio_device_driver_ok(Device& device, Diagnostic& diagnostic);
Result<void> virtio_device_reset(Device& device, Diagnostic& diagnostic);
Result<VirtioQueue*> virtio_queue_create(Device& device, uint32_t index, uint32_t max_size,
    keel_virtqueue_callback_fn callback, void* arg, Diagnostic& diagnostic);
void virtio_queue_interrupt(Device& device, uint32_t index);

// Configuration changes (config.cpp): the driver's callback, run in
// thread context on a work item of its binding after each notification
// the transport reports; stopped before remove() (the bus's unbinding
// hook) and when the binding's resources are released.
Result<void> virtio_config_watch(
    Device& device, keel_virtio_config_changed_fn callback, void* arg, Diagnostic& diagnostic);
void virtio_config_interrupt(Device& device);
void virtio_config_unbinding(Device& device);

uint32_t virtio_queue_size(const VirtioQueue& queue);
Result<void> virtio_queue_add(VirtioQueue& queue, const keel_virtio_segment* segments, uint32_t out_count,
    uint32_t in_count, void* token, Diagnostic& diagnostic);
void virtio_queue_kick(VirtioQueue& queue);
Result<void> virtio_queue_get_used(VirtioQueue& queue, void** token, uint32_t* written, Diagnostic& diagnostic);
void virtio_queue_disable_callbacks(VirtioQueue& queue);
bool virtio_queue_enable_callbacks(VirtioQueue& queue);

} // namespace keel
