/*
 * The frames virtio_net's measurement mode answers (floor_echo.c), apart
 * so that the host fuzzes them (tests/fuzz/virtio, fuzz-vnet-floor-frame).
 */
#pragma once

#include <stdint.h>

#define VNET_FLOOR_ETHERNET_HEADER 14
#define VNET_FLOOR_IP_HEADER 20 /* no options: a datagram with any is not answered */
#define VNET_FLOOR_UDP_HEADER 8

#ifdef __cplusplus
extern "C" {
#endif

/* Whether the `length` bytes of `frame` are an unfragmented IPv4 UDP
 * datagram without IP options to `port`, whole within the frame. */
int vnet_floor_datagram(const uint8_t* frame, uint32_t length, uint32_t port);

/* Such a datagram turned into its answer in place: the Ethernet and IP
 * addresses and the ports swapped, which leaves both checksums valid. */
void vnet_floor_swap(uint8_t* frame);

#ifdef __cplusplus
}
#endif
