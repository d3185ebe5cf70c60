/*
 * A module using kernel sockets (KABI_SOCKET_1.0) as in-kernel users will:
 * it needs no symbol of inet, only the families inet registers. On init it
 * checks the family table's refusals, then over 127.0.0.1: a TCP
 * connection through listen, connect and accept, `bytes` bytes each way
 * with their pattern checked, the end of the stream after shutdown, a
 * receive that times out, a connection refused, poll readiness, and UDP
 * datagrams between two sockets, and a close while other threads wait in
 * the socket (a receive and an accept with no time limit: both return
 * -EBADF, and the socket goes when they have). With keep=1 it leaves a TCP listener on
 * `port` and a UDP socket on `port` open until it unloads (for ss, and to
 * show they pin inet). Every step is logged; any failure fails the load.
 */
#include <keel/keel.h>
#include <keel/module.h>

KEEL_MODULE_NAME("socktest");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Tests kernel sockets (KABI_SOCKET_1.0) over 127.0.0.1");
KEEL_MODULE_PARAM(uint, port, 5555, "TCP and UDP port on 127.0.0.1 (1024 to 60000)");
KEEL_MODULE_PARAM(uint, bytes, 1048576, "bytes sent each way over TCP (1 to 16777216)");
KEEL_MODULE_PARAM(uint, keep, 0, "1: keep a TCP listener and a UDP socket open until unload");

#define LOCALHOST 0x7f000001u
#define FAIL(...)                                                                                                      \
    do {                                                                                                               \
        keel_logf(KEEL_LOG_ERR, "socktest: " __VA_ARGS__);                                                             \
        return -KEEL_EIO;                                                                                              \
    } while (0)

static keel_socket* kept_listener;
static keel_socket* kept_udp;
static uint8_t out_buffer[4096];
static uint8_t in_buffer[4096];

static uint8_t pattern(uint32_t offset, uint32_t seed) { return (uint8_t)(offset * 31u + seed + (offset >> 11)); }

static int32_t dummy_create(keel_socket* socket, void** state)
{
    (void)socket;
    (void)state;
    return -KEEL_EIO;
}
static void dummy_release(void* state) { (void)state; }
static int32_t dummy_address(void* state, const keel_sockaddr* address)
{
    (void)state;
    (void)address;
    return 0;
}
static int32_t dummy_listen(void* state, uint32_t backlog)
{
    (void)state;
    (void)backlog;
    return 0;
}
static int32_t dummy_accept(void* state, keel_socket* child, void** child_state)
{
    (void)state;
    (void)child;
    (void)child_state;
    return -KEEL_EAGAIN;
}
static int64_t dummy_send(void* state, const void* bytes, size_t length, const keel_sockaddr* to)
{
    (void)state;
    (void)bytes;
    (void)to;
    return (int64_t)length;
}
static int64_t dummy_receive(void* state, void* buffer, size_t capacity, keel_sockaddr* from)
{
    (void)state;
    (void)buffer;
    (void)capacity;
    (void)from;
    return -KEEL_EAGAIN;
}
static uint32_t dummy_poll(void* state)
{
    (void)state;
    return 0;
}
static int32_t dummy_error(void* state)
{
    (void)state;
    return 0;
}
static int32_t dummy_shutdown(void* state, uint32_t how)
{
    (void)state;
    (void)how;
    return 0;
}
static int32_t dummy_info(void* state, keel_socket_info* info)
{
    (void)state;
    (void)info;
    return 0;
}

static keel_socket_family_ops stream_again = {
    .size = sizeof(keel_socket_family_ops),
    .version = KEEL_SOCKET_FAMILY_OPS_VERSION,
    .family = KEEL_AF_INET,
    .type = KEEL_SOCK_STREAM,
    .name = "tcp2",
    .create = dummy_create,
    .release = dummy_release,
    .bind = dummy_address,
    .connect = dummy_address,
    .listen = dummy_listen,
    .accept = dummy_accept,
    .send = dummy_send,
    .receive = dummy_receive,
    .poll = dummy_poll,
    .error = dummy_error,
    .shutdown = dummy_shutdown,
    .info = dummy_info,
};

static keel_socket_family_ops refused;

