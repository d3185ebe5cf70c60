/*
 * The frames virtio_net's measurement mode answers (floor_echo.c): which
 * ones, and the answer made in place. Nothing here touches the device.
 */
#include "floor_frame.h"

static uint32_t load_be16(const uint8_t* bytes) { return (uint32_t)(bytes[0] << 8 | bytes[1]); }

static void swap_bytes(uint8_t* a, uint8_t* b, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        uint8_t byte = a[i];
        a[i] = b[i];
        b[i] = byte;
    }
}

int vnet_floor_datagram(const uint8_t* frame, uint32_t length, uint32_t port)
{
    if (length < VNET_FLOOR_ETHERNET_HEADER + VNET_FLOOR_IP_HEADER + VNET_FLOOR_UDP_HEADER)
        return 0; /* and no pointer into it is formed */
    const uint8_t* ip = frame + VNET_FLOOR_ETHERNET_HEADER;
    const uint8_t* udp = ip + VNET_FLOOR_IP_HEADER;
    if (load_be16(frame + 12) != 0x0800 || ip[0] != 0x45 || ip[9] != 17 || (load_be16(ip + 6) & 0x3fff) != 0)
        return 0;
    uint32_t total = load_be16(ip + 2);
    uint32_t udp_length = load_be16(udp + 4);
    return total >= VNET_FLOOR_IP_HEADER + VNET_FLOOR_UDP_HEADER && total <= length - VNET_FLOOR_ETHERNET_HEADER
        && udp_length >= VNET_FLOOR_UDP_HEADER && udp_length <= total - VNET_FLOOR_IP_HEADER
        && load_be16(udp + 2) == port;
}

void vnet_floor_swap(uint8_t* frame)
{
    uint8_t* ip = frame + VNET_FLOOR_ETHERNET_HEADER;
    swap_bytes(frame, frame + 6, 6);                                         /* Ethernet destination and source */
    swap_bytes(ip + 12, ip + 16, 4);                                         /* IP source and destination */
    swap_bytes(ip + VNET_FLOOR_IP_HEADER, ip + VNET_FLOOR_IP_HEADER + 2, 2); /* the ports */
}
