/*
 * Sets calls on another module's IP protocol entry and leaves them set:
 * it takes inettest's exported ops table for protocol 254 (inettest
 * peer=1) by keel_symbol_get, sets a `writable` and an ICMP `reporter` of
 * its own on that entry, checks that an ICMP error about 254 reaches the
 * reporter, and at exit gives the reference back but not the calls. When
 * it goes, inet clears them and keeps inettest's entry: an ICMP error
 * about 254 then finds no reporter instead of calling freed code
 * (tests/boot/cases_net.py).
 */
#include <keel/inet.h>
#include <keel/keel.h>
#include <keel/module.h>

KEEL_MODULE_NAME("inetpeer");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Leaves its calls set on inettest's IP protocol 254");

static void peer_writable(void* arg) { (void)arg; }

static void peer_report(void* arg, const keel_inet_icmp_report* report)
{
    (void)arg;
    keel_logf(KEEL_LOG_INFO, "inetpeer: an ICMP error (type %u, code %u) about protocol %u", report->type, report->code,
        report->protocol);
}

static int inetpeer_init(void)
{
    const keel_inet_protocol_ops* ops = keel_symbol_get("inettest_ops", "KABI_INETTEST_1.0");
    if (!ops)
        return -KEEL_ENOENT;
    int32_t writable = keel_inet_protocol_writable(ops, peer_writable);
    int32_t reports = keel_inet_protocol_icmp_reports(ops, peer_report);
    keel_inet_icmp_report report = {
        .size = sizeof(report),
        .type = 3, /* destination unreachable */
        .code = 2, /* protocol unreachable */
        .reporter = 0x7f000001u,
        .protocol = ops->protocol,
        .source = 0x7f000001u,
        .destination = 0x7f000001u,
        .quoted_total_length = 28,
        .transport = (const uint8_t*)"inetpeer",
        .transport_length = 8,
    };
    int32_t delivered = keel_inet_icmp_deliver(&report);
    keel_logf(KEEL_LOG_INFO, "inetpeer: set on %s: writable %d, reports %d; delivered %d", ops->name, writable, reports,
        delivered);
    if (writable || reports || delivered) {
        keel_inet_protocol_writable(ops, 0);
        keel_inet_protocol_icmp_reports(ops, 0);
        keel_symbol_put("inettest_ops");
        return -KEEL_EIO;
    }
    return 0;
}

static void inetpeer_exit(void)
{
    keel_log(KEEL_LOG_INFO, "inetpeer: leaving its calls set on inettest's 254");
    keel_symbol_put("inettest_ops");
}

KEEL_MODULE_INIT(inetpeer_init);
KEEL_MODULE_EXIT(inetpeer_exit);
