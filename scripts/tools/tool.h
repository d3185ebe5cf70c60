// What the host tools (kmodpost, kmod-sign, kmodinfo, gen_init_cpio) share:
// one way to fail, to read and write files, and to report a bad command
// line.
//
// A host tool may use exceptions: they carry every error to run_tool(), the
// one place that prints it, as "TOOL: message" with the file and the
// system's reason named in the message.
//
//     int main(int argc, char** argv)
//     {
//         return keel::tools::run_tool("kmodpost", kUsage, [&] {
//             ... fail(path + ": not an ELF file"); ... usage_error(); ...
//             return 0;
//         });
//     }
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace keel::tools {

// Thrown by fail(): exit status 1.
struct Failure {
    std::string message;
};

// Thrown by usage_error(): the message (if any), the usage text, status 2.
struct UsageError {
    std::string message;
};

// Thrown by show_help(): the usage text on standard output, status 0.
struct HelpRequest { };

[[noreturn]] void fail(const std::string& message);
[[noreturn]] void usage_error(const std::string& message = "");
[[noreturn]] void show_help();

// Runs a tool's main body and turns what it throws into messages on
// standard error (one "PROGRAM: ..." line per line of the message, with
// anything unprintable escaped: messages quote untrusted files) and an exit
// status.
int run_tool(const char* program, const char* usage, const std::function<int()>& body);

// "0x1f": for messages.
std::string hex(uint64_t value);

// `text` with anything but printable ASCII escaped as \xNN: names and
// metadata come from untrusted files, which must not drive the terminal.
std::string printable(const std::string& text);

// Larger inputs are refused rather than read: no Keel module, key or spec
// comes near.
constexpr uint64_t kMaxFileSize = uint64_t(1) << 30;

// The whole of a regular file (or a pipe); fails naming the file and the
// system's reason.
std::vector<uint8_t> read_file(const std::string& path, uint64_t max_size = kMaxFileSize);
std::vector<uint8_t> read_standard_input(uint64_t max_size = kMaxFileSize);

// The permission bits of an existing file; `fallback` if there is none.
mode_t file_mode(const std::string& path, mode_t fallback);

// Writes through a temporary file next to `path`, synced and renamed over
// it, so `path` holds either its old contents or all of the new ones, never
// part of them. The file gets `mode`; by default what creating it would
// give (0666 less the umask).
constexpr mode_t kDefaultMode = mode_t(-1);
void write_file_atomically(const std::string& path, const void* data, size_t size, mode_t mode = kDefaultMode);
void write_file_atomically(const std::string& path, const std::vector<uint8_t>& data, mode_t mode = kDefaultMode);
void write_file_atomically(const std::string& path, const std::string& data, mode_t mode = kDefaultMode);
void write_standard_output(const std::string& data);

} // namespace keel::tools
