// The device-tree reader (core/lib/fdt) against trees QEMU's virt machine
// dumps (GICv3 with a kernel, an initramfs and a command line; GICv2 with
// EL2), a dtc-compiled tree with the corners QEMU leaves out, and blobs
// broken on purpose.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <string.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "lib/fdt/fdt.h"
#include "lib/fdt/machine.h"

using namespace keel;
using namespace keel::fdt;

namespace {

std::vector<uint8_t> load(const char* variable)
{
    const char* path = getenv(variable);
    REQUIRE(path != nullptr);
    std::ifstream file(path, std::ios::binary);
    REQUIRE(file.good());
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(file), {});
}

Result<void> read(const std::vector<uint8_t>& bytes, Machine& machine, Diagnostic& diagnostic)
{
    auto blob = TRY(Blob::open(bytes.data(), bytes.size(), diagnostic));
    return read_machine(blob, machine, diagnostic);
}

std::string bootargs(const Machine& machine) { return std::string(machine.bootargs, machine.bootargs_length); }

void put_be32(std::vector<uint8_t>& bytes, size_t offset, uint32_t value)
{
    bytes[offset] = uint8_t(value >> 24);
    bytes[offset + 1] = uint8_t(value >> 16);
    bytes[offset + 2] = uint8_t(value >> 8);
    bytes[offset + 3] = uint8_t(value);
}

uint32_t get_be32(const std::vector<uint8_t>& bytes, size_t offset) { return read_be32(bytes.data() + offset); }

// Counts what a walk reports, and checks it nests.
struct Counter final : Visitor {
    size_t nodes = 0, properties = 0, open = 0, deepest = 0;
    void begin_node(const char*, unsigned depth) override
    {
        CHECK(depth == open);
        nodes++;
        open++;
        deepest = std::max<size_t>(deepest, depth);
    }
    void property(const Property&, unsigned depth) override
    {
        CHECK(depth + 1 == open);
        properties++;
    }
    void end_node(unsigned depth) override
    {
        CHECK(depth + 1 == open);
        open--;
    }
};

} // namespace

TEST_CASE("QEMU virt, GICv3, with a kernel, an initramfs and a command line")
{
    auto bytes = load("FDT_VIRT_GICV3");
    Diagnostic diagnostic;
    Machine machine;
    REQUIRE(read(bytes, machine, diagnostic).is_ok());
    INFO(diagnostic.message);
    REQUIRE(machine.memory_count == 1);
    CHECK(machine.memory[0].base == 0x40000000);
    CHECK(machine.memory[0].size == 256ull << 20);
    CHECK(bootargs(machine) == "console=ttyAMA0 loglevel=7");
    REQUIRE(machine.has_initrd);
    CHECK(machine.initrd_end > machine.initrd_start);
    REQUIRE(machine.uart.present);
    CHECK(machine.uart.registers.base == 0x09000000);
    CHECK(machine.uart.registers.size == 0x1000);
    REQUIRE(machine.uart.has_interrupt);
    CHECK(machine.uart.interrupt.intid() == 33);
    CHECK(machine.gic.version == 3);
    CHECK(machine.gic.distributor.base == 0x08000000);
    CHECK(machine.gic.cpu_or_redistributor.base == 0x080a0000);
    REQUIRE(machine.timer.present);
    REQUIRE(machine.timer.interrupt_count == 4);
    CHECK(machine.timer.interrupts[2].intid() == 27); // the virtual timer
    CHECK(machine.psci.present);
    CHECK_FALSE(machine.psci.use_smc);
    REQUIRE(machine.pcie.present);
    CHECK(machine.pcie.ecam.size == 256ull << 20);
    CHECK(machine.pcie.bus_start == 0);
    CHECK(machine.pcie.bus_end == 255);
    CHECK(machine.dropped == 0);
}

TEST_CASE("QEMU virt, GICv2, EL2 and 512 MiB")
{
    auto bytes = load("FDT_VIRT_GICV2");
    Diagnostic diagnostic;
    Machine machine;
    REQUIRE(read(bytes, machine, diagnostic).is_ok());
    REQUIRE(machine.memory_count == 1);
    CHECK(machine.memory[0].size == 512ull << 20);
    CHECK(machine.gic.version == 2);
    CHECK(machine.gic.distributor.base == 0x08000000);
    CHECK(machine.gic.cpu_or_redistributor.base == 0x08010000);
    CHECK(machine.psci.present);
    CHECK(machine.psci.use_smc); // with EL2 QEMU's PSCI is reached by SMC
    CHECK_FALSE(machine.has_initrd);
    CHECK(machine.bootargs == nullptr);
}

