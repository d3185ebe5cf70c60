/*
 * UDP for the Linux side of the interoperation test (busybox's nc has no
 * UDP): built static on the host and put in the Linux guest's initramfs.
 *   udppeer send HOST PORT TEXT   sends TEXT, prints the answer ("reply: ...")
 *   udppeer echo PORT COUNT       answers COUNT datagrams with "echo: " + each
 * Waits at most 10 s for each datagram. For scripts/bench-net.py, as Keel's
 * udpperf (core/net/udpperf_command.cpp) and with its output line:
 *   udppeer count PORT SECONDS [echo]   counts (or echoes) what arrives on
 *       PORT from the first datagram for SECONDS, or until none came for 1 s
 *   udppeer blast HOST PORT LENGTH SECONDS   sends LENGTH-byte datagrams
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, CLOCK_MONOTONIC under -std=c11 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int open_socket(int port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct timeval timeout = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    if (fd < 0 || bind(fd, (struct sockaddr*)&local, sizeof(local)) < 0) {
        perror("udppeer: bind");
        exit(1);
    }
    return fd;
}

static long long now_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000LL + now.tv_nsec / 1000;
}

static int count(int port, int seconds, int echo)
{
    static char buffer[65536];
    int fd = open_socket(port);
    struct timeval wait = { 30, 0 }, quiet = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
    struct sockaddr_in from;
    socklen_t from_length = sizeof(from);
    ssize_t length = recvfrom(fd, buffer, sizeof(buffer), 0, (struct sockaddr*)&from, &from_length);
    if (length < 0) {
        perror("udppeer: recvfrom");
        return 1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &quiet, sizeof(quiet));
    long long first = now_us(), last = first, end = first + seconds * 1000000LL, datagrams = 0, bytes = 0, echoed = 0;
    for (;;) {
        datagrams++;
        bytes += length;
        if (echo && sendto(fd, buffer, (size_t)length, 0, (struct sockaddr*)&from, from_length) == length)
            echoed++;
        if (now_us() >= end)
            break;
        from_length = sizeof(from);
        length = recvfrom(fd, buffer, sizeof(buffer), 0, (struct sockaddr*)&from, &from_length);
        if (length < 0)
            break;
        last = now_us();
    }
    char source[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &from.sin_addr, source, sizeof(source));
    printf("udppeer: %lld datagrams, %lld bytes in %lld us from %s:%u (%lld datagrams/s)", datagrams, bytes,
        last - first, source, ntohs(from.sin_port), last > first ? (datagrams - 1) * 1000000 / (last - first) : 0);
    if (echo)
        printf(", %lld echoed", echoed);
    printf("\n");
    return 0;
}

static int blast(const char* host, int port, int length, int seconds)
{
    static char buffer[65536];
    int fd = open_socket(0);
    struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    inet_pton(AF_INET, host, &peer.sin_addr);
    if (length < 1 || length > (int)sizeof(buffer) || connect(fd, (struct sockaddr*)&peer, sizeof(peer)) < 0) {
        perror("udppeer: connect");
        return 1;
    }
    for (int i = 0; i < length; i++)
        buffer[i] = (char)i;
    long long start = now_us(), end = start + seconds * 1000000LL, now = start, sent = 0, refused = 0;
    while (now < end) {
        if (send(fd, buffer, (size_t)length, 0) == length)
            sent++;
        else
            refused++;
        now = now_us();
    }
    printf("udppeer: %lld datagrams, %lld bytes sent in %lld us (%lld datagrams/s), %lld refused\n", sent,
        sent * length, now - start, now > start ? sent * 1000000 / (now - start) : 0, refused);
    return sent ? 0 : 1;
}

int main(int argc, char** argv)
{
    if ((argc == 4 || (argc == 5 && strcmp(argv[4], "echo") == 0)) && strcmp(argv[1], "count") == 0)
        return count(atoi(argv[2]), atoi(argv[3]), argc == 5);
    if (argc == 6 && strcmp(argv[1], "blast") == 0)
        return blast(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    char buffer[2048];
    if (argc == 5 && strcmp(argv[1], "send") == 0) {
        int fd = open_socket(0);
        struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[3])) };
        inet_pton(AF_INET, argv[2], &peer.sin_addr);
        if (sendto(fd, argv[4], strlen(argv[4]), 0, (struct sockaddr*)&peer, sizeof(peer)) < 0) {
            perror("udppeer: sendto");
            return 1;
        }
        ssize_t length = recv(fd, buffer, sizeof(buffer) - 1, 0);
        if (length < 0) {
            perror("udppeer: recv");
            return 1;
        }
        buffer[length] = 0;
        printf("reply: %s\n", buffer);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "echo") == 0) {
        int fd = open_socket(atoi(argv[2]));
        for (int i = 0; i < atoi(argv[3]); i++) {
            struct sockaddr_in from;
            socklen_t from_length = sizeof(from);
            ssize_t length = recvfrom(fd, buffer + 6, sizeof(buffer) - 7, 0, (struct sockaddr*)&from, &from_length);
            if (length < 0) {
                perror("udppeer: recvfrom");
                return 1;
            }
            memcpy(buffer, "echo: ", 6);
            sendto(fd, buffer, (size_t)length + 6, 0, (struct sockaddr*)&from, from_length);
        }
        return 0;
    }
    fprintf(stderr,
        "usage: udppeer send HOST PORT TEXT | udppeer echo PORT COUNT | udppeer count PORT SECONDS [echo] | "
        "udppeer blast HOST PORT LENGTH SECONDS\n");
    return 2;
}
