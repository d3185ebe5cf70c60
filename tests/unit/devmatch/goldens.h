// Reading linux_goldens.txt (capture_linux_goldens.py wrote it from a
// Linux 6.1 guest under QEMU): the PCI functions of a q35 machine with
// QEMU's virtio and edu devices, their modaliases, configuration spaces
// and BAR sizes; the virtio modaliases; alias patterns from Linux's modules.
// The tests find the file through $DEVMATCH_GOLDENS.
#pragma once

#include <stdint.h>
#include <stdlib.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace goldens {

struct PciFunction {
    std::string slot;  // "0000:00:10.0"
    std::string label; // the QEMU device ("virtio-blk-pci,disable-legacy=on") or "q35"
    uint16_t vendor = 0, device = 0, subvendor = 0, subdevice = 0;
    uint32_t class_code = 0;
    uint8_t revision = 0;
    std::string modalias;
    std::vector<uint8_t> config; // 256 bytes
    uint64_t bars[6] = {};
    std::string virtio_modalias; // empty unless a virtio device sits on it
};

struct Alias {
    std::string module;
    std::string pattern;
};

struct Goldens {
    std::vector<PciFunction> functions;
    std::vector<Alias> aliases;

    const PciFunction& function(const std::string& label) const
    {
        for (const PciFunction& f : functions) {
            if (f.label == label)
                return f;
        }
        throw std::runtime_error("no golden function " + label);
    }
    std::vector<std::string> aliases_of(const std::string& module) const
    {
        std::vector<std::string> out;
        for (const Alias& a : aliases) {
            if (a.module == module)
                out.push_back(a.pattern);
        }
        return out;
    }
};

inline Goldens load()
{
    const char* path = getenv("DEVMATCH_GOLDENS");
    if (!path)
        throw std::runtime_error("DEVMATCH_GOLDENS is not set");
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error(std::string("cannot open ") + path);
    Goldens g;
    std::map<std::string, size_t> by_slot;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        std::istringstream words(line);
        std::string kind;
        words >> kind;
        if (kind == "pci") {
            PciFunction f;
            std::string vendor, device, subvendor, subdevice, klass, revision;
            words >> f.slot >> f.label >> vendor >> device >> subvendor >> subdevice >> klass >> revision >> f.modalias;
            f.vendor = uint16_t(std::stoul(vendor, nullptr, 16));
            f.device = uint16_t(std::stoul(device, nullptr, 16));
            f.subvendor = uint16_t(std::stoul(subvendor, nullptr, 16));
            f.subdevice = uint16_t(std::stoul(subdevice, nullptr, 16));
            f.class_code = uint32_t(std::stoul(klass, nullptr, 16));
            f.revision = uint8_t(std::stoul(revision, nullptr, 16));
            by_slot[f.slot] = g.functions.size();
            g.functions.push_back(f);
        } else if (kind == "config") {
            std::string slot, hex;
            words >> slot >> hex;
            PciFunction& f = g.functions.at(by_slot.at(slot));
            for (size_t i = 0; i + 1 < hex.size(); i += 2)
                f.config.push_back(uint8_t(std::stoul(hex.substr(i, 2), nullptr, 16)));
        } else if (kind == "bars") {
            std::string slot;
            words >> slot;
            PciFunction& f = g.functions.at(by_slot.at(slot));
            for (uint64_t& size : f.bars)
                words >> size;
        } else if (kind == "virtio") {
            std::string slot, modalias;
            words >> slot >> modalias;
            g.functions.at(by_slot.at(slot)).virtio_modalias = modalias;
        } else if (kind == "alias") {
            Alias a;
            words >> a.module >> a.pattern;
            g.aliases.push_back(a);
        } else {
            throw std::runtime_error("bad golden line: " + line);
        }
    }
    return g;
}

} // namespace goldens
