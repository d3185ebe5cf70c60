// What the host tools (kmod-sign, kmodinfo) share: failures as one line
// naming the file and the problem, and reading a whole file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace keel::host {

// Thrown by fail(); each tool's main prints it as "TOOL: message".
struct Failure {
    std::string message;
};

[[noreturn]] void fail(const std::string& message);

std::vector<uint8_t> read_file(const std::string& path);

} // namespace keel::host
