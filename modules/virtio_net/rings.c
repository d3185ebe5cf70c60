/*
 * virtio_net's two rings. Every buffer is a slot of one coherent DMA
 * allocation per direction: a frame is copied once into a slot on
 * transmit and once out of it into a keel_pkt on receive, so no packet
 * is ever with the device and an unbind has nothing to chase: resetting
 * the device is enough to take every slot back.
 *
 * The receive interrupt turns itself off and schedules the netdev core's
 * poll (KABI_NET_1.4, NAPI's way): the core's receive thread calls
 * vnet_rx_poll, which takes the used buffers, hands frames to the core
 * and gives the receive slots straight back to the device, so the ring
 * stays full (a frame that cannot get a packet is dropped and counted, its
 * slot reused), and the frames go up to the protocols in the same run of
 * that thread: no work item between the interrupt and the receive thread.
 * The poll takes at most the budget the core gives, and asks for the
 * interrupt again only once the ring is empty. Before the netdev is
 * registered a work item does the same (its frames are dropped).
 *
 * Back-pressure (KABI_NET_1.3): the core gives no budget while its receive
 * queue is full, so the used slots stay with the device, the device runs
 * out of buffers and its sender waits (QEMU stops reading its backend);
 * the core polls again once its receive thread has drained the queue to
 * half (and calls vnet_rx_room, which counts the wait). A flood then costs
 * the guest only the frames it has time for, none taken from the ring
 * only to be dropped.
 *
 * The transmit queue does not interrupt while it has free slots (as
 * Linux's virtio_net, which frees sent buffers as it sends): sent slots
 * are taken back when a transmit finds none free. Only a full ring asks
 * for an interrupt, so that the work takes them back and wakes the
 * netdev core's queue; the work then turns the interrupts off again. If
 * that interrupt does not come within VNET_TX_WATCHDOG_NS, a watchdog
 * work item takes the sent buffers back itself (vnet_tx_watchdog). A
 * frame costs no interrupt and no run of the work that would come just
 * before the answer's (a ping's reply, a UDP echo).
 *
 * Lock order: the core's netdev lock (held around vnet_transmit) before
 * net->lock; net->lock is never held while calling the netdev core.
 */
#include <keel/device.h>
#include <keel/module.h>

#include "virtio_net.h"

static void* slot_token(uint32_t index) { return (void*)(uintptr_t)(index + 1); }

uint32_t vnet_token_slot(void* token) { return (uint32_t)((uintptr_t)token - 1); }

static int ring_create(
    struct vnet* net, struct vnet_ring* ring, uint32_t index, keel_virtqueue_callback_fn callback, uint32_t slot_size)
{
    int status = keel_virtio_queue_create(net->device, index, 0, callback, net, &ring->queue);
    if (status < 0)
        return status;
    ring->count = keel_virtqueue_size(ring->queue);
    if (ring->count > VNET_RING_MAX)
        ring->count = VNET_RING_MAX;
    ring->slot_size = slot_size;
    return keel_dma_alloc_coherent(net->device, (uint64_t)ring->count * slot_size, &ring->buffers);
}

int vnet_rings_create(struct vnet* net)
{
    /* A whole frame per buffer (no VIRTIO_NET_F_MRG_RXBUF): header,
     * Ethernet header, a VLAN tag and the MTU, in 64-byte steps. */
    uint32_t slot = (VNET_HEADER + VNET_ETHERNET_HEADER + VNET_VLAN_TAG + net->mtu + 63) & ~63u;
    int status;
    if ((status = ring_create(net, &net->rx, VNET_RX_QUEUE, vnet_queue_callback, slot)) < 0
        || (status = ring_create(net, &net->tx, VNET_TX_QUEUE, vnet_queue_callback, slot)) < 0)
        return status;
    keel_virtqueue_disable_callbacks(net->tx.queue);
    net->tx.free_slots = keel_zalloc(sizeof(uint16_t) * net->tx.count);
    if (!net->tx.free_slots)
        return -KEEL_ENOMEM;
    if ((status = keel_device_add_action(net->device, keel_free, net->tx.free_slots)) < 0)
        return status;
    for (uint32_t i = 0; i < net->tx.count; i++)
        net->tx.free_slots[net->tx.free_count++] = (uint16_t)i;
    return 0;
}

int vnet_rx_give(struct vnet* net, uint32_t slot)
{
    keel_virtio_segment segment = {
        .dma = net->rx.buffers->dma + (uint64_t)slot * net->rx.slot_size,
        .length = net->rx.slot_size,
        .reserved = 0,
    };
    return keel_virtqueue_add(net->rx.queue, &segment, 0, 1, slot_token(slot));
}

