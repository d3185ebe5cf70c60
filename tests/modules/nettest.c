/*
 * The netdev core's boot tests (KABI_NET_1.0), written against the SDK
 * headers only. On init it registers a handler for the local experimental
 * EtherType 0x88b5, checks that a second registration of the same type is
 * refused with -EEXIST, and sends `frames` frames to itself through lo.
 * The handler stays `hold_ms` in each frame, so that an rmmod arriving
 * meanwhile finds it running: keel_ethertype_unregister must then wait
 * until it has left (the log shows the order). With stuck_ms, init also
 * registers a device "nettest0" and a thread holds a reference to it as
 * "nettest-late" for stuck_ms: the unregister in exit waits for it, and the
 * core names that holder while it waits.
 *
 * What the loader sweeps when a module goes: careless=1 leaves 0x88b5
 * registered at exit (the loader removes it); stray=1 starts a thread that
 * never stops and is never joined (the loader keeps the module's memory
 * mapped under it), stray=2 one that returns at once and is never joined
 * (the loader reaps it).
 */
#include <keel/keel.h>
#include <keel/module.h>

KEEL_MODULE_NAME("nettest");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Tests the ethertype table and netdev references over lo");
KEEL_MODULE_PARAM(uint, frames, 1, "frames sent to 0x88b5 through lo (0 to 16)");
KEEL_MODULE_PARAM(uint, hold_ms, 0, "milliseconds the handler stays in each frame");
KEEL_MODULE_PARAM(uint, stuck_ms, 0, "register nettest0 and hold a reference to it this long from a thread");
KEEL_MODULE_PARAM(bool, careless, 0, "leave 0x88b5 registered at exit");
KEEL_MODULE_PARAM(uint, stray, 0, "start a thread never joined: 1 runs for ever, 2 returns at once");

#define NETTEST_ETHERTYPE 0x88b5

static keel_netdev* lo;
static keel_netdev* own_device;
static keel_thread* late_thread;
static volatile uint32_t entered;
static volatile uint32_t left;
static volatile uint32_t bytes_seen;

static void sleep_ms(uint64_t ms) { keel_sleep_ns(ms * 1000000); }

static keel_thread* stray_thread;
static volatile uint64_t stray_wakeups;

/* Runs module code every 10 ms for as long as the kernel does. */
static int stray_loop(void* arg)
{
    if ((uintptr_t)arg == 2)
        return 0;
    for (;;) {
        stray_wakeups++;
        sleep_ms(10);
    }
}

static void nettest_handler(void* context, keel_netdev* device, keel_pkt* packet)
{
    (void)context;
    (void)device;
    uint32_t number = ++entered;
    bytes_seen += (uint32_t)keel_pkt_length(packet);
    keel_logf(KEEL_LOG_INFO, "nettest: handler entered frame %u (%zu bytes)", number, keel_pkt_length(packet));
    keel_pkt_free(packet);
    sleep_ms(keel_param_hold_ms);
    left++;
    keel_logf(KEEL_LOG_INFO, "nettest: handler left frame %u", number);
}

static int32_t nettest_transmit(void* context, keel_pkt* frame)
{
    (void)context;
    keel_pkt_free(frame);
    return 0;
}

static int32_t hold_then_put(void* argument)
{
    (void)argument;
    sleep_ms(keel_param_stuck_ms);
    keel_log(KEEL_LOG_INFO, "nettest: nettest-late puts its reference");
    keel_netdev_put(own_device, "nettest-late");
    return 0;
}

static int32_t register_own_device(void)
{
    keel_netdev_config config = { 0 };
    config.size = sizeof(config);
    config.version = KEEL_NETDEV_CONFIG_VERSION;
    config.prefix = "nettest";
    config.mac[0] = 0x02;
    config.mac[5] = 0x42;
    config.mtu = 1500;
    config.flags = KEEL_NETDEV_BROADCAST | KEEL_NETDEV_LOWER_UP;
    config.transmit = nettest_transmit;
    int32_t status = keel_netdev_register(&config, &own_device);
    if (status)
        return status;
    if (!keel_netdev_get("nettest0", "nettest-late")) {
        keel_netdev_unregister(own_device);
        return -KEEL_ENODEV;
    }
    return 0;
}

