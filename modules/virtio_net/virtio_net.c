/*
 * virtio_net: an Ethernet device on the netdev core (eth0, eth1, ... in
 * the order they bind, as Linux names them without udev) for each virtio
 * network device. Negotiates VIRTIO_NET_F_MAC (else a random locally
 * administered address), F_STATUS (the link state; without it the link is
 * taken as up) and F_MTU (the device's MTU, else 1500; capped at 9000);
 * no offloads, no merged receive buffers, no control queue. One receive
 * and one transmit queue (rings.c).
 *
 * The link status is read at bind and again on every configuration-change
 * notification (keel_virtio_config_watch: thread context); a change goes
 * to the netdev core (keel_netdev_set_carrier), which logs it and shows it
 * in `ip link` (LOWER_UP or NO-CARRIER). Without F_STATUS the link is up
 * for good, as the specification says, and nothing is watched.
 *
 * remove() (rmmod, unbind, the transport going) revokes: no frame goes up
 * or out any more, the work is cancelled, the device is unregistered from
 * the netdev core (which takes it down, drops what waits and waits for its
 * holders), then reset; the core frees the rings and the slots.
 */
#include <keel/device.h>
#include <keel/module.h>

#include "virtio_net.h"

KEEL_MODULE_NAME("virtio_net");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("virtio network devices as Ethernet devices (eth0, ...)");
KEEL_MODULE_VERSION("1.0");

KEEL_MODULE_PARAM(bool, ignore_tx_interrupts, 0,
    "test only: ignore the transmit queue's interrupts, so that only the watchdog gives sent buffers back");

KEEL_MODULE_PARAM(uint, floor_echo_port, 0,
    "measurement only (scripts/bench's UDP round-trip floor): answer IPv4 UDP datagrams to this port from the "
    "receive interrupt, addresses and ports swapped, and drop every other frame received");

KEEL_DEVICE_TABLE(virtio, virtio_net_ids, KEEL_VIRTIO_DEVICE(VIRTIO_ID_NET));

static uint16_t load_le16(const uint8_t* bytes) { return (uint16_t)(bytes[0] | bytes[1] << 8); }

static int read_link(struct vnet* net)
{
    uint8_t status[2];
    if (!(net->features & (1ull << VIRTIO_NET_F_STATUS)))
        return 1;
    if (keel_virtio_config_read(net->device, VNET_CONFIG_STATUS, status, sizeof(status)) < 0)
        return 0;
    return (load_le16(status) & VIRTIO_NET_S_LINK_UP) != 0;
}

/* Thread context, never after remove() began (the core stops it first). */
static void vnet_config_changed(keel_device* device, void* arg)
{
    (void)device;
    struct vnet* net = arg;
    int up = read_link(net);
    uint64_t flags = keel_spin_lock(&net->lock);
    net->link_up = up;
    keel_spin_unlock(&net->lock, flags);
    keel_netdev_set_carrier(net->netdev, (uint32_t)up);
}

/* MAC, MTU and link status from the configuration (one read, with its
 * generation checks) when the device offers them. */
static int read_config(struct vnet* net, uint8_t mac[6])
{
    uint8_t config[VNET_CONFIG_LENGTH] = { 0 };
    uint32_t length = (net->features & (1ull << VIRTIO_NET_F_MTU)) ? VNET_CONFIG_LENGTH : VNET_CONFIG_MTU;
    int status = keel_virtio_config_read(net->device, 0, config, length);
    if (status < 0)
        return status;
    if (net->features & (1ull << VIRTIO_NET_F_MAC)) {
        __builtin_memcpy(mac, config + VNET_CONFIG_MAC, 6);
    } else {
        keel_get_random_bytes(mac, 6);
        mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
    }
    if (mac[0] & 1) {
        keel_logf(
            KEEL_LOG_ERR, "virtio_net: %s: the device's address is a multicast one", keel_device_name(net->device));
        return -KEEL_EINVAL;
    }
    net->link_up = !(net->features & (1ull << VIRTIO_NET_F_STATUS))
        || (load_le16(config + VNET_CONFIG_STATUS) & VIRTIO_NET_S_LINK_UP) != 0;
    net->mtu = VNET_MTU_DEFAULT;
    if (net->features & (1ull << VIRTIO_NET_F_MTU)) {
        uint32_t mtu = load_le16(config + VNET_CONFIG_MTU);
        if (mtu < VNET_MTU_MIN) {
            keel_logf(KEEL_LOG_ERR, "virtio_net: %s: the device's MTU %u is below %u", keel_device_name(net->device),
                mtu, VNET_MTU_MIN);
            return -KEEL_EINVAL;
        }
        net->mtu = mtu > VNET_MTU_MAX ? VNET_MTU_MAX : mtu;
    }
    return 0;
}

static void vnet_unregister(void* arg)
{
    struct vnet* net = arg;
    if (net->netdev)
        keel_netdev_unregister(net->netdev);
    net->netdev = 0;
}

