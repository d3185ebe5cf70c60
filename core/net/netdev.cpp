// The netdev core: lib/netdev's registry, queues and ethertype table under
// one spinlock (single CPU: it mostly keeps interrupt handlers out), and
// the receive thread that empties the devices' queues, a budget at a time,
// into the protocol handlers. Handlers run without the lock, entered in
// the ethertype table so that an unregister can wait for them; the device
// is referenced ("netrx") while its frames are being handed out.
#include "net/netdev.h"

#include "lib/base/string.h"
#include "lib/netdev/ethertype_table.h"
#include "log/log.h"
#include "mm/heap.h"
#include "sched/thread.h"
#include "sync/spinlock.h"
#include "sync/wait_queue.h"

namespace keel::net {

using netdev::Netdev;
using netdev::PacketPtr;

namespace {

constexpr LockClass kNetdevLockClass { "netdev", LockRank::Netdev, false };
constexpr const char* kRxHolder = "netrx";
constexpr size_t kMinimumConfigSize = offsetof(keel_netdev_config, context) + sizeof(void*);
constexpr uint32_t kMtuMin = 68;
constexpr uint32_t kMtuMax = 65535;
constexpr uint64_t kUnregisterReportMs = 5000;

// A device and what its driver registered with.
struct KernelNetdev : Netdev {
    keel_netdev_transmit_fn driver_transmit = nullptr;
    void* driver_context = nullptr;
    // KABI_NET_1.3: the driver's "the receive queue has room again".
    keel_netdev_rx_room_fn rx_room_fn = nullptr;
    void* rx_room_context = nullptr;
    // KABI_NET_1.4: the driver's poll, and whether its interrupt asked for
    // it (atomic: set without the lock, from interrupt handlers that hold
    // locks ranked after it).
    keel_netdev_rx_poll_fn rx_poll_fn = nullptr;
    void* rx_poll_context = nullptr;
    bool rx_poll_scheduled = false;
};

Spinlock g_lock { kNetdevLockClass };
netdev::Registry g_registry GUARDED_BY(g_lock);
netdev::EthertypeTable g_ethertypes GUARDED_BY(g_lock);
bool g_rx_pending GUARDED_BY(g_lock) = false;
bool g_poll_pending = false;                    // atomic: a driver scheduled its poll
Netdev* g_polling GUARDED_BY(g_lock) = nullptr; // whose poll runs in the receive thread
// KABI_NET_1.2: who is told that a transmit queue which refused a frame
// has room again; the receive thread tells them, without the lock.
struct TxRoomNotifier {
    keel_netdev_tx_room_fn fn = nullptr;
    void* context = nullptr;
    uint32_t running = 0;  // calls in progress
    bool removing = false; // being unregistered: not called again
};
constexpr size_t kTxRoomNotifiers = 8;
TxRoomNotifier g_tx_room[kTxRoomNotifiers] GUARDED_BY(g_lock);
bool g_tx_room_pending GUARDED_BY(g_lock) = false;
WaitQueue g_rx_wait;   // the receive thread, until a frame is queued
WaitQueue g_idle_wait; // ethertype unregisters, until their handler is idle

int32_t call_driver(void* context, netdev::Packet* frame)
{
    auto* device = static_cast<KernelNetdev*>(context);
    return device->driver_transmit(device->driver_context, reinterpret_cast<keel_pkt*>(frame));
}

bool valid_mac(const uint8_t* mac) { return !(mac[0] & 1); }

Result<void> validate_config(const keel_netdev_config* config, Diagnostic& diagnostic)
{
    if (!config)
        return diagnostic.fail(Error::EINVAL, "config is NULL");
    if (config->version == 0 || config->version > KEEL_NETDEV_CONFIG_VERSION)
        return diagnostic.fail(
            Error::EINVAL, "version %u is not supported (1..%u)", config->version, KEEL_NETDEV_CONFIG_VERSION);
    if (config->size < kMinimumConfigSize || config->size % sizeof(void*) != 0)
        return diagnostic.fail(Error::EINVAL, "size %u is too small or misaligned (at least %zu, a multiple of %zu)",
            config->size, kMinimumConfigSize, sizeof(void*));
    if (!config->prefix || !netdev::valid_name(config->prefix) || strlen(config->prefix) > netdev::kNameMax - 3)
        return diagnostic.fail(Error::EINVAL, "prefix is not 1 to %zu of [a-z0-9_.-]", netdev::kNameMax - 3);
    if (!valid_mac(config->mac))
        return diagnostic.fail(Error::EINVAL, "mac %02x:...: a multicast address", config->mac[0]);
    if (config->mtu < kMtuMin || config->mtu > kMtuMax)
        return diagnostic.fail(Error::EINVAL, "mtu %u is outside %u..%u", config->mtu, kMtuMin, kMtuMax);
    if (config->flags & ~(KEEL_NETDEV_BROADCAST | KEEL_NETDEV_LOWER_UP))
        return diagnostic.fail(Error::EINVAL,
            "flags 0x%x: only KEEL_NETDEV_BROADCAST (0x4) and KEEL_NETDEV_LOWER_UP (0x8) are a driver's",
            config->flags);
    if (config->reserved != 0)
        return diagnostic.fail(Error::EINVAL, "reserved is %u, not 0", config->reserved);
    if (!config->transmit)
        return diagnostic.fail(Error::EINVAL, "required operation transmit is NULL");
    return {};
}

// Drops what waits in both queues (the device went down or away).
void drop_queued(Netdev& device) REQUIRES(g_lock)
{
    device.stats.rx_dropped += device.rx.size();
    device.stats.tx_dropped += device.tx.size();
    device.rx.clear();
    device.tx.clear();
}

void hand_to_handler(Netdev& device, PacketPtr frame)
{
    auto header = netdev::unframe_ethernet(*frame);
    const netdev::EthertypeEntry* entry = nullptr;
    {
        SpinlockGuard guard(g_lock);
        if (header.is_error())
            device.stats.rx_errors++;
        else if (!(entry = g_ethertypes.enter(header.value().ether_type)))
            device.stats.rx_dropped++;
    }
    if (!entry)
        return;
    entry->handler(entry->context, &device, frame.leak());
    {
        SpinlockGuard guard(g_lock);
        g_ethertypes.exit(entry);
    }
    g_idle_wait.wake_all();
}

bool wants_poll(const Netdev& device)
{
    return __atomic_load_n(&static_cast<const KernelNetdev&>(device).rx_poll_scheduled, __ATOMIC_ACQUIRE);
}

// KABI_NET_1.4: the driver's poll, when its interrupt asked for it and the
// receive queue has room; without room it waits until the queue has
// drained to half (rx_room marks the device, take_rx_room clears it). The
// frames it hands to netdev_receive go up in the same round. Called with
// the device held.
void poll_driver(KernelNetdev& device)
{
    keel_netdev_rx_poll_fn poll = nullptr;
    void* context = nullptr;
    uint32_t budget = 0;
    {
        SpinlockGuard guard(g_lock);
        if (!wants_poll(device) || !device.rx_poll_fn || device.rx_waiting || device.leaving)
            return;
        size_t room = netdev::rx_room(device);
        if (room == 0)
            return;
        budget = uint32_t(room < kRxBudget ? room : kRxBudget);
        __atomic_store_n(&device.rx_poll_scheduled, false, __ATOMIC_RELEASE);
        g_polling = &device;
        poll = device.rx_poll_fn;
        context = device.rx_poll_context;
    }
    if (poll(context, budget) >= budget)
        __atomic_store_n(&device.rx_poll_scheduled, true, __ATOMIC_RELEASE); // more may wait: the next round
}

void collect(void* context, Netdev&, PacketPtr frame) { static_cast<net::PacketQueue*>(context)->push(move(frame)); }

// One round over every device: at most kRxBudget frames of each. Returns
// whether frames are left.
bool receive_round()
{
    uint32_t after = 0;
    bool more = false;
    for (;;) {
        Netdev* device = nullptr;
        net::PacketQueue batch(kRxBudget);
        keel_netdev_rx_room_fn rx_room = nullptr;
        void* rx_room_context = nullptr;
        {
            SpinlockGuard guard(g_lock);
            for (Netdev& candidate : g_registry.devices()) {
                if (candidate.index > after
                    && (!candidate.rx.is_empty() || candidate.rx_waiting || wants_poll(candidate))
                    && !candidate.leaving) {
                    device = &candidate;
                    break;
                }
            }
            if (!device)
                return more;
            after = device->index;
            if (device->holders.get(kRxHolder).is_error())
                continue;
        }
        poll_driver(*static_cast<KernelNetdev*>(device));
        {
            SpinlockGuard guard(g_lock);
            g_polling = nullptr;
            netdev::poll_receive(*device, kRxBudget, collect, &batch);
            more |= !device->rx.is_empty() || wants_poll(*device);
            if (netdev::take_rx_room(*device)) {
                auto* kernel_device = static_cast<KernelNetdev*>(device);
                rx_room = kernel_device->rx_room_fn;
                rx_room_context = kernel_device->rx_room_context;
            }
        }
        // The driver goes on taking frames from its ring while these are
        // handed out (the device is held: no call after it is gone).
        if (rx_room)
            rx_room(rx_room_context);
        while (PacketPtr frame = batch.pop())
            hand_to_handler(*device, move(frame));
        SpinlockGuard guard(g_lock);
        MUST(device->holders.put(kRxHolder));
    }
}

bool rx_pending()
{
    bool poll = __atomic_exchange_n(&g_poll_pending, false, __ATOMIC_ACQ_REL);
    SpinlockGuard guard(g_lock);
    bool pending = g_rx_pending || poll;
    g_rx_pending = false;
    return pending;
}

bool take_tx_room_pending()
{
    SpinlockGuard guard(g_lock);
    bool pending = g_tx_room_pending;
    g_tx_room_pending = false;
    return pending;
}

// Tells every notifier, one call at a time, each counted as running so
// that its unregister can wait.
void notify_tx_room()
{
    for (size_t i = 0; i < kTxRoomNotifiers; i++) {
        keel_netdev_tx_room_fn fn;
        void* context;
        {
            SpinlockGuard guard(g_lock);
            TxRoomNotifier& notifier = g_tx_room[i];
            if (!notifier.fn || notifier.removing)
                continue;
            notifier.running++;
            fn = notifier.fn;
            context = notifier.context;
        }
        fn(context);
        {
            SpinlockGuard guard(g_lock);
            g_tx_room[i].running--;
        }
        g_idle_wait.wake_all();
    }
}

int receive_thread(void*)
{
    for (;;) {
        wait_event(g_rx_wait, rx_pending());
        if (take_tx_room_pending())
            notify_tx_room();
        if (receive_round()) {
            {
                SpinlockGuard guard(g_lock);
                g_rx_pending = true;
            }
            // NAPI's rule: after a budget, let everyone else run. With
            // nothing left the wait above gives the CPU away, so the
            // thread a frame woke (a reader) runs next and, when it
            // sleeps, the CPU idles without a switch back to this thread.
            thread_yield();
        }
    }
    return 0;
}

void kick_receive() REQUIRES(g_lock)
{
    g_rx_pending = true;
    g_rx_wait.wake_all();
}

// After anything that may have made room in `device`'s transmit queue (or
// stopped it for good): the receive thread tells the notifiers.
void note_tx_room(Netdev& device) REQUIRES(g_lock)
{
    if (netdev::take_tx_room(device)) {
        g_tx_room_pending = true;
        kick_receive();
    }
}

// lo: what it sends, it receives. Runs under g_lock (transmit always does).
int32_t loopback_transmit(void* context, keel_pkt* frame) NO_THREAD_SAFETY_ANALYSIS
{
    auto* device = static_cast<Netdev*>(context);
    (void)netdev::queue_receive(*device, PacketPtr(reinterpret_cast<netdev::Packet*>(frame)));
    kick_receive();
    return 0;
}

Result<KernelNetdev*> register_device(const keel_netdev_config* config, const char* exact_name, Diagnostic& diagnostic)
{
    TRY(validate_config(config, diagnostic));
    KernelNetdev* device = TRY(make<KernelNetdev>()).leak();
    memcpy(device->mac.bytes, config->mac, 6);
    device->mtu = config->mtu;
    device->flags = config->flags;
    device->driver_transmit = config->transmit;
    device->driver_context = config->context;
    device->ops.transmit = call_driver;
    device->ops.context = device;
    Result<void> added;
    {
        SpinlockGuard guard(g_lock);
        if (exact_name)
            memcpy(device->name, exact_name, strlen(exact_name) + 1);
        else
            added = g_registry.pick_name(config->prefix, device->name);
        if (!added.is_error())
            added = g_registry.add(*device);
    }
    if (added.is_error()) {
        destroy(device);
        return diagnostic.fail(added.error(), "no name for prefix %s", config->prefix);
    }
    log_info("net: %s registered (index %u, mtu %u)", device->name, device->index, device->mtu);
    return device;
}

void register_loopback()
{
    keel_netdev_config config {};
    config.size = sizeof(config);
    config.version = KEEL_NETDEV_CONFIG_VERSION;
    config.prefix = "lo";
    config.mtu = kMtuMax;
    config.transmit = loopback_transmit;
    Diagnostic diagnostic;
    auto device = register_device(&config, "lo", diagnostic);
    if (device.is_error()) {
        log_err("net: lo: %s", diagnostic.message);
        return;
    }
    SpinlockGuard guard(g_lock);
    device.value()->driver_context = device.value();
    device.value()->flags |= netdev::kFlagLoopback | netdev::kFlagUp;
}

} // namespace

void netdev_init()
{
    register_loopback();
    auto thread = thread_create("netrx", receive_thread, nullptr);
    if (thread.is_error()) {
        log_err("net: cannot start the receive thread (%s); no frame will be received", error_name(thread.error()));
        return;
    }
    thread_detach(thread.value());
}

Result<Netdev*> netdev_register(const keel_netdev_config* config, Diagnostic& diagnostic)
{
    return TRY(register_device(config, nullptr, diagnostic));
}

void netdev_unregister(Netdev& device)
{
    {
        SpinlockGuard guard(g_lock);
        device.leaving = true;
        device.flags &= ~netdev::kFlagUp;
        drop_queued(device);
    }
    uint64_t waited_ms = 0;
    for (;;) {
        const char* holder = nullptr;
        Result<void> removed;
        char waiting_for[netdev::HolderTable::kNameMax + 1] = {};
        {
            SpinlockGuard guard(g_lock);
            removed = g_registry.remove(device, &holder);
            if (removed.is_error())
                memcpy(waiting_for, holder, strlen(holder) + 1);
        }
        if (!removed.is_error())
            break;
        if (waited_ms && waited_ms % kUnregisterReportMs == 0)
            log_warn("net: %s: unregister waits for holder %s (%llu ms)", device.name, waiting_for,
                (unsigned long long)waited_ms);
        thread_sleep_ms(10);
        waited_ms += 10;
    }
    log_info("net: %s unregistered", device.name);
    destroy(static_cast<KernelNetdev*>(&device));
}

Result<void> netdev_receive(Netdev& device, PacketPtr frame)
{
    SpinlockGuard guard(g_lock);
    TRY(netdev::queue_receive(device, move(frame)));
    // From the device's poll the frame goes up in the same round.
    if (&device != g_polling)
        kick_receive();
    return {};
}

size_t netdev_rx_room(Netdev& device)
{
    SpinlockGuard guard(g_lock);
    return netdev::rx_room(device);
}

void netdev_set_rx_room(Netdev& device, keel_netdev_rx_room_fn fn, void* context)
{
    SpinlockGuard guard(g_lock);
    auto& kernel_device = static_cast<KernelNetdev&>(device);
    kernel_device.rx_room_fn = fn;
    kernel_device.rx_room_context = context;
}

void netdev_set_rx_poll(Netdev& device, keel_netdev_rx_poll_fn fn, void* context)
{
    SpinlockGuard guard(g_lock);
    auto& kernel_device = static_cast<KernelNetdev&>(device);
    kernel_device.rx_poll_fn = fn;
    kernel_device.rx_poll_context = context;
}

// Without the lock: interrupt handlers call it holding locks ranked after
// it (the interrupt line's). poll_driver checks the rest under the lock.
void netdev_rx_schedule(Netdev& device)
{
    auto& kernel_device = static_cast<KernelNetdev&>(device);
    if (__atomic_exchange_n(&kernel_device.rx_poll_scheduled, true, __ATOMIC_ACQ_REL))
        return; // the receive thread polls it anyway
    __atomic_store_n(&g_poll_pending, true, __ATOMIC_RELEASE);
    g_rx_wait.wake_all();
}

void netdev_tx_wake(Netdev& device)
{
    SpinlockGuard guard(g_lock);
    netdev::tx_wake(device);
    note_tx_room(device);
}

Result<void> netdev_transmit(
    Netdev& device, PacketPtr packet, const netdev::MacAddress& destination, uint16_t ether_type)
{
    SpinlockGuard guard(g_lock);
    if (auto framed = netdev::frame_ethernet(device, *packet, destination, ether_type); framed.is_error()) {
        device.stats.tx_dropped++;
        return framed;
    }
    return netdev::transmit(device, move(packet));
}

Result<void> netdev_set_up(Netdev& device, bool up)
{
    SpinlockGuard guard(g_lock);
    if (device.leaving)
        return Err(Error::ENODEV);
    if (up) {
        device.flags |= netdev::kFlagUp;
    } else {
        device.flags &= ~netdev::kFlagUp;
        drop_queued(device);
        note_tx_room(device);
        if (device.rx_waiting)
            kick_receive(); // a driver that stopped taking frames goes on (they are dropped)
    }
    return {};
}

bool netdev_set_carrier(Netdev& device, bool carrier)
{
    char name[netdev::kNameMax + 1];
    bool changed;
    {
        SpinlockGuard guard(g_lock);
        changed = netdev::set_carrier(device, carrier);
        note_tx_room(device);
        memcpy(name, device.name, sizeof(name));
    }
    if (changed)
        log_info("net: %s: link %s", name, carrier ? "up" : "down");
    return changed;
}

Netdev* netdev_get(const char* name, const char* holder)
{
    if (!name)
        return nullptr;
    SpinlockGuard guard(g_lock);
    Netdev* device = g_registry.find(name);
    if (!device || device->leaving || device->holders.get(holder).is_error())
        return nullptr;
    return device;
}

Netdev* netdev_get_by_index(uint32_t index, const char* holder)
{
    SpinlockGuard guard(g_lock);
    for (Netdev& device : g_registry.devices()) {
        if (device.index == index)
            return device.leaving || device.holders.get(holder).is_error() ? nullptr : &device;
    }
    return nullptr;
}

void netdev_put(Netdev& device, const char* holder)
{
    SpinlockGuard guard(g_lock);
    if (device.holders.put(holder).is_error())
        log_warn("net: %s: put by %s, which holds no reference", device.name, holder ? holder : "(null)");
}

namespace {
void snapshot_locked(const Netdev& device, NetdevSnapshot& out) REQUIRES(g_lock)
{
    memcpy(out.name, device.name, sizeof(out.name));
    out.mac = device.mac;
    out.index = device.index;
    out.mtu = device.mtu;
    out.flags = device.flags;
    out.stats = device.stats;
    out.carrier_changes = device.carrier_changes;
    out.holders = device.holders.total();
    const char* first = device.holders.first_holder();
    memcpy(out.first_holder, first, strlen(first) + 1);
}
} // namespace

void netdev_snapshot(const Netdev& device, NetdevSnapshot& out)
{
    SpinlockGuard guard(g_lock);
    snapshot_locked(device, out);
}

void netdev_for_each(void (*fn)(const NetdevSnapshot& device, void* context), void* context)
{
    // Index order, one device at a time, the lock dropped while fn runs:
    // the next device is the one with the smallest index above the last.
    uint32_t after = 0;
    for (;;) {
        NetdevSnapshot snapshot;
        {
            SpinlockGuard guard(g_lock);
            const Netdev* next = nullptr;
            for (const Netdev& device : g_registry.devices())
                if (device.index > after && (!next || device.index < next->index))
                    next = &device;
            if (!next)
                return;
            snapshot_locked(*next, snapshot);
            after = next->index;
        }
        fn(snapshot, context);
    }
}

Result<void> ethertype_register(uint16_t type, keel_ethertype_fn handler, void* context)
{
    SpinlockGuard guard(g_lock);
    return g_ethertypes.add(type, reinterpret_cast<netdev::EthertypeFn>(handler), context);
}

namespace {
bool ethertype_idle(uint16_t type)
{
    SpinlockGuard guard(g_lock);
    return g_ethertypes.is_idle(type);
}
} // namespace

Result<void> ethertype_unregister(uint16_t type)
{
    {
        SpinlockGuard guard(g_lock);
        TRY(g_ethertypes.begin_remove(type));
    }
    wait_event(g_idle_wait, ethertype_idle(type));
    SpinlockGuard guard(g_lock);
    g_ethertypes.finish_remove(type);
    return {};
}

Result<void> tx_room_register(keel_netdev_tx_room_fn fn, void* context)
{
    if (!fn)
        return Err(Error::EINVAL);
    SpinlockGuard guard(g_lock);
    TxRoomNotifier* free = nullptr;
    for (TxRoomNotifier& notifier : g_tx_room) {
        if (notifier.fn == fn && notifier.context == context)
            return Err(Error::EEXIST);
        if (!notifier.fn && !free)
            free = &notifier;
    }
    if (!free)
        return Err(Error::ENOSPC);
    *free = TxRoomNotifier { fn, context, 0, false };
    return {};
}

namespace {
bool tx_room_idle(size_t i)
{
    SpinlockGuard guard(g_lock);
    return g_tx_room[i].running == 0;
}
} // namespace

Result<void> tx_room_unregister(keel_netdev_tx_room_fn fn, void* context)
{
    size_t i = 0;
    {
        SpinlockGuard guard(g_lock);
        while (i < kTxRoomNotifiers
            && !(g_tx_room[i].fn == fn && g_tx_room[i].context == context && !g_tx_room[i].removing))
            i++;
        if (i == kTxRoomNotifiers)
            return Err(Error::ENOENT);
        g_tx_room[i].removing = true;
    }
    wait_event(g_idle_wait, tx_room_idle(i));
    SpinlockGuard guard(g_lock);
    g_tx_room[i] = TxRoomNotifier {};
    return {};
}

size_t netdev_forget_code(uintptr_t start, uintptr_t end, const char* owner_name)
{
    auto inside = [&](const void* code) {
        auto address = reinterpret_cast<uintptr_t>(code);
        return address >= start && address < end;
    };
    size_t forgotten = 0;
    for (;;) {
        uint16_t type = 0;
        {
            SpinlockGuard guard(g_lock);
            for (size_t i = 0; i < netdev::EthertypeTable::kCapacity && !type; i++) {
                const netdev::EthertypeEntry& entry = g_ethertypes.slot(i);
                if (entry.used && !entry.leaving && inside(reinterpret_cast<const void*>(entry.handler)))
                    type = entry.type;
            }
        }
        if (!type)
            break;
        log_warn("%s: removing ethertype handler 0x%04x it left registered", owner_name, type);
        (void)ethertype_unregister(type);
        forgotten++;
    }
    for (size_t i = 0; i < kTxRoomNotifiers; i++) {
        keel_netdev_tx_room_fn fn;
        void* context;
        {
            SpinlockGuard guard(g_lock);
            fn = g_tx_room[i].fn;
            context = g_tx_room[i].context;
            if (!fn || g_tx_room[i].removing || !inside(reinterpret_cast<const void*>(fn)))
                continue;
        }
        log_warn("%s: removing a transmit-room notifier it left registered", owner_name);
        (void)tx_room_unregister(fn, context);
        forgotten++;
    }
    return forgotten;
}

size_t ethertype_count()
{
    SpinlockGuard guard(g_lock);
    size_t count = 0;
    for (size_t i = 0; i < netdev::EthertypeTable::kCapacity; i++)
        count += g_ethertypes.slot(i).used;
    return count;
}

} // namespace keel::net
