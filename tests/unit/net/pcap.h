// Captures for tshark to judge: every packet a test's code emits is
// written to a pcap file (the classic format, microsecond stamps from the
// test's fake clock), then tshark reads it back with checksum validation
// on and the test fails on any malformed packet, bad checksum or error.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <string>
#include <vector>

constexpr uint32_t kLinktypeEthernet = 1;
constexpr uint32_t kLinktypeRaw = 101; // IPv4 packets without a link header

class PcapWriter {
public:
    // A file named `name`.pcap in $NET_PCAP_DIR (or the current directory).
    PcapWriter(const std::string& name, uint32_t linktype);
    ~PcapWriter();
    void write(uint64_t millis, const uint8_t* bytes, size_t length);
    // Flushes and closes, so tshark can read it.
    void close();
    const std::string& path() const { return m_path; }
    size_t packets() const { return m_packets; }

private:
    std::string m_path;
    FILE* m_file = nullptr;
    size_t m_packets = 0;
};

// What tshark found wrong in a capture (empty when nothing): every packet
// that is malformed, carries an error-level expert item, or fails a
// checksum. Fails the calling test when tshark cannot run.
std::vector<std::string> tshark_problems(const std::string& path);
// tshark's fields for every packet, one line each: `tshark -T fields -e ...`
// with an optional display filter.
std::vector<std::string> tshark_fields(
    const std::string& path, const std::vector<std::string>& fields, const std::string& filter = "");
