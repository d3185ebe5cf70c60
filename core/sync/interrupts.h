// Interrupts off for a scope, restored to what they were at its end (so
// nested sections work): the core's one way to keep an interrupt handler
// (and, on one CPU, the scheduler) out of a few instructions.
//
//     {
//         InterruptDisabler no_interrupts;
//         ... queue manipulation an interrupt handler also does ...
//     }
#pragma once

#include "arch/cpu.h"

namespace keel {

class InterruptDisabler {
public:
    InterruptDisabler()
        : m_were_enabled(arch::irq_save())
    {
    }
    ~InterruptDisabler() { arch::irq_restore(m_were_enabled); }
    InterruptDisabler(const InterruptDisabler&) = delete;
    InterruptDisabler& operator=(const InterruptDisabler&) = delete;

    bool were_enabled() const { return m_were_enabled; }

private:
    bool m_were_enabled;
};

} // namespace keel
