#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "host_bcache.h"

namespace bcache_test {

std::vector<FileDevice*>& deferred_devices()
{
    static std::vector<FileDevice*> devices;
    return devices;
}

namespace {
const keel::BlockDeviceOps kFileOps { FileDevice::submit_entry, nullptr, nullptr };
} // namespace

FileDevice::FileDevice(const char* name, const std::string& path, uint32_t sector_size, bool read_only)
{
    m_fd = open(path.c_str(), read_only ? O_RDONLY : O_RDWR);
    if (m_fd < 0)
        abort();
    struct stat st;
    fstat(m_fd, &st);
    snprintf(m_device.name, sizeof(m_device.name), "%s", name);
    m_device.sector_size = sector_size;
    m_device.sector_count = uint64_t(st.st_size) / sector_size;
    m_device.read_only = read_only;
    m_device.ops = &kFileOps;
    m_device.driver = this;
    m_registered = keel::block_device_register(m_device).is_ok();
    deferred_devices().push_back(this);
}

FileDevice::~FileDevice()
{
    complete_pending();
    if (m_registered)
        (void)unregister();
    auto& devices = deferred_devices();
    devices.erase(std::remove(devices.begin(), devices.end(), this), devices.end());
    close(m_fd);
}

keel::Result<void> FileDevice::unregister()
{
    auto result = keel::block_device_unregister(m_device);
    if (result.is_ok())
        m_registered = false;
    return result;
}

void FileDevice::submit_entry(keel::BlockDevice& device, keel::BlockRequest& request)
{
    auto* self = static_cast<FileDevice*>(device.driver);
    if (self->deferred)
        self->m_pending.push_back(&request);
    else
        self->perform(request);
}

void FileDevice::perform(keel::BlockRequest& request)
{
    request.status = keel::kBlockOk;
    uint64_t first = request.sector;
    uint64_t last = request.sector + request.sectors; // exclusive
    off_t offset = off_t(first * m_device.sector_size);
    size_t bytes = size_t(request.sectors) * m_device.sector_size;
    auto covers = [&](uint64_t sector) { return sector >= first && sector < last; };
    switch (request.op) {
    case keel::BlockOp::Read:
        reads++;
        read_sectors.push_back(request.sectors);
        if (last > m_device.sector_count || covers(fail_read_sector)
            || pread(m_fd, request.data, bytes, offset) != ssize_t(bytes))
            request.status = keel::Error::EIO;
        break;
    case keel::BlockOp::Write:
        writes++;
        if (last > m_device.sector_count || fail_writes || covers(fail_write_sector) || m_device.read_only
            || pwrite(m_fd, request.data, bytes, offset) != ssize_t(bytes))
            request.status = keel::Error::EIO;
        break;
    case keel::BlockOp::Flush:
        flushes++;
        if (fail_flush)
            request.status = keel::Error::EIO;
        break;
    }
    request.complete(request);
}

size_t FileDevice::complete_pending(bool reverse)
{
    size_t count = 0;
    while (!m_pending.empty()) {
        keel::BlockRequest* request;
        if (reverse) {
            request = m_pending.back();
            m_pending.pop_back();
        } else {
            request = m_pending.front();
            m_pending.erase(m_pending.begin());
        }
        if (before_complete)
            before_complete(*request, before_complete_arg);
        perform(*request);
        count++;
    }
    return count;
}

} // namespace bcache_test
