// The SDK's KEEL_DEVICE_TABLE (keel/device.h, types generated from
// abi/keel.toml) against the reader in core/lib/devmatch: the bytes a
// driver writes are the bytes the loader, kmodpost and the core read, and
// the readers' own copy of the layout (device_table_abi.h) says the same.
#include <catch2/catch.hpp>
#include <stddef.h>
#include <string.h>

#include <string>
#include <vector>

#include <keel/device.h>

#include "lib/devmatch/device_table.h"

using namespace keel;
using namespace keel::devmatch;

namespace {

KEEL_DEVICE_TABLE(pci, sample_ids, KEEL_PCI_DEVICE(0x1af4, 0x1042), KEEL_PCI_DEVICE_DATA(0x1234, 0x11e8, 7),
    KEEL_PCI_DEVICE_CLASS(0x0c0330, 0xffffff), KEEL_PCI_DEVICE_SUB(0x8086, 0x10d3, 0x8086, 0x0000));
KEEL_DEVICE_TABLE(virtio, sample_virtio_ids, KEEL_VIRTIO_DEVICE(2), KEEL_VIRTIO_DEVICE(4));
KEEL_DEVICE_TABLE(of, sample_of_ids, KEEL_OF_COMPATIBLE("arm,pl031"), { "rtc", "", "", 5 });
// A class mask no alias can say (half a byte): the SDK writes it, the readers refuse it.
KEEL_DEVICE_TABLE(pci, unsayable_ids, KEEL_PCI_DEVICE_CLASS(0x0c0330, 0xf0ff00));

std::vector<std::string> aliases_of(const void* section, size_t size)
{
    std::vector<std::string> aliases;
    for_each_alias(section, size, [&](const char* alias) { aliases.push_back(alias); });
    return aliases;
}

} // namespace

TEST_CASE("The SDK's types and the readers' copy describe the same bytes")
{
    STATIC_REQUIRE(sizeof(keel_device_table) == sizeof(keel_dt_header));
    STATIC_REQUIRE(offsetof(keel_device_table, bus) == offsetof(keel_dt_header, bus));
    STATIC_REQUIRE(offsetof(keel_device_table, header_size) == offsetof(keel_dt_header, header_size));
    STATIC_REQUIRE(offsetof(keel_device_table, entry_size) == offsetof(keel_dt_header, entry_size));
    STATIC_REQUIRE(offsetof(keel_device_table, entry_count) == offsetof(keel_dt_header, entry_count));
    STATIC_REQUIRE(offsetof(keel_device_table, flags) == offsetof(keel_dt_header, flags));
    STATIC_REQUIRE(sizeof(keel_pci_device_id) == sizeof(keel_dt_pci_id));
    STATIC_REQUIRE(offsetof(keel_pci_device_id, class_mask) == offsetof(keel_dt_pci_id, class_mask));
    STATIC_REQUIRE(offsetof(keel_pci_device_id, driver_data) == offsetof(keel_dt_pci_id, driver_data));
    STATIC_REQUIRE(sizeof(keel_virtio_device_id) == sizeof(keel_dt_virtio_id));
    STATIC_REQUIRE(offsetof(keel_virtio_device_id, vendor) == offsetof(keel_dt_virtio_id, vendor));
    STATIC_REQUIRE(sizeof(keel_of_device_id) == sizeof(keel_dt_of_id));
    STATIC_REQUIRE(offsetof(keel_of_device_id, type) == offsetof(keel_dt_of_id, type));
    STATIC_REQUIRE(offsetof(keel_of_device_id, compatible) == offsetof(keel_dt_of_id, compatible));
    STATIC_REQUIRE(offsetof(keel_of_device_id, driver_data) == offsetof(keel_dt_of_id, driver_data));
    STATIC_REQUIRE(KEEL_DEVICE_TABLE_MAGIC == KEEL_DT_MAGIC);
    STATIC_REQUIRE(KEEL_DEVICE_TABLE_VERSION == KEEL_DT_VERSION);
    STATIC_REQUIRE(KEEL_BUS_PCI == KEEL_DT_BUS_PCI);
    STATIC_REQUIRE(KEEL_BUS_VIRTIO == KEEL_DT_BUS_VIRTIO);
    STATIC_REQUIRE(KEEL_BUS_OF == KEEL_DT_BUS_OF);
    STATIC_REQUIRE(KEEL_PCI_ANY_ID == KEEL_DT_PCI_ANY_ID);
    STATIC_REQUIRE(KEEL_VIRTIO_DEV_ANY_ID == KEEL_DT_VIRTIO_ANY_ID);
}

TEST_CASE("KEEL_DEVICE_TABLE writes a pci table the reader accepts, with Linux's aliases")
{
    Diagnostic diagnostic;
    DeviceTableReader reader(&sample_ids, sizeof(sample_ids), &diagnostic);
    auto table = reader.next();
    REQUIRE(table.is_ok());
    CHECK(table.value().bus == DeviceBus::Pci);
    CHECK(table.value().count == 4);
    CHECK(pci_entry(table.value(), 1).driver_data == 7);
    CHECK(reader.next().error() == Error::ENODATA);
    REQUIRE(check_device_table_section(&sample_ids, sizeof(sample_ids), &diagnostic).value() == 1);
    CHECK(aliases_of(&sample_ids, sizeof(sample_ids))
        == std::vector<std::string> { "pci:v00001AF4d00001042sv*sd*bc*sc*i*", "pci:v00001234d000011E8sv*sd*bc*sc*i*",
            "pci:v*d*sv*sd*bc0Csc03i30*", "pci:v00008086d000010D3sv00008086sd00000000bc*sc*i*" });
}

TEST_CASE("KEEL_DEVICE_TABLE writes a virtio table")
{
    Diagnostic diagnostic;
    REQUIRE(check_device_table_section(&sample_virtio_ids, sizeof(sample_virtio_ids), &diagnostic).value() == 1);
    CHECK(aliases_of(&sample_virtio_ids, sizeof(sample_virtio_ids))
        == std::vector<std::string> { "virtio:d00000002v*", "virtio:d00000004v*" });
}

TEST_CASE("KEEL_DEVICE_TABLE writes an of table, with modpost's two aliases per entry")
{
    Diagnostic diagnostic;
    REQUIRE(check_device_table_section(&sample_of_ids, sizeof(sample_of_ids), &diagnostic).value() == 1);
    CHECK(aliases_of(&sample_of_ids, sizeof(sample_of_ids))
        == std::vector<std::string> { "of:N*T*Carm,pl031", "of:N*T*Carm,pl031C*", "of:NrtcT*", "of:NrtcT*C*" });
    auto table = DeviceTableReader(&sample_of_ids, sizeof(sample_of_ids)).next();
    REQUIRE(table.is_ok());
    CHECK(table.value().bus == DeviceBus::Of);
    CHECK(std::string(of_entry(table.value(), 0).compatible) == "arm,pl031");
    CHECK(of_entry(table.value(), 1).driver_data == 5);
}

TEST_CASE("An entry no alias can express is refused, naming it")
{
    Diagnostic diagnostic;
    REQUIRE(DeviceTableReader(&unsayable_ids, sizeof(unsayable_ids)).next().is_ok());
    auto checked = check_device_table_section(&unsayable_ids, sizeof(unsayable_ids), &diagnostic);
    REQUIRE(checked.is_error());
    CHECK(checked.error() == Error::EINVAL);
    CHECK(std::string(diagnostic.message).find("table 1 entry 0") == 0);
}