/* Before DRIVER_OK: every receive slot to the device. */
void vnet_rx_fill(struct vnet* net)
{
    uint64_t flags = keel_spin_lock(&net->lock);
    for (uint32_t i = 0; i < net->rx.count; i++)
        if (vnet_rx_give(net, i) < 0)
            break;
    keel_virtqueue_kick(net->rx.queue);
    keel_spin_unlock(&net->lock, flags);
}

/* The frame in a used receive slot, copied into a packet (NULL when it is
 * too short to be a frame or no memory is left: counted). */
static keel_pkt* rx_copy(struct vnet* net, uint32_t slot, uint32_t written)
{
    if (written < VNET_HEADER + VNET_ETHERNET_HEADER || written > net->rx.slot_size) {
        net->rx_short++;
        return 0;
    }
    uint32_t length = written - VNET_HEADER;
    keel_pkt* packet = keel_pkt_alloc(0, length);
    if (!packet) {
        net->rx_no_memory++;
        return 0;
    }
    const uint8_t* bytes = (const uint8_t*)net->rx.buffers->cpu + (uint64_t)slot * net->rx.slot_size;
    __builtin_memcpy(keel_pkt_put(packet, length), bytes + VNET_HEADER, length);
    net->rx_frames++;
    return packet;
}

/* The core's receive queue, which was full, has room again (its receive
 * thread, which polls again by itself): counted for the removal line. */
void vnet_rx_room(void* arg)
{
    struct vnet* net = arg;
    uint64_t flags = keel_spin_lock(&net->lock);
    net->rx_paused++;
    keel_spin_unlock(&net->lock, flags);
}

/* KABI_NET_1.4's poll (the core's receive thread): at most `budget` used
 * slots, fewer once the ring is empty and the interrupt asked for again. */
uint32_t vnet_rx_poll(void* arg, uint32_t budget)
{
    struct vnet* net = arg;
    uint32_t done = 0;
    uint32_t given = 0;
    int empty = 0;
    uint64_t flags = keel_spin_lock(&net->lock);
    if (net->gone) {
        keel_spin_unlock(&net->lock, flags); /* the queue may be freed: not touched */
        return 0;
    }
    keel_virtqueue_disable_callbacks(net->rx.queue);
    while (done < budget) {
        void* token;
        uint32_t written;
        if (net->gone) {
            keel_spin_unlock(&net->lock, flags);
            return 0;
        }
        int status = keel_virtqueue_get_used(net->rx.queue, &token, &written);
        if (status == -KEEL_EIO)
            net->broken = 1;
        if (status == -KEEL_ENODATA && !keel_virtqueue_enable_callbacks(net->rx.queue)) {
            keel_virtqueue_disable_callbacks(net->rx.queue); /* a frame came meanwhile */
            continue;
        }
        if (status != 0) {
            empty = 1; /* all taken, the interrupt asked for (a broken queue was logged by the core) */
            break;
        }
        uint32_t slot = vnet_token_slot(token);
        keel_pkt* packet = rx_copy(net, slot, written);
        given += vnet_rx_give(net, slot) == 0;
        done++;
        if (packet) {
            keel_spin_unlock(&net->lock, flags);
            (void)keel_netdev_receive(net->netdev, packet); /* takes it; drops are counted there */
            flags = keel_spin_lock(&net->lock);
        }
    }
    if (given)
        keel_virtqueue_kick(net->rx.queue); /* the device may be waiting for buffers */
    keel_spin_unlock(&net->lock, flags);
    return empty ? done : budget; /* empty: done < budget, the interrupt asked for */
}

/* Before the netdev exists (no poll yet): the frames are taken and dropped. */
void vnet_rx_work(void* arg)
{
    struct vnet* net = arg;
    if (vnet_rx_poll(net, VNET_RX_BUDGET) >= VNET_RX_BUDGET)
        keel_work_queue(net->rx_work); /* more may wait: the next run, after others had theirs */
}

/* Sent slots back to the free stack. Lock held. */
uint32_t vnet_tx_reclaim(struct vnet* net)
{
    void* token;
    uint32_t written;
    uint32_t reclaimed = 0;
    int status;
    while ((status = keel_virtqueue_get_used(net->tx.queue, &token, &written)) == 0) {
        uint32_t slot = vnet_token_slot(token);
        if (slot < net->tx.count && net->tx.free_count < net->tx.count) {
            net->tx.free_slots[net->tx.free_count++] = (uint16_t)slot;
            reclaimed++;
        }
    }
    if (status == -KEEL_EIO)
        net->broken = 1;
    return reclaimed;
}

