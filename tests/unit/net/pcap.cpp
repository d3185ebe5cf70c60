#include "pcap.h"

#include <stdlib.h>

#include <catch2/catch.hpp>

namespace {

void put32(FILE* file, uint32_t value) { fwrite(&value, 4, 1, file); }
void put16(FILE* file, uint16_t value) { fwrite(&value, 2, 1, file); }

std::string shell_quote(const std::string& text)
{
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'')
            quoted += "'\\''";
        else
            quoted += c;
    }
    return quoted + "'";
}

std::vector<std::string> run_lines(const std::string& command)
{
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe);
    std::vector<std::string> lines;
    char buffer[4096];
    while (fgets(buffer, sizeof(buffer), pipe)) {
        std::string line(buffer);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
            line.pop_back();
        if (line.rfind("Running as user", 0) == 0)
            continue; // tshark's remark about root, not about the capture
        lines.push_back(line);
    }
    int status = pclose(pipe);
    INFO("command: " << command);
    REQUIRE(status == 0);
    return lines;
}

std::string tshark()
{
    const char* path = getenv("TSHARK");
    INFO("tshark is needed to judge the captures; scripts/build installs it (Debian package tshark)");
    REQUIRE(path);
    REQUIRE(*path);
    // Checksums are validated only when asked; TCP's analysis would only
    // add notes and warnings, which are expected under loss.
    return std::string(path) + " -n -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE"
        + " -o udp.check_checksum:TRUE";
}

} // namespace

PcapWriter::PcapWriter(const std::string& name, uint32_t linktype)
{
    const char* directory = getenv("NET_PCAP_DIR");
    m_path = std::string(directory && *directory ? directory : ".") + "/" + name + ".pcap";
    m_file = fopen(m_path.c_str(), "wb");
    REQUIRE(m_file);
    put32(m_file, 0xa1b2c3d4); // microsecond stamps, written in host order
    put16(m_file, 2);
    put16(m_file, 4);
    put32(m_file, 0);
    put32(m_file, 0);
    put32(m_file, 262144);
    put32(m_file, linktype);
}

PcapWriter::~PcapWriter() { close(); }

void PcapWriter::write(uint64_t millis, const uint8_t* bytes, size_t length)
{
    if (!m_file)
        return;
    put32(m_file, uint32_t(millis / 1000));
    put32(m_file, uint32_t(millis % 1000 * 1000));
    put32(m_file, uint32_t(length));
    put32(m_file, uint32_t(length));
    fwrite(bytes, 1, length, m_file);
    m_packets++;
}

void PcapWriter::close()
{
    if (m_file)
        fclose(m_file);
    m_file = nullptr;
}

std::vector<std::string> tshark_problems(const std::string& path)
{
    std::string filter = "_ws.malformed || _ws.expert.severity == error || ip.checksum.status == \"Bad\""
                         " || tcp.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\""
                         " || icmp.checksum.status == \"Bad\"";
    return run_lines(tshark() + " -r " + shell_quote(path) + " -Y " + shell_quote(filter) + " 2>&1");
}

std::vector<std::string> tshark_fields(
    const std::string& path, const std::vector<std::string>& fields, const std::string& filter)
{
    std::string command = tshark() + " -r " + shell_quote(path) + " -T fields -E separator=' '";
    for (const std::string& field : fields)
        command += " -e " + field;
    if (!filter.empty())
        command += " -Y " + shell_quote(filter);
    return run_lines(command + " 2>&1");
}
