#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

namespace keel::tools {

void fail(const std::string& message) { throw Failure { message }; }
void usage_error(const std::string& message) { throw UsageError { message }; }
void show_help() { throw HelpRequest {}; }

namespace {

const char* g_program = "";

std::string reason() { return strerror(errno); }

void print_message(const std::string& message)
{
    std::istringstream lines(message);
    std::string line;
    while (std::getline(lines, line))
        fprintf(stderr, "%s: %s\n", g_program, printable(line).c_str());
}

std::vector<uint8_t> read_descriptor(int fd, const std::string& name, uint64_t max_size)
{
    std::vector<uint8_t> data;
    uint8_t chunk[65536];
    for (;;) {
        ssize_t got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            fail(name + ": read error: " + reason());
        if (got == 0)
            return data;
        if (data.size() + size_t(got) > max_size)
            fail(name + ": larger than the " + std::to_string(max_size) + " bytes this tool reads");
        data.insert(data.end(), chunk, chunk + got);
    }
}

// Closes the descriptor however the read ends.
struct Descriptor {
    int fd;
    ~Descriptor() { close(fd); }
};

} // namespace

int run_tool(const char* program, const char* usage, const std::function<int()>& body)
{
    g_program = program;
    try {
        return body();
    } catch (const HelpRequest&) {
        fputs(usage, stdout);
        return 0;
    } catch (const UsageError& error) {
        if (!error.message.empty())
            print_message(error.message);
        fputs(usage, stderr);
        return 2;
    } catch (const Failure& failure) {
        print_message(failure.message);
        return 1;
    }
}

std::string printable(const std::string& text)
{
    std::string out;
    for (unsigned char c : text) {
        if (c >= 0x20 && c < 0x7f) {
            out += char(c);
        } else {
            char escaped[8];
            snprintf(escaped, sizeof(escaped), "\\x%02x", c);
            out += escaped;
        }
    }
    return out;
}

std::string hex(uint64_t value)
{
    char text[24];
    snprintf(text, sizeof(text), "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

std::vector<uint8_t> read_file(const std::string& path, uint64_t max_size)
{
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail(path + ": cannot open: " + reason());
    Descriptor descriptor { fd };
    struct stat info;
    if (fstat(fd, &info) != 0)
        fail(path + ": cannot stat: " + reason());
    if (!S_ISREG(info.st_mode) && !S_ISFIFO(info.st_mode))
        fail(path + ": not a regular file");
    if (S_ISREG(info.st_mode) && uint64_t(info.st_size) > max_size)
        fail(path + ": " + std::to_string(info.st_size) + " bytes, larger than the " + std::to_string(max_size)
            + " this tool reads");
    return read_descriptor(fd, path, max_size);
}

std::vector<uint8_t> read_standard_input(uint64_t max_size)
{
    return read_descriptor(STDIN_FILENO, "standard input", max_size);
}

mode_t file_mode(const std::string& path, mode_t fallback)
{
    struct stat info;
    if (stat(path.c_str(), &info) != 0)
        return fallback;
    return info.st_mode & 07777;
}

void write_file_atomically(const std::string& path, const void* data, size_t size, mode_t mode)
{
    if (mode == kDefaultMode) {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    std::string temporary = path + ".XXXXXX";
    int fd = mkostemp(temporary.data(), O_CLOEXEC);
    if (fd < 0)
        fail(path + ": cannot create a temporary file next to it: " + reason());
    auto abandon = [&](const char* what) {
        std::string why = reason();
        close(fd);
        unlink(temporary.c_str());
        fail(path + ": " + what + ": " + why);
    };
    const uint8_t* bytes = static_cast<const uint8_t*>(data);
    size_t done = 0;
    while (done < size) {
        ssize_t wrote = write(fd, bytes + done, size - done);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0)
            abandon("write error");
        done += size_t(wrote);
    }
    if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
        abandon("cannot finish writing");
    if (close(fd) != 0) {
        std::string why = reason();
        unlink(temporary.c_str());
        fail(path + ": cannot finish writing: " + why);
    }
    if (rename(temporary.c_str(), path.c_str()) != 0) {
        std::string why = reason();
        unlink(temporary.c_str());
        fail(path + ": cannot replace: " + why);
    }
}

void write_file_atomically(const std::string& path, const std::vector<uint8_t>& data, mode_t mode)
{
    write_file_atomically(path, data.data(), data.size(), mode);
}

void write_file_atomically(const std::string& path, const std::string& data, mode_t mode)
{
    write_file_atomically(path, data.data(), data.size(), mode);
}

void write_standard_output(const std::string& data)
{
    size_t done = 0;
    while (done < data.size()) {
        ssize_t wrote = write(STDOUT_FILENO, data.data() + done, data.size() - done);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0)
            fail("writing standard output: " + reason());
        done += size_t(wrote);
    }
}

} // namespace keel::tools