/* The transmit queue's interrupt. An interrupt may come before the
 * device used anything since the core began to wait: one asked for by a
 * transmit that then found a slot after all (vnet_transmit turns it off
 * again, but it may already be on its way). With nothing to take back
 * while the core waits, the interrupt stays asked for: turning it off
 * then left the core waiting for good, the device having used the whole
 * ring in silence. */
/* Sent slots back and, when there were any, the core's wait over: the
 * interrupt off until the ring is full again. Lock held; the work and the
 * watchdog both end a wait this way. */
static uint32_t tx_end_wait(struct vnet* net)
{
    uint32_t reclaimed = vnet_tx_reclaim(net);
    if (reclaimed) {
        keel_virtqueue_disable_callbacks(net->tx.queue);
        net->tx_waiting = 0;
        net->tx_idle_runs = 0;
    }
    return reclaimed;
}

void vnet_tx_work(void* arg)
{
    struct vnet* net = arg;
    uint64_t flags = keel_spin_lock(&net->lock);
    uint32_t reclaimed = 0;
    int broken = 0;
    while (!net->gone && !(reclaimed = tx_end_wait(net))) {
        if (!net->tx_waiting) {
            keel_virtqueue_disable_callbacks(net->tx.queue); /* nothing waits: no interrupt wanted */
            break;
        }
        if ((broken = net->broken) != 0) {
            net->tx_waiting = 0; /* nothing will come back: the core's next transmit fails at once */
            break;
        }
        if (keel_virtqueue_enable_callbacks(net->tx.queue))
            break; /* still waiting for the device: its interrupt comes */
    }
    keel_spin_unlock(&net->lock, flags);
    if (reclaimed || broken)
        keel_netdev_tx_wake(net->netdev); /* the core sends what waited for room */
}

/* Armed by a transmit that found the ring full (a no-op while armed, so
 * it may come due soon after a later wait began: it then looks again when
 * that wait is VNET_TX_WATCHDOG_NS old). If the core has waited that long,
 * the interrupt that should have given sent buffers back did not come, or
 * its work did not run. Takes them back and wakes the core as the work
 * would, logging the first time; with every buffer still with the device,
 * looks again later and reports a device that completes nothing for 5 s.
 * Neither a lost interrupt nor a stuck device wedges the queue silently. */
void vnet_tx_watchdog(void* arg)
{
    struct vnet* net = arg;
    uint64_t flags = keel_spin_lock(&net->lock);
    if (net->gone || !net->tx_waiting) {
        keel_spin_unlock(&net->lock, flags);
        return;
    }
    uint64_t waited = keel_monotonic_ns() - net->tx_waiting_since_ns;
    if (waited < VNET_TX_WATCHDOG_NS) {
        keel_spin_unlock(&net->lock, flags);
        keel_work_queue_delayed(net->tx_watchdog, VNET_TX_WATCHDOG_NS - waited);
        return;
    }
    uint64_t wakes = net->tx_watchdog_wakes;
    uint32_t reclaimed = tx_end_wait(net);
    if (!reclaimed && net->broken) {
        net->tx_waiting = 0; /* nothing will come back: the core's next transmit fails at once */
        keel_spin_unlock(&net->lock, flags);
        keel_netdev_tx_wake(net->netdev);
        return;
    }
    uint32_t idle_runs = 0;
    if (reclaimed)
        net->tx_watchdog_wakes++;
    else
        idle_runs = ++net->tx_idle_runs;
    keel_spin_unlock(&net->lock, flags);
    const char* device = keel_device_name(net->device);
    if (reclaimed) {
        if (wakes == 0)
            keel_logf(KEEL_LOG_WARNING,
                "virtio_net: %s: no transmit interrupt for %llu ms with the ring full; the watchdog took %u sent "
                "buffers back",
                device, (unsigned long long)(VNET_TX_WATCHDOG_NS / 1000000), reclaimed);
        keel_netdev_tx_wake(net->netdev);
        return;
    }
    if (idle_runs == VNET_TX_STALL_REPORT)
        keel_logf(KEEL_LOG_ERR, "virtio_net: %s: the device has completed no frame for %llu ms", device,
            (unsigned long long)(VNET_TX_WATCHDOG_NS / 1000000 * VNET_TX_STALL_REPORT));
    keel_work_queue_delayed(net->tx_watchdog, VNET_TX_WATCHDOG_NS);
}

