// virtio_mmio's checks of a slot before it drives one
// (modules/virtio_mmio/identify.c): the register window the node's reg
// gives, and the identification registers: a virtio 1.x device is taken,
// an empty slot is refused without a reason to log, and anything else is
// refused with one.
#include <catch2/catch.hpp>

#include <string>

#include "identify.h"

namespace {

vm_identity slot(uint32_t version, uint32_t device_id, uint32_t magic = VM_MAGIC)
{
    return vm_identity { magic, version, device_id, 0x554d4551 };
}

std::string refusal(const vm_identity& identity)
{
    const char* problem = "unset";
    REQUIRE(vm_identify(&identity, &problem) == -KEEL_ENODEV);
    REQUIRE(problem != nullptr);
    return problem;
}

} // namespace

TEST_CASE("virtio_mmio: the magic value is virtio's \"virt\"")
{
    // The bytes 'v' 'i' 'r' 't' read as one little-endian word.
    const uint8_t bytes[4] = { 'v', 'i', 'r', 't' };
    CHECK(VM_MAGIC
        == (uint32_t(bytes[0]) | uint32_t(bytes[1]) << 8 | uint32_t(bytes[2]) << 16 | uint32_t(bytes[3]) << 24));
}

TEST_CASE("virtio_mmio: a version 2 device is driven")
{
    const char* problem = "unset";
    vm_identity block = slot(2, 2);
    CHECK(vm_identify(&block, &problem) == 0);
    CHECK(problem == nullptr);
    vm_identity rng = slot(2, 4);
    CHECK(vm_identify(&rng, &problem) == 0);
}

TEST_CASE("virtio_mmio: empty slots are refused with nothing to log, legacy or not")
{
    for (uint32_t version : { 1u, 2u }) {
        const char* problem = "unset";
        vm_identity empty = slot(version, 0);
        CHECK(vm_identify(&empty, &problem) == -KEEL_ENODEV);
        CHECK(problem == nullptr);
    }
}

TEST_CASE("virtio_mmio: what is not a version 2 device is refused with its reason")
{
    CHECK(refusal(slot(1, 2)).find("legacy virtio-mmio interface (version 1) is not supported") != std::string::npos);
    CHECK(refusal(slot(3, 2)).find("unknown virtio-mmio version") != std::string::npos);
    CHECK(refusal(slot(0, 2)).find("unknown virtio-mmio version") != std::string::npos);
    // The magic value first: a bogus window is not "empty" even when it reads 0.
    CHECK(refusal(slot(2, 0, 0)).find("magic value is not 0x74726976") != std::string::npos);
    CHECK(refusal(slot(2, 2, 0xffffffff)).find("not a virtio-mmio device") != std::string::npos);
    CHECK(refusal(slot(2, 2, 0x76697274)).find("not a virtio-mmio device") != std::string::npos); // big-endian "virt"
}

TEST_CASE("virtio_mmio: the window holds the registers and fits a page")
{
    const char* problem = "unset";
    CHECK(vm_check_window(0x200, &problem) == 0); // QEMU virt's
    CHECK(problem == nullptr);
    CHECK(vm_check_window(0x100, &problem) == 0); // registers and no configuration
    CHECK(vm_check_window(0x1000, &problem) == 0);
    CHECK(vm_check_window(0xff, &problem) == -KEEL_EINVAL);
    CHECK(std::string(problem).find("smaller than the 0x100 bytes") != std::string::npos);
    CHECK(vm_check_window(0, &problem) == -KEEL_EINVAL);
    CHECK(vm_check_window(0x1001, &problem) == -KEEL_EINVAL);
    CHECK(std::string(problem).find("larger than a 4 KiB page") != std::string::npos);
    CHECK(vm_check_window(~0ull, &problem) == -KEEL_EINVAL);
}

TEST_CASE("virtio_mmio: register offsets are the specification's")
{
    CHECK(VM_QUEUE_NOTIFY == 0x50);
    CHECK(VM_INTERRUPT_STATUS == 0x60);
    CHECK(VM_INTERRUPT_ACK == 0x64);
    CHECK(VM_STATUS == 0x70);
    CHECK(VM_QUEUE_DEVICE_HIGH == 0xa4);
    CHECK(VM_CONFIG_GENERATION == 0xfc);
    CHECK(VM_CONFIG == 0x100);
}