static int vnet_probe(keel_device* device, const void* id)
{
    (void)id;
    struct vnet* net = keel_zalloc(sizeof(*net));
    uint8_t mac[6];
    int status;
    if (!net)
        return -KEEL_ENOMEM;
    if ((status = keel_device_add_action(device, keel_free, net)) < 0)
        return status;
    net->device = device;
    keel_device_set_drvdata(device, net);
    uint64_t wanted = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_NET_F_MTU;
    if ((status = keel_virtio_negotiate(device, wanted, &net->features)) < 0 || (status = read_config(net, mac)) < 0
        || (status = keel_work_create(device, vnet_rx_work, net, &net->rx_work)) < 0
        || (status = keel_work_create(device, vnet_tx_work, net, &net->tx_work)) < 0
        || (status = keel_work_create(device, vnet_tx_watchdog, net, &net->tx_watchdog)) < 0
        || (status = vnet_rings_create(net)) < 0)
        return status; /* the core logged why; it releases what was taken */
    vnet_rx_fill(net);
    if ((status = keel_virtio_driver_ok(device)) < 0)
        return status;
    /* The link as read_config found it: the watch below calls back once
     * at once, so a change since then is not missed either. */
    keel_netdev_config config = {
        .size = sizeof(keel_netdev_config),
        .version = KEEL_NETDEV_CONFIG_VERSION,
        .prefix = "eth",
        .mtu = net->mtu,
        .flags = KEEL_NETDEV_BROADCAST | (net->link_up ? KEEL_NETDEV_LOWER_UP : 0),
        .transmit = vnet_transmit,
        .context = net,
    };
    __builtin_memcpy(config.mac, mac, 6);
    if ((status = keel_netdev_register(&config, &net->netdev)) < 0) {
        keel_logf(KEEL_LOG_ERR, "virtio_net: %s: not registered: %d", keel_device_name(device), status);
        return status;
    }
    /* A probe that fails from here on still unregisters (the core runs
     * the binding's actions). */
    if ((status = keel_device_add_action(device, vnet_unregister, net)) < 0)
        return status;
    /* The core's receive thread polls the ring (KABI_NET_1.4) and counts
     * the times its queue was full through vnet_rx_room (KABI_NET_1.3). */
    if ((status = keel_netdev_rx_room_set(net->netdev, vnet_rx_room, net)) < 0
        || (status = keel_netdev_rx_poll_set(net->netdev, vnet_rx_poll, net)) < 0)
        return status;
    uint64_t flags = keel_spin_lock(&net->lock);
    net->polled = 1;
    keel_spin_unlock(&net->lock, flags);
    /* The work no longer runs once this returns; a frame that came
     * before the netdev existed may still be waiting. */
    keel_work_cancel(net->rx_work);
    keel_netdev_rx_schedule(net->netdev);
    /* Watched once the netdev exists; the core calls back once at once,
     * so a change since the read above is not missed. */
    if ((net->features & (1ull << VIRTIO_NET_F_STATUS))
        && (status = keel_virtio_config_watch(device, vnet_config_changed, net)) < 0)
        return status;
    keel_netdev_info info = { .size = sizeof(info), .version = KEEL_NETDEV_INFO_VERSION };
    (void)keel_netdev_info_get(net->netdev, &info);
    if (keel_param_floor_echo_port)
        keel_logf(KEEL_LOG_WARNING,
            "virtio_net: %s: %s: measurement mode: UDP to port %u is answered from the interrupt, every other frame "
            "received is dropped",
            keel_device_name(device), info.name, (unsigned)keel_param_floor_echo_port);
    keel_logf(KEEL_LOG_INFO,
        "virtio_net: %s: %s: %02x:%02x:%02x:%02x:%02x:%02x, mtu %u, link %s, %u rx and %u tx buffers of %u bytes",
        keel_device_name(device), info.name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], net->mtu,
        net->link_up ? "up" : "down", net->rx.count, net->tx.count, net->rx.slot_size);
    return 0;
}

static void vnet_remove(keel_device* device)
{
    struct vnet* net = keel_device_get_drvdata(device);
    uint64_t flags = keel_spin_lock(&net->lock);
    net->gone = 1;
    keel_spin_unlock(&net->lock, flags);
    /* Nothing reaches the netdev from the work once these return, nor
     * from an interrupt once no call of keel_netdev_rx_schedule is left. */
    keel_work_cancel(net->rx_work);
    keel_work_cancel(net->tx_work);
    keel_work_cancel(net->tx_watchdog);
    for (;;) {
        flags = keel_spin_lock(&net->lock);
        uint32_t scheduling = net->scheduling;
        keel_spin_unlock(&net->lock, flags);
        if (!scheduling)
            break;
        keel_thread_yield();
    }
    char name[16] = "";
    if (net->netdev) {
        keel_netdev_info info = { .size = sizeof(info), .version = KEEL_NETDEV_INFO_VERSION };
        if (keel_netdev_info_get(net->netdev, &info) == 0)
            __builtin_memcpy(name, info.name, sizeof(name));
    }
    vnet_unregister(net);
    keel_virtio_reset(device);
    keel_logf(KEEL_LOG_INFO,
        "virtio_net: %s: %s removed after %llu frames received, %llu sent, %llu waits for the receive queue, "
        "%llu transmit queue wakes by the watchdog",
        keel_device_name(device), name, (unsigned long long)net->rx_frames, (unsigned long long)net->tx_frames,
        (unsigned long long)net->rx_paused, (unsigned long long)net->tx_watchdog_wakes);
}

static const keel_driver_ops vnet_driver = {
    .size = sizeof(keel_driver_ops),
    .version = KEEL_DRIVER_OPS_VERSION,
    .name = "virtio_net",
    .id_table = KEEL_DEVICE_TABLE_OF(virtio_net_ids),
    .probe = vnet_probe,
    .remove = vnet_remove,
};

static keel_driver* g_driver;

static int vnet_init(void)
{
    if (keel_param_floor_echo_port > 65535) {
        keel_logf(KEEL_LOG_ERR, "virtio_net: floor_echo_port=%llu is not a port (1-65535, or 0 for off)",
            (unsigned long long)keel_param_floor_echo_port);
        return -KEEL_EINVAL;
    }
    return keel_driver_register(&vnet_driver, &g_driver);
}

static void vnet_exit(void) { keel_driver_unregister(g_driver); }

KEEL_MODULE_INIT(vnet_init);
KEEL_MODULE_EXIT(vnet_exit);