/* `length` bytes of `frame` into a free transmit slot behind an all-zero
 * header, given to the device and counted; the caller kicks. Lock held, a
 * slot free. On failure the slot goes back to the free stack. */
int vnet_tx_add(struct vnet* net, const uint8_t* frame, uint32_t length)
{
    uint32_t slot = net->tx.free_slots[--net->tx.free_count];
    uint8_t* bytes = (uint8_t*)net->tx.buffers->cpu + (uint64_t)slot * net->tx.slot_size;
    __builtin_memset(bytes, 0, VNET_HEADER);
    __builtin_memcpy(bytes + VNET_HEADER, frame, length);
    keel_virtio_segment segment = {
        .dma = net->tx.buffers->dma + (uint64_t)slot * net->tx.slot_size,
        .length = length + VNET_HEADER,
        .reserved = 0,
    };
    int status = keel_virtqueue_add(net->tx.queue, &segment, 1, 0, slot_token(slot));
    if (status < 0) {
        net->tx.free_slots[net->tx.free_count++] = (uint16_t)slot;
        return status;
    }
    net->tx_frames++;
    return 0;
}

/* The netdev core's transmit: called with its lock held, interrupts off. */
int32_t vnet_transmit(void* context, keel_pkt* frame)
{
    struct vnet* net = context;
    size_t length = keel_pkt_length(frame);
    uint64_t flags = keel_spin_lock(&net->lock);
    if (net->gone || length + VNET_HEADER > net->tx.slot_size) {
        keel_spin_unlock(&net->lock, flags);
        keel_pkt_free(frame);
        return net->gone ? -KEEL_ENODEV : -KEEL_EMSGSIZE;
    }
    /* Full: ask for an interrupt when the device uses a slot, unless it
     * used one meanwhile (then take it back at once, and the interrupt is
     * not wanted after all). A broken queue gives nothing back. */
    int asked = 0;
    while (!net->broken && net->tx.free_count == 0 && vnet_tx_reclaim(net) == 0) {
        if (net->broken)
            break;
        if (keel_virtqueue_enable_callbacks(net->tx.queue)) {
            net->tx_busy++;
            net->tx_waiting = 1;
            net->tx_waiting_since_ns = keel_monotonic_ns();
            keel_spin_unlock(&net->lock, flags);
            keel_work_queue_delayed(net->tx_watchdog, VNET_TX_WATCHDOG_NS); /* no-op while armed */
            return -KEEL_EBUSY; /* the core keeps it until vnet_tx_work (or the watchdog) wakes it */
        }
        asked = 1;
    }
    if (asked)
        keel_virtqueue_disable_callbacks(net->tx.queue);
    if (net->broken) {
        keel_spin_unlock(&net->lock, flags);
        keel_pkt_free(frame);
        return -KEEL_EIO;
    }
    int status = vnet_tx_add(net, keel_pkt_data(frame), (uint32_t)length);
    if (status == 0)
        keel_virtqueue_kick(net->tx.queue);
    keel_spin_unlock(&net->lock, flags);
    keel_pkt_free(frame);
    return status == 0 ? 0 : -KEEL_EIO;
}

/* Either queue's interrupt. Receive: the interrupt off until the ring is
 * empty, and the core's poll scheduled (before the netdev exists, the
 * work); transmit: the work takes the sent slots back. */
void vnet_queue_callback(keel_virtqueue* queue, void* arg)
{
    struct vnet* net = arg;
    if (queue != net->rx.queue) {
        if (!keel_param_ignore_tx_interrupts)
            keel_work_queue(net->tx_work);
        return;
    }
    uint64_t flags = keel_spin_lock(&net->lock);
    if (keel_param_floor_echo_port && !net->gone) {
        vnet_floor_echo(net); /* measurement only: nothing goes up */
        keel_spin_unlock(&net->lock, flags);
        return;
    }
    int polled = net->polled && !net->gone;
    if (polled) {
        keel_virtqueue_disable_callbacks(net->rx.queue);
        net->scheduling++; /* remove() waits until the netdev is no longer touched */
    }
    keel_spin_unlock(&net->lock, flags);
    if (!polled) {
        keel_work_queue(net->rx_work);
        return;
    }
    keel_netdev_rx_schedule(net->netdev);
    flags = keel_spin_lock(&net->lock);
    net->scheduling--;
    keel_spin_unlock(&net->lock, flags);
}
