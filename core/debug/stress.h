// Stress points widen race windows so that tests can hit them: code that
// changes shared state in more than one step calls stress_point() between
// the steps, and a test arms the points (selftest race ...). Armed, a point
// preempts the current thread right there, as the timer could, unless
// interrupts are off (a spinlock is held), when nothing could. Disarmed, a
// point costs one load and a branch.
#pragma once

namespace keel::debug {

extern bool g_stress_armed;
void stress_preempt();

inline void stress_point()
{
    if (__builtin_expect(__atomic_load_n(&g_stress_armed, __ATOMIC_RELAXED), false))
        stress_preempt();
}

inline void arm_stress_points(bool armed) { __atomic_store_n(&g_stress_armed, armed, __ATOMIC_RELAXED); }

} // namespace keel::debug