/* The family table refuses a taken pair and bad tables, saying why. */
static int check_family_table(void)
{
    int32_t status = keel_socket_family_register(&stream_again);
    if (status != -KEEL_EEXIST)
        FAIL("a second AF_INET stream family: %d, not -EEXIST", status);
    refused = stream_again;
    refused.version = 0;
    int32_t version = keel_socket_family_register(&refused);
    refused = stream_again;
    refused.type = 3;
    int32_t type = keel_socket_family_register(&refused);
    refused = stream_again;
    refused.accept = 0;
    int32_t missing = keel_socket_family_register(&refused);
    if (version != -KEEL_EINVAL || type != -KEEL_EINVAL || missing != -KEEL_EINVAL)
        FAIL("bad tables: version %d, type %d, no accept %d", version, type, missing);
    if (keel_socket_family_unregister(&stream_again) != -KEEL_ENOENT)
        FAIL("unregistering a table never registered");
    keel_logf(KEEL_LOG_INFO, "socktest: family table refusals ok");
    return 0;
}

/* `bytes` each way through `a` and `b` at once, neither side blocking. */
static int exchange(keel_socket* a, keel_socket* b)
{
    uint32_t total = (uint32_t)keel_param_bytes;
    uint32_t sent[2] = { 0, 0 }, received[2] = { 0, 0 };
    keel_socket* sockets[2] = { a, b };
    uint64_t deadline = keel_monotonic_ns() + 120ull * 1000000000ull;
    while (received[0] < total || received[1] < total) {
        if (keel_monotonic_ns() > deadline)
            FAIL("exchange stalled: sent %u/%u, received %u/%u", sent[0], sent[1], received[0], received[1]);
        int progress = 0;
        for (int side = 0; side < 2; side++) {
            if (sent[side] < total) {
                uint32_t length = total - sent[side];
                if (length > sizeof(out_buffer))
                    length = sizeof(out_buffer);
                for (uint32_t i = 0; i < length; i++)
                    out_buffer[i] = pattern(sent[side] + i, (uint32_t)side);
                int64_t done = keel_socket_send(sockets[side], out_buffer, length, 0, 0);
                if (done > 0) {
                    sent[side] += (uint32_t)done;
                    progress = 1;
                } else if (done != -KEEL_EAGAIN) {
                    FAIL("send: %lld", (long long)done);
                }
            }
            int other = 1 - side;
            int64_t got = keel_socket_receive(sockets[side], in_buffer, sizeof(in_buffer), 0, 0);
            if (got > 0) {
                for (int64_t i = 0; i < got; i++) {
                    if (in_buffer[i] != pattern(received[other] + (uint32_t)i, (uint32_t)other))
                        FAIL("byte %u from side %d differs", received[other] + (uint32_t)i, other);
                }
                received[other] += (uint32_t)got;
                progress = 1;
            } else if (got == 0) {
                FAIL("end of stream after %u bytes", received[other]);
            } else if (got != -KEEL_EAGAIN) {
                FAIL("receive: %lld", (long long)got);
            }
        }
        if (!progress)
            keel_socket_poll(a, KEEL_POLL_IN, 10);
    }
    keel_logf(KEEL_LOG_INFO, "socktest: %u bytes each way ok", total);
    return 0;
}

