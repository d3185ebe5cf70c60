/*
 * Measurement only: the floor of a UDP round trip through this card
 * (scripts/bench-net.py). With the module parameter floor_echo_port set,
 * the receive interrupt takes every used receive slot itself and answers
 * each IPv4 UDP datagram to that port at once, into a transmit slot with
 * the Ethernet addresses, the IP addresses and the ports swapped (which
 * leaves both checksums valid); every other frame received is dropped, and
 * nothing goes up to the netdev core. What is left of a round trip is
 * what no guest that waits for its interrupt can go without: QEMU taking
 * the frame from its backend and into the ring, the interrupt waking the
 * vCPU, one copy, the kick, and QEMU handing the answer back. No
 * protocol, no socket, no thread switch.
 */
#include <keel/device.h>
#include <keel/module.h>

#include "floor_frame.h"
#include "virtio_net.h"

/* The answer to `frame` (`length` bytes) into a free transmit slot; 0 when
 * queued, <0 when no slot was free (the datagram is then dropped). */
static int answer(struct vnet* net, const uint8_t* frame, uint32_t length)
{
    if (net->tx.free_count == 0 && vnet_tx_reclaim(net) == 0)
        return -KEEL_EBUSY;
    uint32_t slot = net->tx.free_slots[--net->tx.free_count];
    uint8_t* bytes = (uint8_t*)net->tx.buffers->cpu + (uint64_t)slot * net->tx.slot_size;
    __builtin_memset(bytes, 0, VNET_HEADER);
    __builtin_memcpy(bytes + VNET_HEADER, frame, length);
    vnet_floor_swap(bytes + VNET_HEADER);
    keel_virtio_segment segment = {
        .dma = net->tx.buffers->dma + (uint64_t)slot * net->tx.slot_size,
        .length = length + VNET_HEADER,
        .reserved = 0,
    };
    int status = keel_virtqueue_add(net->tx.queue, &segment, 1, 0, vnet_slot_token(slot));
    if (status < 0) {
        net->tx.free_slots[net->tx.free_count++] = (uint16_t)slot;
        return status;
    }
    net->tx_frames++;
    return 0;
}

/* The receive interrupt's work while floor_echo_port is set: every used
 * receive slot answered or dropped, and given straight back. Lock held. */
void vnet_floor_echo(struct vnet* net)
{
    void* token;
    uint32_t written;
    int sent = 0;
    int given = 0;
    while (keel_virtqueue_get_used(net->rx.queue, &token, &written) == 0) {
        uint32_t slot = vnet_token_slot(token);
        if (slot >= net->rx.count)
            continue; /* not a token of ours: the core logged the broken queue */
        const uint8_t* frame = (const uint8_t*)net->rx.buffers->cpu + (uint64_t)slot * net->rx.slot_size;
        if (written >= VNET_HEADER && written <= net->rx.slot_size) {
            net->rx_frames++;
            if (vnet_floor_datagram(frame + VNET_HEADER, written - VNET_HEADER, (uint32_t)keel_param_floor_echo_port))
                sent |= answer(net, frame + VNET_HEADER, written - VNET_HEADER) == 0;
        } else {
            net->rx_short++;
        }
        given |= vnet_rx_give(net, slot) == 0;
    }
    if (sent)
        keel_virtqueue_kick(net->tx.queue);
    if (given)
        keel_virtqueue_kick(net->rx.queue);
}
