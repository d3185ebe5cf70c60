/*
 * A kernel socket left waiting on a TCP connection while its interface
 * goes away: on init it connects to `address`:`port` (an IPv4 address in
 * host byte order), then a thread waits at most `seconds` to receive and
 * logs what the receive returned ("sockwatch: receive returned N"). When
 * the device under the connection unbinds, tcp fails the connection and
 * the receive returns -ENETDOWN. Unloading joins the thread and closes the
 * socket.
 */
#include <keel/keel.h>
#include <keel/module.h>

KEEL_MODULE_NAME("sockwatch");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Waits on a TCP connection and logs how the wait ended");
KEEL_MODULE_PARAM(uint, address, 0x7f000001, "IPv4 address to connect to, host byte order");
KEEL_MODULE_PARAM(uint, port, 80, "TCP port to connect to (1 to 65535)");
KEEL_MODULE_PARAM(uint, seconds, 60, "longest wait for data (1 to 600)");

static keel_socket* watched;
static keel_thread* waiter;

static int32_t wait_for_data(void* arg)
{
    (void)arg;
    uint8_t byte;
    int64_t status = keel_socket_receive(watched, &byte, 1, 0, keel_param_seconds * 1000);
    keel_logf(KEEL_LOG_INFO, "sockwatch: receive returned %lld", (long long)status);
    return 0;
}

static int sockwatch_init(void)
{
    if (keel_param_port == 0 || keel_param_port > 65535 || keel_param_seconds == 0 || keel_param_seconds > 600)
        return -KEEL_EINVAL;
    keel_sockaddr peer = { KEEL_AF_INET, (uint16_t)keel_param_port, keel_param_address };
    int32_t status = keel_socket_create(KEEL_AF_INET, KEEL_SOCK_STREAM, &watched);
    if (status)
        return status;
    if ((status = keel_socket_connect(watched, &peer, 5000))) {
        keel_logf(KEEL_LOG_ERR, "sockwatch: connect: %d", status);
        keel_socket_close(watched);
        return status;
    }
    if ((status = keel_thread_create("sockwatch", wait_for_data, 0, &waiter))) {
        keel_socket_close(watched);
        return status;
    }
    keel_log(KEEL_LOG_INFO, "sockwatch: connected, waiting");
    return 0;
}

static void sockwatch_exit(void)
{
    keel_thread_join(waiter, 0);
    keel_socket_close(watched);
}

KEEL_MODULE_INIT(sockwatch_init);
KEEL_MODULE_EXIT(sockwatch_exit);
