#include "debug/stress.h"

#include "arch/cpu.h"
#include "sched/thread.h"

namespace keel::debug {

bool g_stress_armed = false;

void stress_preempt()
{
    if (arch::irqs_enabled())
        thread_yield();
}

} // namespace keel::debug
