// Fuzzes the split virtqueue against a malicious device, and the status
// and configuration sequences against a device that answers anything.
// The input is a program: each byte (with the ones after it) is a step
// of the driver (add a chain, pop, kick, callbacks, detach and reset) or
// of the device (write any used index, used entry, flags or event). The
// first byte picks the queue's size, event index and starting index.
//
// Beyond the sanitizers: pop_used returns only tokens in flight, each
// once, with a written length within what the chain lets the device write;
// the driver's accounting (free descriptors, buffers in flight) always
// adds up; a broken queue gives back exactly the buffers in flight; after
// reset() every descriptor is free.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <vector>

#include "../../unit/virtio/ring_memory.h"
#include "lib/virtio/features.h"
#include "lib/virtio/split_queue.h"

using namespace keel;
using namespace keel::virtio;

namespace {

void check(bool condition)
{
    if (!condition)
        abort();
}

struct Input {
    const uint8_t* data;
    size_t size;
    size_t at = 0;
    bool empty() const { return at >= size; }
    uint8_t byte() { return at < size ? data[at++] : 0; }
    uint16_t u16() { return uint16_t(byte() | byte() << 8); }
    uint32_t u32() { return uint32_t(u16()) | uint32_t(u16()) << 16; }
};

void fuzz_queue(Input& in)
{
    uint8_t setup = in.byte();
    uint32_t size = 1u << (setup & 7); // 1 to 128
    bool event_index = setup & 8;
    uint16_t start = (setup & 16) ? uint16_t(0x10000 - (in.byte() % 8)) : 0;
    virtio_test::RingMemory memory(size);
    auto created = SplitQueue::create(memory.config(event_index, start, true));
    check(created.is_ok());
    SplitQueue queue = created.release_value();
    alignas(16) static uint8_t indirect_table[16 * 128];

    std::map<uintptr_t, uint32_t> in_flight; // token -> writable bytes
    uintptr_t next_token = 1;
    Diagnostic diagnostic;
    for (int steps = 0; !in.empty() && steps < 4096; ++steps) {
        switch (in.byte() % 12) {
        case 0:
        case 1: { // the driver adds a chain
            uint8_t shape = in.byte();
            uint32_t outs = shape & 3;
            uint32_t ins = (shape >> 2) & 3;
            BufferSegment segments[6];
            uint32_t writable = 0;
            for (uint32_t i = 0; i < outs + ins; ++i) {
                segments[i] = { 0x1000u * (i + 1), uint32_t(in.byte()) };
                if (i >= outs)
                    writable += segments[i].length;
            }
            bool indirect = shape & 0x10;
            auto added = indirect
                ? queue.add_indirect(segments, outs, segments + outs, ins,
                    IndirectTable { indirect_table, 0x8000'0000, 128 }, reinterpret_cast<void*>(next_token))
                : queue.add(segments, outs, segments + outs, ins, reinterpret_cast<void*>(next_token));
            if (added.is_ok()) {
                in_flight[next_token++] = writable;
            } else {
                check(added.error() == Error::ENOSPC || added.error() == Error::EINVAL
                    || (added.error() == Error::EIO && queue.is_broken()));
            }
            break;
        }
        case 2:
        case 3: { // the driver reaps
            auto used = queue.pop_used(&diagnostic);
            if (used.is_ok()) {
                auto token = reinterpret_cast<uintptr_t>(used.value().token);
                auto found = in_flight.find(token);
                check(found != in_flight.end());
                check(used.value().written <= found->second);
                in_flight.erase(found);
            } else {
                check(used.error() == Error::ENODATA || used.error() == Error::EIO);
                if (used.error() == Error::EIO)
                    check(queue.is_broken());
            }
            break;
        }
        case 4: queue.kick_prepare(); break;
        case 5: queue.disable_callbacks(); break;
        case 6: // a broken queue has nothing pending: a poll loop must end
            check(queue.enable_callbacks() || !queue.is_broken());
            check(!queue.has_used() || !queue.is_broken());
            break;
        case 7: check(queue.enable_callbacks_delayed() || !queue.is_broken()); break;
        case 8: { // the device writes a used entry anywhere
            uint32_t slot = in.byte() % size;
            uint32_t id = in.byte() < 200 ? in.byte() % size : in.u32();
            memory.set_used_entry(slot, id, in.byte() < 128 ? in.byte() : in.u32());
            break;
        }
        case 9: { // the device moves the used index
            uint8_t how = in.byte();
            memory.set_used_index(how < 128 ? uint16_t(memory.used_index() + (how % 4)) : in.u16());
            break;
        }
        case 10: // the device's flags and event
            memory.set_used_flags(in.u16());
            memory.set_avail_event(in.u16());
            break;
        case 11: { // reset: everything in flight comes back, once
            std::map<uintptr_t, uint32_t> returned;
            while (auto token = queue.detach_unused()) {
                auto t = reinterpret_cast<uintptr_t>(token.value());
                check(in_flight.count(t) == 1 && returned.count(t) == 0);
                returned[t] = 0;
            }
            check(returned.size() == in_flight.size());
            in_flight.clear();
            check(queue.reset().is_ok());
            check(queue.free_descriptors() == size && !queue.is_broken());
            break;
        }
        }
        check(queue.in_flight() == in_flight.size());
        check(queue.free_descriptors() <= size);
        check(queue.free_descriptors() + queue.in_flight() <= size);
    }
}

// A device whose every answer comes from the input.
void fuzz_status(Input& in)
{
    DeviceAccess access;
    access.context = &in;
    access.read_status = [](void* c) -> uint8_t { return static_cast<Input*>(c)->byte(); };
    access.write_status = [](void*, uint8_t) {};
    access.read_device_features = [](void* c, uint32_t) -> uint32_t { return static_cast<Input*>(c)->u32(); };
    access.write_driver_features = [](void*, uint32_t, uint32_t) {};
    access.read_config_generation = [](void* c) -> uint8_t { return static_cast<Input*>(c)->byte() % 4; };
    Diagnostic diagnostic;
    DeviceStatus status(access);
    if (status.reset(&diagnostic, 8).is_ok()) {
        FeatureRequest request;
        request.wanted = 0x00ffffff;
        request.require_access_platform = in.byte() & 1;
        auto features = status.negotiate(request, &diagnostic);
        if (features.is_ok()) {
            check(has_feature(features.value(), VIRTIO_F_VERSION_1));
            check((features.value() & ~status.offered()) == 0);
            check((features.value() & kTransportFeatureMask & ~kSplitQueueTransportFeatures) == 0);
            check(status.step() == DeviceStatus::Step::FeaturesOk);
            if (status.driver_ok(&diagnostic).is_ok())
                check(status.step() == DeviceStatus::Step::DriverOk);
        } else {
            check(status.step() == DeviceStatus::Step::Failed);
        }
    }
    unsigned reads = 0;
    auto config = read_config(
        access, [&] { ++reads; }, &diagnostic, 5);
    check(reads >= 1 && reads <= 5);
    check(config.is_ok() || (config.error() == Error::EAGAIN && reads == 5));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    Input in { data, size };
    if (in.byte() & 1)
        fuzz_status(in);
    else
        fuzz_queue(in);
    return 0;
}