static int check_tcp(void)
{
    keel_socket *listener = 0, *client = 0, *server = 0;
    keel_sockaddr local = { KEEL_AF_INET, (uint16_t)keel_param_port, LOCALHOST };
    int result = -KEEL_EIO;
    int32_t status = keel_socket_create(KEEL_AF_INET, KEEL_SOCK_STREAM, &listener);
    if (status)
        return status;
    if ((status = keel_socket_bind(listener, &local)) || (status = keel_socket_listen(listener, 4))) {
        keel_logf(KEEL_LOG_ERR, "socktest: listen on %u: %d", (unsigned)keel_param_port, status);
        goto out;
    }
    if (keel_socket_accept(listener, &server, 0) != -KEEL_EAGAIN) {
        keel_logf(KEEL_LOG_ERR, "socktest: accept with nobody connecting did not say -EAGAIN");
        goto out;
    }
    if ((status = keel_socket_create(KEEL_AF_INET, KEEL_SOCK_STREAM, &client)))
        goto out;
    if ((status = keel_socket_connect(client, &local, 5000))) {
        keel_logf(KEEL_LOG_ERR, "socktest: connect: %d", status);
        goto out;
    }
    uint32_t ready = keel_socket_poll(listener, KEEL_POLL_IN, 5000);
    if (!(ready & KEEL_POLL_IN) || (status = keel_socket_accept(listener, &server, 5000))) {
        keel_logf(KEEL_LOG_ERR, "socktest: accept: poll %u, %d", ready, status);
        goto out;
    }
    keel_socket_info info = { .size = sizeof(info), .version = KEEL_SOCKET_INFO_VERSION };
    if (keel_socket_info_get(server, &info) || info.local.port != (uint16_t)keel_param_port
        || info.remote.address != LOCALHOST) {
        keel_logf(KEEL_LOG_ERR, "socktest: accepted socket's addresses are wrong (%s)", info.state);
        goto out;
    }
    keel_logf(KEEL_LOG_INFO, "socktest: connected, accepted %s from port %u", info.state, info.remote.port);
    if (exchange(client, server))
        goto out;
    uint64_t before = keel_monotonic_ns();
    int64_t nothing = keel_socket_receive(server, in_buffer, sizeof(in_buffer), 0, 100);
    uint64_t waited_ms = (keel_monotonic_ns() - before) / 1000000;
    if (nothing != -KEEL_EAGAIN || waited_ms < 100) {
        keel_logf(KEEL_LOG_ERR, "socktest: an empty receive gave %lld after %llu ms", (long long)nothing,
            (unsigned long long)waited_ms);
        goto out;
    }
    keel_socket_shutdown(client, KEEL_SHUT_WR);
    int64_t end = keel_socket_receive(server, in_buffer, sizeof(in_buffer), 0, 5000);
    if (end != 0) {
        keel_logf(KEEL_LOG_ERR, "socktest: after shutdown the server read %lld, not the end", (long long)end);
        goto out;
    }
    keel_logf(KEEL_LOG_INFO, "socktest: receive timeout %llu ms, end of stream ok", (unsigned long long)waited_ms);

    keel_socket* refused_client = 0;
    keel_sockaddr closed = { KEEL_AF_INET, (uint16_t)(keel_param_port + 1), LOCALHOST };
    if ((status = keel_socket_create(KEEL_AF_INET, KEEL_SOCK_STREAM, &refused_client)))
        goto out;
    status = keel_socket_connect(refused_client, &closed, 5000);
    keel_socket_close(refused_client);
    if (status != -KEEL_ECONNREFUSED) {
        keel_logf(KEEL_LOG_ERR, "socktest: connect to a closed port: %d", status);
        goto out;
    }
    keel_logf(KEEL_LOG_INFO, "socktest: closed port refused ok");
    result = 0;
out:
    keel_socket_close(client);
    keel_socket_close(server);
    if (result == 0 && keel_param_keep)
        kept_listener = listener;
    else
        keel_socket_close(listener);
    return result;
}

static int check_udp(void)
{
    keel_socket *a = 0, *b = 0;
    int result = -KEEL_EIO;
    keel_sockaddr where = { KEEL_AF_INET, (uint16_t)keel_param_port, 0 };
    int32_t status;
    if ((status = keel_socket_create(KEEL_AF_INET, KEEL_SOCK_DGRAM, &a))
        || (status = keel_socket_create(KEEL_AF_INET, KEEL_SOCK_DGRAM, &b)) || (status = keel_socket_bind(a, &where))) {
        keel_logf(KEEL_LOG_ERR, "socktest: udp sockets: %d", status);
        goto out;
    }
    if (keel_socket_send(b, "x", 1, 0, 0) != -KEEL_EDESTADDRREQ) {
        keel_logf(KEEL_LOG_ERR, "socktest: a datagram without a destination was not refused");
        goto out;
    }
    where.address = LOCALHOST;
    for (uint32_t i = 1; i <= 3; i++) {
        for (uint32_t j = 0; j < 100 * i; j++)
            out_buffer[j] = pattern(j, i);
        if (keel_socket_send(b, out_buffer, 100 * i, &where, 1000) != (int64_t)100 * i) {
            keel_logf(KEEL_LOG_ERR, "socktest: udp send %u", i);
            goto out;
        }
    }
    keel_socket_info info = { .size = sizeof(info), .version = KEEL_SOCKET_INFO_VERSION };
    keel_socket_info_get(b, &info);
    for (uint32_t i = 1; i <= 3; i++) {
        keel_sockaddr from = { 0, 0, 0 };
        int64_t got = keel_socket_receive(a, in_buffer, sizeof(in_buffer), &from, 5000);
        if (got != (int64_t)100 * i || from.port != info.local.port || from.address != LOCALHOST) {
            keel_logf(KEEL_LOG_ERR, "socktest: udp datagram %u: %lld bytes from port %u (want %u)", i, (long long)got,
                from.port, info.local.port);
            goto out;
        }
        for (uint32_t j = 0; j < 100 * i; j++) {
            if (in_buffer[j] != pattern(j, i)) {
                keel_logf(KEEL_LOG_ERR, "socktest: udp datagram %u differs at %u", i, j);
                goto out;
            }
        }
    }
    keel_logf(KEEL_LOG_INFO, "socktest: udp datagrams ok");
    result = 0;
out:
    keel_socket_close(b);
    if (result == 0 && keel_param_keep)
        kept_udp = a;
    else
        keel_socket_close(a);
    return result;
}