/* Tables the core must refuse: a version from the future, a size too
 * small for the fields it needs. */
static void register_bad_configs(void)
{
    keel_netdev_config config = { 0 };
    config.size = sizeof(config);
    config.version = 99;
    config.prefix = "bad";
    config.mtu = 1500;
    config.transmit = nettest_transmit;
    keel_netdev* device = 0;
    int32_t status = keel_netdev_register(&config, &device);
    keel_logf(KEEL_LOG_INFO, "nettest: version 99 config: %d", status);
    config.version = KEEL_NETDEV_CONFIG_VERSION;
    config.size = 16;
    status = keel_netdev_register(&config, &device);
    keel_logf(KEEL_LOG_INFO, "nettest: 16-byte config: %d", status);
}

static int nettest_init(void)
{
    if (keel_param_frames > 16)
        return -KEEL_EINVAL;
    register_bad_configs();
    int32_t status = keel_ethertype_register(NETTEST_ETHERTYPE, nettest_handler, 0);
    if (status)
        return status;
    status = keel_ethertype_register(NETTEST_ETHERTYPE, nettest_handler, 0);
    keel_logf(KEEL_LOG_INFO, "nettest: second register of 0x88b5: %d", status);
    if (status != -KEEL_EEXIST)
        goto fail_type;
    lo = keel_netdev_get("lo", "nettest");
    if (!lo) {
        status = -KEEL_ENODEV;
        goto fail_type;
    }
    if (keel_param_stuck_ms) {
        status = register_own_device();
        if (status)
            goto fail_lo;
        status = keel_thread_create("nettest-late", hold_then_put, 0, &late_thread);
        if (status) {
            keel_netdev_put(own_device, "nettest-late");
            keel_netdev_unregister(own_device);
            goto fail_lo;
        }
    }
    if (keel_param_stray) {
        status = keel_thread_create("nettest-stray", stray_loop, (void*)(uintptr_t)keel_param_stray, &stray_thread);
        if (status)
            goto fail_thread;
    }
    static const uint8_t to_self[6] = { 0 };
    for (uint32_t i = 0; i < keel_param_frames; i++) {
        keel_pkt* packet = keel_pkt_alloc(KEEL_NET_HEADROOM, 100);
        if (!packet) {
            status = -KEEL_ENOMEM;
            goto fail_thread;
        }
        uint8_t* payload = keel_pkt_put(packet, 46 + i);
        for (uint32_t j = 0; j < 46 + i; j++)
            payload[j] = (uint8_t)j;
        status = keel_netdev_transmit(lo, packet, to_self, NETTEST_ETHERTYPE);
        if (status)
            goto fail_thread;
    }
    /* Return only once the first frame is inside the handler, so that an
     * rmmod right after finds it running. */
    for (int waited = 0; keel_param_frames && entered == 0 && waited < 5000; waited++)
        sleep_ms(1);
    keel_logf(KEEL_LOG_INFO, "nettest: ready, %u frame(s) sent, %u handled", (uint32_t)keel_param_frames, entered);
    return 0;

fail_thread:
    if (late_thread) {
        keel_thread_join(late_thread, 0);
        keel_netdev_unregister(own_device);
    }
fail_lo:
    keel_netdev_put(lo, "nettest");
fail_type:
    keel_ethertype_unregister(NETTEST_ETHERTYPE);
    return status;
}

static void nettest_exit(void)
{
    if (!keel_param_careless) {
        keel_log(KEEL_LOG_INFO, "nettest: unregistering 0x88b5");
        int32_t status = keel_ethertype_unregister(NETTEST_ETHERTYPE);
        keel_logf(KEEL_LOG_INFO, "nettest: unregistered 0x88b5 (%d): %u entered, %u left, %u bytes", status, entered,
            left, bytes_seen);
    }
    keel_netdev_put(lo, "nettest");
    if (own_device) {
        keel_netdev_unregister(own_device);
        keel_thread_join(late_thread, 0);
        keel_log(KEEL_LOG_INFO, "nettest: nettest0 unregistered");
    }
}

KEEL_MODULE_INIT(nettest_init);
KEEL_MODULE_EXIT(nettest_exit);
