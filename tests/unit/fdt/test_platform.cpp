// The device tree's platform devices (core/lib/fdt/platform.h): QEMU virt's
// nodes as the of bus sees them, and the edge tree's corners: disabled
// nodes, a simple-bus that translates (its children are not reported), an
// interrupt with no interrupt parent (left out, counted).
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "lib/fdt/platform.h"

using namespace keel;
using namespace keel::fdt;

namespace {

struct Collected final : PlatformVisitor {
    std::map<std::string, PlatformNode> nodes;
    std::vector<std::string> order;
    void platform_node(const PlatformNode& node) override
    {
        nodes[node.name] = node;
        order.push_back(node.name);
    }
};

struct Tree {
    std::vector<uint8_t> bytes;
    Collected collected;
    size_t count = 0;

    explicit Tree(const char* variable)
    {
        const char* path = getenv(variable);
        REQUIRE(path != nullptr);
        std::ifstream file(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(file), {});
        Diagnostic diagnostic;
        auto blob = Blob::open(bytes.data(), bytes.size(), diagnostic);
        REQUIRE(blob.is_ok());
        auto found = for_each_platform_node(blob.value(), collected, diagnostic);
        REQUIRE(found.is_ok());
        count = found.value();
    }
};

std::string compatible(const PlatformNode& node) { return std::string(node.compatible, node.compatible_size); }

} // namespace

TEST_CASE("QEMU virt's platform devices")
{
    Tree tree("FDT_VIRT_GICV3");
    CHECK(tree.count == tree.collected.order.size());
    REQUIRE(tree.collected.nodes.count("pl031@9010000"));
    const PlatformNode& rtc = tree.collected.nodes["pl031@9010000"];
    CHECK(compatible(rtc) == std::string("arm,pl031\0arm,primecell\0", 24));
    CHECK(rtc.type == nullptr);
    REQUIRE(rtc.reg_count == 1);
    CHECK(rtc.regs[0].base == 0x9010000);
    CHECK(rtc.regs[0].size == 0x1000);
    REQUIRE(rtc.interrupt_count == 1);
    CHECK(rtc.interrupts[0].intid() == 34);
    CHECK(rtc.interrupts[0].level_triggered());
    CHECK(rtc.skipped == 0);
    // QEMU's 32 virtio-mmio slots, each with its SPI.
    size_t slots = 0;
    for (auto& [name, node] : tree.collected.nodes) {
        if (name.rfind("virtio_mmio@", 0) == 0) {
            slots++;
            CHECK(node.interrupt_count == 1);
            CHECK(node.regs[0].size == 0x200);
        }
    }
    CHECK(slots == 32);
    REQUIRE(tree.collected.nodes.count("pcie@10000000"));
    CHECK(std::string(tree.collected.nodes["pcie@10000000"].type) == "pci");
    // The ITS is the GIC's child, not on a bus.
    for (auto& name : tree.collected.order)
        CHECK(name.rfind("its@", 0) != 0);
}

TEST_CASE("the edge tree: disabled nodes, buses that translate, interrupts without a parent")
{
    Tree tree("FDT_EDGE");
    auto& nodes = tree.collected.nodes;
    CHECK(nodes.count("uart@9000000"));
    CHECK(nodes.count("uart@9040000"));
    CHECK_FALSE(nodes.count("uart@9050000")); // disabled
    CHECK(nodes.count("soc"));                // the bus itself has a compatible
    CHECK_FALSE(nodes.count("uart@0"));       // behind `ranges` that translate
    CHECK_FALSE(nodes.count("memory@40000000"));
    CHECK_FALSE(nodes.count("secure@4e000000"));
    const PlatformNode& uart = nodes["uart@9000000"];
    CHECK(uart.reg_count == 1);
    CHECK(uart.interrupt_count == 0); // the root names no interrupt parent
    CHECK(uart.skipped == 1);
    CHECK(nodes["timer"].reg_count == 0);
    CHECK(tree.collected.order.front() == "uart@9000000");
}
