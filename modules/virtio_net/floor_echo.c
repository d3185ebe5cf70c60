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
        uint8_t* frame = (uint8_t*)net->rx.buffers->cpu + (uint64_t)slot * net->rx.slot_size + VNET_HEADER;
        if (written >= VNET_HEADER && written <= net->rx.slot_size) {
            uint32_t length = written - VNET_HEADER;
            net->rx_frames++;
            /* Answered in place in the receive slot, which is given back
             * below; dropped when no transmit slot is free. */
            if (vnet_floor_datagram(frame, length, (uint32_t)keel_param_floor_echo_port)
                && (net->tx.free_count || vnet_tx_reclaim(net))) {
                vnet_floor_swap(frame);
                sent |= vnet_tx_add(net, frame, length) == 0;
            }
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
