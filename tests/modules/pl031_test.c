/*
 * A platform (of) driver for the ARM PL031 real-time clock of QEMU's virt
 * machine, matched by its compatible string "arm,pl031": it maps the
 * node's first `reg` range, checks the PrimeCell identification registers
 * (peripheral 0x00041031, cell 0xb105f00d), reads the clock (QEMU starts
 * it at the host's time) and sets its alarm a second ahead, whose
 * interrupt (the node's first, a GIC SPI) the handler counts and clears.
 * The boot tests (tests/boot/cases_aarch64_devices.py) autoload it by its
 * of: alias, wait for the alarm and unload it.
 */
#include <keel/device.h>
#include <keel/module.h>

KEEL_MODULE_NAME("pl031_test");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Test driver for the PL031 real-time clock (device-tree platform device)");

KEEL_DEVICE_TABLE(of, pl031_ids, KEEL_OF_COMPATIBLE("arm,pl031"));

#define PL031_DATA 0x000
#define PL031_MATCH 0x004
#define PL031_MASK 0x010 /* interrupt enable */
#define PL031_MASKED_STATUS 0x018
#define PL031_CLEAR 0x01c
#define PL031_PERIPHERAL_ID 0xfe0 /* four registers, a byte each */
#define PL031_CELL_ID 0xff0

static uint32_t id_register(keel_mmio* registers, uint32_t offset)
{
    uint32_t value = 0;
    for (uint32_t i = 0; i < 4; i++)
        value |= (keel_mmio_read32(registers, offset + 4 * i) & 0xff) << (8 * i);
    return value;
}

struct pl031 {
    keel_mmio* registers;
    keel_device* device;
    uint32_t alarms;
};

static int32_t pl031_interrupt(void* arg)
{
    struct pl031* rtc = arg;
    if (!(keel_mmio_read32(rtc->registers, PL031_MASKED_STATUS) & 1))
        return KEEL_IRQ_NONE;
    keel_mmio_write32(rtc->registers, PL031_MASK, 0); /* one alarm */
    keel_mmio_write32(rtc->registers, PL031_CLEAR, 1);
    rtc->alarms++;
    return KEEL_IRQ_HANDLED;
}

static void pl031_remove(keel_device* device)
{
    struct pl031* rtc = keel_device_get_drvdata(device);
    keel_mmio_write32(rtc->registers, PL031_MASK, 0);
    keel_logf(KEEL_LOG_INFO, "pl031_test: %s: %u alarm interrupt(s)\n", keel_device_name(device), rtc->alarms);
}

static int pl031_probe(keel_device* device, const void* id)
{
    (void)id;
    keel_mmio* registers;
    struct pl031* rtc = keel_zalloc(sizeof(*rtc));
    if (!rtc)
        return -KEEL_ENOMEM;
    int status = keel_device_add_action(device, keel_free, rtc);
    if (status)
        return status;
    keel_device_set_drvdata(device, rtc);
    int error = keel_mmio_map(device, 0, 0, 0x1000, &registers);
    if (error) {
        keel_logf(KEEL_LOG_ERR, "pl031_test: %s: mapping its registers: %d\n", keel_device_name(device), error);
        return error;
    }
    uint32_t peripheral = id_register(registers, PL031_PERIPHERAL_ID);
    uint32_t cell = id_register(registers, PL031_CELL_ID);
    if ((peripheral & 0x000fffff) != 0x00041031 || cell != 0xb105f00d) {
        keel_logf(KEEL_LOG_ERR, "pl031_test: %s: identification 0x%08x / 0x%08x is not a PL031\n",
            keel_device_name(device), peripheral, cell);
        return -KEEL_ENODEV;
    }
    uint32_t seconds = keel_mmio_read32(registers, PL031_DATA);
    rtc->registers = registers;
    rtc->device = device;
    keel_irq* irq;
    if ((error = keel_irq_request(device, 0, pl031_interrupt, rtc, 0, &irq)) != 0) {
        keel_logf(KEEL_LOG_ERR, "pl031_test: %s: its interrupt: %d\n", keel_device_name(device), error);
        return error;
    }
    keel_mmio_write32(registers, PL031_CLEAR, 1);
    keel_mmio_write32(registers, PL031_MATCH, seconds + 1);
    keel_mmio_write32(registers, PL031_MASK, 1);
    keel_logf(KEEL_LOG_INFO, "pl031_test: %s: PrimeCell 0x%08x 0x%08x, clock at %u s, alarm set\n",
        keel_device_name(device), peripheral, cell, seconds);
    return 0;
}

static const keel_driver_ops pl031_driver = {
    .size = sizeof(keel_driver_ops),
    .version = KEEL_DRIVER_OPS_VERSION,
    .name = "pl031_test",
    .id_table = KEEL_DEVICE_TABLE_OF(pl031_ids),
    .probe = pl031_probe,
    .remove = pl031_remove,
};

static keel_driver* driver;

static int pl031_init(void) { return keel_driver_register(&pl031_driver, &driver); }

static void pl031_exit(void) { keel_driver_unregister(driver); }

KEEL_MODULE_INIT(pl031_init);
KEEL_MODULE_EXIT(pl031_exit);
