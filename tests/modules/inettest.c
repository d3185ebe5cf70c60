/*
 * A user of inet.kmod (DT_NEEDED: loading it loads inet, and inet cannot
 * unload while it is loaded). On init it registers IP protocol 253 (for
 * experiments, RFC 3692), checks that 253 again and UDP's 17 are refused
 * with -EEXIST, sends `datagrams` datagrams of 253 to 127.0.0.1 through
 * lo and waits until its handler has seen them all; then the same in a
 * core packet (keel_inet_transmit_pkt), with the ways it refuses one.
 * With careless=1 it also watches modules go (keel_module_watch_add) and
 * leaves both 253 and the watch registered at exit: inet takes out the
 * one, the loader the other.
 * With peer=1 it also adds protocol 254 by an ops table it exports
 * (inettest_ops, for inetpeer.c to set its calls on); at exit it asks inet
 * to hand a made-up ICMP error about 254 to 254's reporter and logs what
 * inet said, before it takes 254 out.
 */
#include <keel/inet.h>
#include <keel/keel.h>
#include <keel/module.h>

KEEL_MODULE_NAME("inettest");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Tests inet's IP protocol table over lo");
KEEL_MODULE_PARAM(uint, datagrams, 3, "datagrams of protocol 253 sent to 127.0.0.1 (0 to 100)");
KEEL_MODULE_PARAM(bool, careless, 0, "watch modules go; leave the watch and 253 registered at exit");
KEEL_MODULE_PARAM(bool, peer, 0, "add protocol 254 by the exported inettest_ops, for inetpeer");

#define INETTEST_PROTOCOL 253
#define INETTEST_PEER_PROTOCOL 254
#define LOCALHOST 0x7f000001u

static volatile uint32_t received;
static volatile uint32_t received_bytes;

static void inettest_input(void* arg, uint32_t source, uint32_t destination, const uint8_t* payload, size_t length)
{
    (void)arg;
    if (source == LOCALHOST && destination == LOCALHOST && length >= 1 && payload[0] == 'k') {
        received++;
        received_bytes += (uint32_t)length;
    }
}

static void ignore(void* arg, uint32_t source, uint32_t destination, const uint8_t* payload, size_t length)
{
    (void)arg;
    (void)source;
    (void)destination;
    (void)payload;
    (void)length;
}

/* A core packet of `length` bytes of 'k' with `headroom` in front. */
static keel_pkt* packet_of(size_t headroom, size_t length)
{
    keel_pkt* packet = keel_pkt_alloc(headroom, length);
    if (packet) {
        uint8_t* bytes = keel_pkt_put(packet, length);
        for (size_t i = 0; i < length; i++)
            bytes[i] = 'k';
    }
    return packet;
}

/* keel_inet_transmit_pkt (KABI_INET_1.5): each refusal (it frees what it
 * refuses: the boot case checks the heap after rmmod), then one datagram
 * that reaches the handler. */
static void transmit_packets(void)
{
    int32_t null = keel_inet_transmit_pkt(INETTEST_PROTOCOL, 0, LOCALHOST, 0);
    int32_t headroom = keel_inet_transmit_pkt(INETTEST_PROTOCOL, 0, LOCALHOST, packet_of(16, 10));
    int32_t size = keel_inet_transmit_pkt(INETTEST_PROTOCOL, 0, LOCALHOST, packet_of(KEEL_NET_HEADROOM, 65516));
    int32_t route = keel_inet_transmit_pkt(INETTEST_PROTOCOL, 0, 0x0a636363u, packet_of(KEEL_NET_HEADROOM, 10));
    uint32_t before = received;
    int32_t sent = keel_inet_transmit_pkt(INETTEST_PROTOCOL, 0, LOCALHOST, packet_of(KEEL_NET_HEADROOM, 33));
    for (int waited = 0; received == before && waited < 2000; waited++)
        keel_sleep_ns(1000000);
    keel_logf(KEEL_LOG_INFO, "inettest: transmit_pkt: null %d, headroom %d, size %d, route %d, sent %d, received %u",
        null, headroom, size, route, sent, received - before);
}

