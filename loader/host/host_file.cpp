#include "host_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace keel::host {

void fail(const std::string& message) { throw Failure { message }; }

std::vector<uint8_t> read_file(const std::string& path)
{
    FILE* file = fopen(path.c_str(), "rb");
    if (!file)
        fail(path + ": cannot open: " + strerror(errno));
    std::vector<uint8_t> data;
    uint8_t chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), file)) > 0)
        data.insert(data.end(), chunk, chunk + got);
    bool failed = ferror(file);
    fclose(file);
    if (failed)
        fail(path + ": read error");
    return data;
}

} // namespace keel::host
