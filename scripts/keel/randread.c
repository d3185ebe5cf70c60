/*
 * The Linux side of scripts/bench-virtio.py's random reads: COUNT reads of
 * SIZE bytes at random SIZE-aligned offsets of DEVICE with O_DIRECT, one
 * at a time (queue depth 1, as Keel's blkbench), each timed with
 * CLOCK_MONOTONIC. Built static on the host and put in the Linux peer's
 * initramfs; busybox has no tool that reads at random without a process
 * per read.
 *
 *   randread DEVICE SIZE COUNT
 *   randread: 1000 x 4096 bytes: 123456 us, 8100 IOPS, p50 118 us
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BLKGETSIZE64 _IOR(0x12, 114, size_t)

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int compare(const void* a, const void* b)
{
    uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char** argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: randread DEVICE SIZE COUNT\n");
        return 2;
    }
    size_t size = strtoul(argv[2], NULL, 0);
    unsigned long count = strtoul(argv[3], NULL, 0);
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
    uint64_t bytes = 0;
    void* buffer = NULL;
    uint64_t* latencies = calloc(count ? count : 1, sizeof(uint64_t));
    if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes) != 0 || size == 0 || bytes < size || !latencies
        || posix_memalign(&buffer, 4096, size) != 0) {
        perror("randread");
        return 1;
    }
    uint64_t blocks = bytes / size;
    uint64_t state = 0x9e3779b97f4a7c15u;
    uint64_t start = now_ns();
    for (unsigned long i = 0; i < count; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        uint64_t before = now_ns();
        if (pread(fd, buffer, size, (off_t)((state % blocks) * size)) != (ssize_t)size) {
            perror("randread: pread");
            return 1;
        }
        latencies[i] = now_ns() - before;
    }
    uint64_t total = now_ns() - start;
    qsort(latencies, count, sizeof(uint64_t), compare);
    printf("randread: %lu x %zu bytes: %llu us, %.0f IOPS, p50 %llu us\n", count, size,
        (unsigned long long)(total / 1000), total ? count * 1e9 / (double)total : 0.0,
        (unsigned long long)(count ? latencies[count / 2] / 1000 : 0));
    return 0;
}
