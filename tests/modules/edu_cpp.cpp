// The edu driver's core in C++ on keel.hpp's handles (Mmio, Irq,
// DmaBuffer): the per-device state owns them, so destroying it in remove()
// releases them before the core would (tests/boot/cases_devices.py loads it
// from /lib/test after unbinding edu_test).
#include <keel/keel.hpp>
#include <keel/module.h>

KEEL_CXX_RUNTIME();

KEEL_MODULE_NAME("edu_cpp");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("QEMU edu device through the C++ RAII handles");

KEEL_DEVICE_TABLE(pci, edu_cpp_ids, KEEL_PCI_DEVICE(0x1234, 0x11e8));

namespace {

using keel::sdk::check;
using keel::sdk::DmaBuffer;
using keel::sdk::Error;
using keel::sdk::Irq;
using keel::sdk::Mmio;
using keel::sdk::Result;

struct Edu {
    Mmio registers;
    Irq irq;
    DmaBuffer buffer;
    volatile uint32_t raised = 0;

    bool handle_irq()
    {
        uint32_t status = registers.read32(0x24);
        if (!status)
            return false;
        registers.write32(0x64, status);
        raised = raised | status;
        return true;
    }
};

Result<void> start(keel_device* device, Edu& edu)
{
    TRY(check(keel_pci_enable_device(device)));
    TRY(check(keel_dma_set_mask(device, (1ull << 28) - 1)));
    edu.registers = TRY(Mmio::map(device, 0));
    int32_t vectors = keel_pci_alloc_irq_vectors(device, 1, 1, KEEL_PCI_IRQ_MSI | KEEL_PCI_IRQ_INTX);
    if (vectors < 0)
        return Error(-vectors);
    edu.irq = TRY(Irq::request(device, 0, edu));
    edu.buffer = TRY(DmaBuffer::allocate(device, 512));
    if (edu.buffer.dma() + edu.buffer.size() > (1ull << 28) || edu.buffer.cpu<uint32_t>()[0] != 0)
        return Error::EIO;
    edu.registers.write32(0x20, 0x80);
    edu.registers.write32(0x08, 10);
    for (int i = 0; i < 2000 && !(edu.raised & 1); i++)
        keel_sleep_ns(1000000);
    uint32_t factorial = edu.registers.read32(0x08);
    if (!(edu.raised & 1) || factorial != 3628800)
        return Error::EIO;
    keel_logf(
        KEEL_LOG_INFO, "edu_cpp: %s: 10! = %u through Mmio, Irq and DmaBuffer", keel_device_name(device), factorial);
    return {};
}

int32_t edu_probe(keel_device* device, const void*)
{
    auto edu = keel::sdk::try_make<Edu>();
    if (edu.is_error())
        return keel::sdk::return_code(edu);
    auto started = start(device, *edu.value());
    if (started.is_error())
        return keel::sdk::return_code(started);
    keel_device_set_drvdata(device, edu.value().release());
    return 0;
}

void edu_remove(keel_device* device)
{
    auto* edu = static_cast<Edu*>(keel_device_get_drvdata(device));
    edu->registers.write32(0x20, 0);
    keel::sdk::destroy(edu); // the handles go here, before the core would release them
}

const keel_driver_ops edu_driver = {
    .size = sizeof(keel_driver_ops),
    .version = KEEL_DRIVER_OPS_VERSION,
    .name = "edu_cpp",
    .flags = 0,
    .id_table = KEEL_DEVICE_TABLE_OF(edu_cpp_ids),
    .probe = edu_probe,
    .remove = edu_remove,
    .shutdown = nullptr,
};

keel_driver* g_driver;

int edu_init() { return keel_driver_register(&edu_driver, &g_driver); }
void edu_exit() { keel_driver_unregister(g_driver); }

} // namespace

KEEL_MODULE_INIT(edu_init);
KEEL_MODULE_EXIT(edu_exit);