TEST_CASE("memreserve, reserved-memory, 64-bit initrd, stdout-path and buses")
{
    auto bytes = load("FDT_EDGE");
    Diagnostic diagnostic;
    Machine machine;
    REQUIRE(read(bytes, machine, diagnostic).is_ok());
    REQUIRE(machine.memory_count == 3);
    CHECK(machine.memory[1].base == 0x60000000);
    CHECK(machine.memory[2].base == 0x100000000);
    CHECK(machine.memory[2].size == 1ull << 30);
    REQUIRE(machine.reserved_count == 3);
    CHECK(machine.reserved[0].base == 0x40000000);
    CHECK(machine.reserved[1].size == 0x20000);
    CHECK(machine.reserved[2].base == 0x4e000000);
    CHECK(bootargs(machine) == "loglevel=7 nullfs_rootfs");
    REQUIRE(machine.has_initrd);
    CHECK(machine.initrd_start == 0x44000000);
    CHECK(machine.initrd_end == 0x44100000);
    REQUIRE(machine.uart.present);
    CHECK(machine.uart.registers.base == 0x09040000);
    CHECK(machine.uart.interrupt.intid() == 40);
    CHECK(machine.gic.version == 2);
    CHECK(machine.psci.use_smc);
    REQUIRE(machine.pcie.present);
    CHECK(machine.pcie.ecam.base == 0x3f000000);
    CHECK(machine.pcie.bus_end == 15);
    // The bridge's disabled children (any status but "okay"), and not the
    // disabled bridge's; the torn one is ignored. Only the root bus's.
    REQUIRE(machine.pcie.disabled_count == 2);
    CHECK(machine.pcie.disabled[0] == 0x08);
    CHECK(machine.pcie.disabled[1] == 0x1a);
    CHECK(machine.pcie.disabled_ignored == 1);
    CHECK(machine.dropped == 1); // the torn child
    CHECK(pci_host_function_disabled(machine.pcie, 0, 0x08));
    CHECK(pci_host_function_disabled(machine.pcie, 0, 0x1a));
    CHECK_FALSE(pci_host_function_disabled(machine.pcie, 1, 0x08));
    CHECK_FALSE(pci_host_function_disabled(machine.pcie, 0, 0x10));
    CHECK_FALSE(pci_host_function_disabled(machine.pcie, 0, 0x20));
    CHECK_FALSE(pci_host_function_disabled(machine.pcie, 0, 0x09));
}

TEST_CASE("a walk reports every node and property, nested")
{
    auto bytes = load("FDT_VIRT_GICV3");
    Diagnostic diagnostic;
    auto blob = Blob::open(bytes.data(), bytes.size(), diagnostic);
    REQUIRE(blob.is_ok());
    Counter counter;
    REQUIRE(blob.value().walk(counter, diagnostic).is_ok());
    CHECK(counter.open == 0);
    CHECK(counter.nodes > 40);
    CHECK(counter.properties > counter.nodes);
    CHECK(counter.deepest >= 4); // cpus/cpu-map/socket0/cluster0/core0
}

TEST_CASE("broken headers are refused with the field named")
{
    auto good = load("FDT_EDGE");
    Diagnostic diagnostic;

    SECTION("too short")
    {
        CHECK(Blob::open(good.data(), 39, diagnostic).is_error());
        CHECK(strstr(diagnostic.message, "header"));
    }
    SECTION("magic")
    {
        auto bytes = good;
        bytes[0] ^= 1;
        CHECK(Blob::open(bytes.data(), bytes.size(), diagnostic).is_error());
        CHECK(strstr(diagnostic.message, "magic"));
    }
    SECTION("totalsize beyond the buffer")
    {
        CHECK(Blob::open(good.data(), get_be32(good, 4) - 1, diagnostic).is_error());
        CHECK(strstr(diagnostic.message, "totalsize"));
    }
    SECTION("version")
    {
        auto bytes = good;
        put_be32(bytes, 20, 15);
        CHECK(Blob::open(bytes.data(), bytes.size(), diagnostic).is_error());
        CHECK(strstr(diagnostic.message, "version"));
    }
    SECTION("structure block past the end")
    {
        auto bytes = good;
        put_be32(bytes, 36, 0xfffffff0);
        CHECK(Blob::open(bytes.data(), bytes.size(), diagnostic).is_error());
        CHECK(strstr(diagnostic.message, "structure block"));
    }
    SECTION("strings block past the end")
    {
        auto bytes = good;
        put_be32(bytes, 32, get_be32(bytes, 4));
        CHECK(Blob::open(bytes.data(), bytes.size(), diagnostic).is_error());
        CHECK(strstr(diagnostic.message, "strings block"));
    }
    SECTION("misaligned reservation map")
    {
        auto bytes = good;
        put_be32(bytes, 16, get_be32(bytes, 16) + 4);
        CHECK(Blob::open(bytes.data(), bytes.size(), diagnostic).is_error());
        CHECK(strstr(diagnostic.message, "off_mem_rsvmap"));
    }
}

