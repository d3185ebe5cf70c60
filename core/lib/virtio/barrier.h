// The memory orderings a split virtqueue needs between what the driver
// writes and reads and what the device (another CPU, a hypervisor thread,
// or hardware doing DMA) writes and reads. SplitQueueT takes them as a
// type, so the kernel compiles them to plain fences and a test can
// substitute a type that records where each one falls.
//
// FenceBarriers are right whenever the device sees memory as another CPU
// does: QEMU's devices, and any device on a cache-coherent x86 machine.
// A platform whose DMA needs stronger barriers than the CPUs' (AArch64's
// "dmb osh" for devices outside the inner-shareable domain) provides its
// own type with the same three functions.
#pragma once

namespace keel::virtio {

struct FenceBarriers {
    // Every write before it becomes visible before any write after it: the
    // descriptors and the ring entry before the available index that
    // publishes them (Linux's virtio_wmb).
    static void write() { __atomic_thread_fence(__ATOMIC_RELEASE); }
    // No read after it is satisfied before a read before it: the used
    // entries only after the used index that promised them (virtio_rmb).
    static void read() { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
    // Writes before it are visible before reads after it: the available
    // index before reading whether the device wants a notification, and
    // the used event before re-reading the used index (virtio_mb).
    static void full() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
};

} // namespace keel::virtio
