// Pins that keep something from going, and a going that needs none held.
// try_pin fails once a close began; try_close fails while a pin is held.
// Each side first says what it does and then looks at the other, both
// sequentially consistent: of a pin and a close that race, at least one
// sees the other, so both never succeed (a loser just fails; a pin may
// fail against a close that then gives up, and is retried by no one).
//
// A module's pins (mounts, open sockets) use it: rmmod closes the gate
// before the module's exit runs, and a mount or a socket that pins after
// that is refused instead of running code that is about to go.
#pragma once

#include <stdint.h>

namespace keel {

class PinGate {
public:
    bool try_pin()
    {
        __atomic_add_fetch(&m_pins, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&m_closing, __ATOMIC_SEQ_CST)) {
            unpin();
            return false;
        }
        return true;
    }

    // One more pin by a holder of one (a listening socket's child): it
    // cannot be closing, since the holder's pin keeps it open.
    void pin_again() { __atomic_add_fetch(&m_pins, 1, __ATOMIC_SEQ_CST); }

    void unpin() { __atomic_sub_fetch(&m_pins, 1, __ATOMIC_SEQ_CST); }

    // Succeeds with no pin held; from then on every try_pin fails until
    // reopen().
    bool try_close()
    {
        __atomic_store_n(&m_closing, true, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&m_pins, __ATOMIC_SEQ_CST) != 0) {
            reopen();
            return false;
        }
        return true;
    }

    void reopen() { __atomic_store_n(&m_closing, false, __ATOMIC_SEQ_CST); }

    uint32_t pins() const { return __atomic_load_n(&m_pins, __ATOMIC_SEQ_CST); }
    bool closed() const { return __atomic_load_n(&m_closing, __ATOMIC_SEQ_CST); }

private:
    uint32_t m_pins = 0;
    bool m_closing = false;
};

} // namespace keel
