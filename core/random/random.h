// The kernel's random numbers (docs/random.md): one entropy pool
// (lib/random) behind a spinlock, fed by hardware generator drivers
// (virtio_rng through KABI_RANDOM_1.0) and, uncredited, by timings.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

// Mixes in what the boot knows (cycle counter, uptime), uncredited.
void random_init();

// Hashes `size` bytes from `source` into the pool, crediting `bits`. Any
// context, interrupt handlers included.
void random_add(const void* data, size_t size, uint32_t bits, const char* source);

// Timings: the cycle counter at an event whose time is not predictable
// (an interrupt), uncredited.
void random_add_timing();

// `size` random bytes. Never blocks; before 256 bits were credited the
// bytes depend only on what was mixed in so far (random_ready() says so).
void random_get(void* out, size_t size);

bool random_ready();

// One line per fact, for the console's `random`.
void random_report(void (*print)(const char* line, void* context), void* context);

} // namespace keel