/* A thread waiting in a socket with no time limit, for the close below. */
struct waiter {
    keel_socket* socket;
    int accept;
    volatile int64_t status;
};

static int wait_in_socket(void* arg)
{
    struct waiter* waiter = arg;
    keel_socket* child = 0;
    if (waiter->accept)
        waiter->status = keel_socket_accept(waiter->socket, &child, KEEL_SOCKET_FOREVER);
    else
        waiter->status = keel_socket_receive(waiter->socket, in_buffer, sizeof(in_buffer), 0, KEEL_SOCKET_FOREVER);
    keel_socket_close(child);
    return 0;
}

static int check_close_under_waiters(void)
{
    keel_socket *udp = 0, *listener = 0;
    keel_sockaddr where = { KEEL_AF_INET, (uint16_t)(keel_param_port + 1), LOCALHOST };
    int32_t status;
    if ((status = keel_socket_create(KEEL_AF_INET, KEEL_SOCK_DGRAM, &udp)) || (status = keel_socket_bind(udp, &where))
        || (status = keel_socket_create(KEEL_AF_INET, KEEL_SOCK_STREAM, &listener))
        || (status = keel_socket_bind(listener, &where)) || (status = keel_socket_listen(listener, 4))) {
        keel_socket_close(udp);
        keel_socket_close(listener);
        FAIL("sockets to close under waiters: %d", status);
    }
    struct waiter waiters[2] = { { udp, 0, 1 }, { listener, 1, 1 } };
    keel_thread* threads[2] = { 0, 0 };
    for (int i = 0; i < 2; i++)
        if (keel_thread_create("socktest-wait", wait_in_socket, &waiters[i], &threads[i]))
            threads[i] = 0;
    keel_sleep_ns(50000000); /* both inside their waits by now */
    int64_t before[2] = { waiters[0].status, waiters[1].status };
    keel_socket_close(udp);
    keel_socket_close(listener);
    for (int i = 0; i < 2; i++)
        if (threads[i])
            keel_thread_join(threads[i], 0);
    if (!threads[0] || !threads[1] || before[0] != 1 || before[1] != 1 || waiters[0].status != -KEEL_EBADF
        || waiters[1].status != -KEEL_EBADF)
        FAIL("close under waiters: receive %lld -> %lld, accept %lld -> %lld (want 1 -> %d)", (long long)before[0],
            (long long)waiters[0].status, (long long)before[1], (long long)waiters[1].status, -KEEL_EBADF);
    keel_logf(KEEL_LOG_INFO, "socktest: close under a waiting receive and accept ok");
    return 0;
}

static int socktest_init(void)
{
    if (keel_param_port < 1024 || keel_param_port > 60000 || keel_param_bytes == 0 || keel_param_bytes > 16777216
        || keel_param_keep > 1)
        return -KEEL_EINVAL;
    keel_socket* probe = 0;
    int32_t status = keel_socket_create(KEEL_AF_INET, KEEL_SOCK_STREAM, &probe);
    if (status) {
        keel_logf(KEEL_LOG_ERR, "socktest: no AF_INET stream sockets: %d", status);
        return status;
    }
    keel_socket_close(probe);
    if ((status = check_family_table()) || (status = check_close_under_waiters()) || (status = check_tcp()))
        return status;
    if ((status = check_udp())) {
        keel_socket_close(kept_listener);
        kept_listener = 0;
        return status;
    }
    keel_logf(KEEL_LOG_INFO, "socktest: passed%s", keel_param_keep ? ", keeping a listener and a udp socket" : "");
    return 0;
}

static void socktest_exit(void)
{
    keel_socket_close(kept_udp);
    keel_socket_close(kept_listener);
}

KEEL_MODULE_INIT(socktest_init);
KEEL_MODULE_EXIT(socktest_exit);