static void input_254(void* arg, const keel_inet_datagram* datagram)
{
    (void)arg;
    (void)datagram;
}

KEEL_EXPORT const keel_inet_protocol_ops inettest_ops = {
    .size = sizeof(keel_inet_protocol_ops),
    .version = KEEL_INET_PROTOCOL_OPS_VERSION,
    .protocol = INETTEST_PEER_PROTOCOL,
    .name = "inettest-254",
    .input = input_254,
};

/* What inet does with an ICMP error about a datagram of 254 now: 0 when
 * 254's reporter took it, -ENOENT when 254 has none. */
static int32_t report_about_254(void)
{
    static const uint8_t transport[8] = { 0 };
    keel_inet_icmp_report report = {
        .size = sizeof(report),
        .type = 3, /* destination unreachable */
        .code = 2, /* protocol unreachable */
        .reporter = LOCALHOST,
        .protocol = INETTEST_PEER_PROTOCOL,
        .source = LOCALHOST,
        .destination = LOCALHOST,
        .quoted_total_length = 28,
        .transport = transport,
        .transport_length = sizeof(transport),
    };
    return keel_inet_icmp_deliver(&report);
}

static keel_module_watch* watch;

static void saw_going(void* arg, const keel_module_going_info* going)
{
    (void)arg;
    keel_logf(KEEL_LOG_INFO, "inettest: saw %s go", going->name);
}

static int inettest_init(void)
{
    if (keel_param_datagrams > 100)
        return -KEEL_EINVAL;
    int32_t status = keel_inet_protocol_register(INETTEST_PROTOCOL, inettest_input, 0);
    if (status)
        return status;
    if (keel_param_careless && (status = keel_module_watch_add(saw_going, 0, &watch)) != 0) {
        keel_inet_protocol_unregister(INETTEST_PROTOCOL);
        return status;
    }
    if (keel_param_peer && (status = keel_inet_protocol_add(&inettest_ops, 0)) != 0) {
        keel_module_watch_remove(watch);
        keel_inet_protocol_unregister(INETTEST_PROTOCOL);
        return status;
    }
    int32_t again = keel_inet_protocol_register(INETTEST_PROTOCOL, ignore, 0);
    int32_t udp = keel_inet_protocol_register(17, ignore, 0);
    if (udp == 0) /* udp is not loaded: 17 was free, and is not ours to keep */
        keel_inet_protocol_unregister(17);
    keel_logf(KEEL_LOG_INFO, "inettest: register 253 again: %d, 17: %d", again, udp);
    uint8_t payload[100];
    for (uint32_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)('k' + i);
    for (uint32_t i = 0; i < keel_param_datagrams; i++) {
        status = keel_inet_send(INETTEST_PROTOCOL, LOCALHOST, payload, 10 + i);
        if (status) {
            keel_module_watch_remove(watch);
            if (keel_param_peer)
                keel_inet_protocol_remove(&inettest_ops);
            keel_inet_protocol_unregister(INETTEST_PROTOCOL);
            return status;
        }
    }
    for (int waited = 0; received < keel_param_datagrams && waited < 2000; waited++)
        keel_sleep_ns(1000000);
    keel_logf(KEEL_LOG_INFO, "inettest: %u of %u datagrams of 253 received, %u bytes", received,
        (uint32_t)keel_param_datagrams, received_bytes);
    transmit_packets();
    return 0;
}

static void inettest_exit(void)
{
    if (keel_param_careless) {
        keel_log(KEEL_LOG_INFO, "inettest: leaving 253 and the watch registered");
        return;
    }
    if (keel_param_peer) {
        int32_t reported = report_about_254();
        keel_logf(KEEL_LOG_INFO, "inettest: an ICMP error about 254: %d; removed 254 (%d)", reported,
            keel_inet_protocol_remove(&inettest_ops));
    }
    int32_t status = keel_inet_protocol_unregister(INETTEST_PROTOCOL);
    keel_logf(KEEL_LOG_INFO, "inettest: unregistered 253 (%d)", status);
}

KEEL_MODULE_INIT(inettest_init);
KEEL_MODULE_EXIT(inettest_exit);
