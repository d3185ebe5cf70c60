/*
 * virtio_net's private state and the parts of the virtio 1.x network
 * device it uses (virtio spec, "Network Device"): the configuration
 * layout, the feature bits and the header in front of every frame.
 */
#pragma once

#include <keel/device.h>

#define VIRTIO_ID_NET 1

/* Feature bits (device-type bits 0-23). */
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16

/* The configuration: mac[6], status (u16), max_virtqueue_pairs (u16), mtu (u16). */
#define VNET_CONFIG_MAC 0
#define VNET_CONFIG_STATUS 6
#define VNET_CONFIG_MTU 10
#define VNET_CONFIG_LENGTH 12
#define VIRTIO_NET_S_LINK_UP 1

/* With VIRTIO_F_VERSION_1 every buffer starts with a 12-byte header
 * (flags, gso_type, hdr_len, gso_size, csum_start, csum_offset,
 * num_buffers); no offload is negotiated, so it is all zero on transmit. */
#define VNET_HEADER 12
#define VNET_ETHERNET_HEADER 14
#define VNET_VLAN_TAG 4
#define VNET_MTU_DEFAULT 1500
#define VNET_MTU_MIN 68
#define VNET_MTU_MAX 9000 /* larger offers are capped: each buffer holds a whole frame */

#define VNET_RX_QUEUE 0
#define VNET_TX_QUEUE 1
#define VNET_RING_MAX 128 /* buffers per direction, at most the queue's size */
#define VNET_RX_BUDGET 64 /* frames taken per run of the work before yielding (the core gives its own to the poll) */
/* How long the transmit queue waits for the interrupt that gives sent
 * buffers back before the watchdog looks at the ring itself. */
#define VNET_TX_WATCHDOG_NS (100ull * 1000 * 1000)
#define VNET_TX_STALL_REPORT 50 /* watchdog runs finding nothing (5 s) before the device is reported stuck */

struct vnet_ring {
    keel_virtqueue* queue;
    keel_dma_buffer* buffers; /* count slots of slot_size bytes */
    uint32_t count;
    uint32_t slot_size;
    uint32_t free_count;  /* tx: slots not with the device */
    uint16_t* free_slots; /* tx: a stack of their indices */
};

struct vnet {
    keel_device* device;
    keel_netdev* netdev;
    uint64_t features;
    uint32_t mtu;
    struct vnet_ring rx;
    struct vnet_ring tx;
    keel_work* rx_work; /* before the netdev exists: takes received frames and drops them */
    keel_work* tx_work; /* reclaims sent buffers, wakes the transmit queue */
    /* While the core's transmit queue waits (tx_waiting: vnet_transmit said
     * -EBUSY and no wake followed yet): takes sent buffers back itself when
     * their interrupt did not come within VNET_TX_WATCHDOG_NS. */
    keel_work* tx_watchdog;
    int tx_waiting;
    uint64_t tx_waiting_since_ns; /* keel_monotonic_ns() of the -EBUSY that began the wait */
    uint32_t tx_idle_runs;        /* watchdog runs in a row that found every buffer still with the device */
    keel_spinlock lock;           /* both rings, gone, link_up, the counters */
    int gone;                     /* remove() began: no frame goes up or out any more */
    /* The device broke a queue's protocol (the virtio core logged how): no
     * frame goes out or up any more, a frame to send fails with EIO, until
     * the device is bound again. */
    int broken;
    int link_up;
    int polled;          /* the netdev has vnet_rx_poll: the interrupt schedules it */
    uint32_t scheduling; /* interrupts between reading polled and scheduling */
    uint64_t rx_frames, rx_short, rx_no_memory, tx_frames, tx_busy;
    uint64_t rx_paused;         /* times the core's receive queue was full */
    uint64_t tx_watchdog_wakes; /* times the watchdog, not the interrupt, woke the transmit queue */
};

/* virtio_net.c: test only (boot case
 * udp-sends-go-on-when-transmit-interrupts-are-lost). */
extern KEEL_PARAM_CTYPE_bool keel_param_ignore_tx_interrupts;

/* virtio_net.c: measurement only (scripts/bench-net.py's floor of the
 * UDP round trip); 0 when off. */
extern KEEL_PARAM_CTYPE_uint keel_param_floor_echo_port;

/* rings.c */
int vnet_rings_create(struct vnet* net);
void vnet_rx_fill(struct vnet* net);
void vnet_rx_work(void* arg);
uint32_t vnet_rx_poll(void* arg, uint32_t budget);
void vnet_rx_room(void* arg);
void vnet_tx_work(void* arg);
void vnet_tx_watchdog(void* arg);
int32_t vnet_transmit(void* context, keel_pkt* frame);
void vnet_queue_callback(keel_virtqueue* queue, void* arg);
int vnet_rx_give(struct vnet* net, uint32_t slot);
uint32_t vnet_tx_reclaim(struct vnet* net);
int vnet_tx_add(struct vnet* net, const uint8_t* frame, uint32_t length);
uint32_t vnet_token_slot(void* token);

/* floor_echo.c */
void vnet_floor_echo(struct vnet* net);
