// The block cache on the host: its platform (host_bcache_platform.cpp) and
// a block device backed by a file (file_device.cpp), for the cache's tests
// and the filesystems' tests against real images.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string>
#include <vector>

#include "lib/base/result.h"

#include "bcache/block_device.h"

namespace bcache_test {

// The last messages the cache logged.
const std::vector<std::string>& logged();
void clear_log();
// How many times the cache slept waiting for a completion.
size_t waits();

// A block device over a file (pread/pwrite). Requests complete inside
// submit unless `deferred`: then they queue until complete_pending() (the
// platform's wait calls it, as an interrupt would arrive while sleeping).
class FileDevice {
public:
    // `sector_size` 512..4096. The file must exist; its size (rounded
    // down to sectors) is the device's.
    FileDevice(const char* name, const std::string& path, uint32_t sector_size = 512, bool read_only = false);
    ~FileDevice();
    FileDevice(const FileDevice&) = delete;
    FileDevice& operator=(const FileDevice&) = delete;

    keel::BlockDevice& device() { return m_device; }
    bool registered() const { return m_registered; }
    keel::Result<void> unregister();

    // Faults: reads or writes of this sector fail with EIO (UINT64_MAX: none);
    // or every write fails.
    uint64_t fail_read_sector = UINT64_MAX;
    uint64_t fail_write_sector = UINT64_MAX;
    bool fail_writes = false;
    bool fail_flush = false;
    bool deferred = false;
    // Runs before each deferred request completes (a test changes a block
    // while its write is in flight).
    void (*before_complete)(keel::BlockRequest& request, void* arg) = nullptr;
    void* before_complete_arg = nullptr;

    size_t reads = 0, writes = 0, flushes = 0;
    std::vector<uint32_t> read_sectors; // each read request's length, in order
    size_t pending_count() const { return m_pending.size(); }
    // Completes queued requests, oldest first (or newest first with
    // `reverse`, out of order as a real device may); returns how many.
    size_t complete_pending(bool reverse = false);

private:
public:
    static void submit_entry(keel::BlockDevice& device, keel::BlockRequest& request);

private:
    void perform(keel::BlockRequest& request);

    keel::BlockDevice m_device {};
    int m_fd = -1;
    bool m_registered = false;
    std::vector<keel::BlockRequest*> m_pending;
};

} // namespace bcache_test
