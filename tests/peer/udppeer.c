/*
 * UDP for the Linux side of the interoperation test (busybox's nc has no
 * UDP): built static on the host and put in the Linux guest's initramfs.
 *   udppeer send HOST PORT TEXT   sends TEXT, prints the answer ("reply: ...")
 *   udppeer echo PORT COUNT       answers COUNT datagrams with "echo: " + each
 * Waits at most 10 s for each datagram.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
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

int main(int argc, char** argv)
{
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
    fprintf(stderr, "usage: udppeer send HOST PORT TEXT | udppeer echo PORT COUNT\n");
    return 2;
}