TEST_CASE("broken structure blocks end the walk")
{
    auto good = load("FDT_EDGE");
    uint32_t struct_offset = get_be32(good, 8);
    uint32_t struct_size = get_be32(good, 36);
    Diagnostic diagnostic;
    Machine machine;

    SECTION("an unknown token")
    {
        auto bytes = good;
        put_be32(bytes, struct_offset, 7);
        CHECK(read(bytes, machine, diagnostic).is_error());
        CHECK(strstr(diagnostic.message, "unknown token"));
    }
    SECTION("no FDT_END")
    {
        auto bytes = good;
        put_be32(bytes, struct_offset + struct_size - 4, 4); // FDT_NOP
        CHECK(read(bytes, machine, diagnostic).is_error());
        CHECK(strstr(diagnostic.message, "without FDT_END"));
    }
    SECTION("a property name outside the strings block")
    {
        auto bytes = good;
        // The root's first property follows its BEGIN_NODE and empty name.
        REQUIRE(get_be32(bytes, struct_offset + 8) == 3);
        put_be32(bytes, struct_offset + 16, 0x7fffffff);
        CHECK(read(bytes, machine, diagnostic).is_error());
        CHECK(strstr(diagnostic.message, "nameoff"));
    }
    SECTION("a property longer than the block")
    {
        auto bytes = good;
        put_be32(bytes, struct_offset + 12, 0xfffffff0);
        CHECK(read(bytes, machine, diagnostic).is_error());
        CHECK(strstr(diagnostic.message, "len"));
    }
    SECTION("a reservation that overflows")
    {
        auto bytes = good;
        uint32_t map = get_be32(bytes, 16);
        put_be32(bytes, map, 0xffffffff);
        put_be32(bytes, map + 8, 0xffffffff);
        CHECK(read(bytes, machine, diagnostic).is_error());
        CHECK(strstr(diagnostic.message, "overflows"));
    }
    SECTION("every truncation of the structure block fails cleanly")
    {
        for (uint32_t size = 0; size < struct_size; size += 4) {
            auto bytes = good;
            put_be32(bytes, 36, size);
            Diagnostic each;
            CHECK(read(bytes, machine, each).is_error());
        }
    }
}

TEST_CASE("nesting past the limit is refused")
{
    // A hand-made blob: header, empty reservation map, kMaxDepth + 1 nested
    // nodes named "n", no strings.
    std::vector<uint8_t> bytes(40 + 16, 0);
    auto push = [&](uint32_t value) {
        bytes.resize(bytes.size() + 4);
        put_be32(bytes, bytes.size() - 4, value);
    };
    size_t struct_offset = bytes.size();
    push(1);
    push(0); // the root, ""
    for (unsigned i = 0; i < kMaxDepth; i++) {
        push(1);
        push(0x6e000000); // "n"
    }
    for (unsigned i = 0; i <= kMaxDepth; i++)
        push(2);
    push(9);
    put_be32(bytes, 0, kMagic);
    put_be32(bytes, 4, uint32_t(bytes.size()));
    put_be32(bytes, 8, uint32_t(struct_offset));
    put_be32(bytes, 12, uint32_t(bytes.size()));
    put_be32(bytes, 16, 40);
    put_be32(bytes, 20, 17);
    put_be32(bytes, 24, 16);
    put_be32(bytes, 32, 0);
    put_be32(bytes, 36, uint32_t(bytes.size() - struct_offset));
    Diagnostic diagnostic;
    Machine machine;
    CHECK(read(bytes, machine, diagnostic).is_error());
    CHECK(strstr(diagnostic.message, "deeper"));
}
