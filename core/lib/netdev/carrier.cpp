// A device's carrier after registration: the driver reports it, the core
// counts each change and, while there is none, sends nothing (the frames
// that waited are dropped, as Linux resets a device's qdisc).
#include "lib/netdev/netdev.h"

namespace keel::netdev {

bool set_carrier(Netdev& device, bool carrier)
{
    if (carrier == bool(device.flags & kFlagLowerUp))
        return false;
    device.carrier_changes++;
    if (carrier) {
        device.flags |= kFlagLowerUp;
        return true;
    }
    device.flags &= ~kFlagLowerUp;
    while (PacketPtr frame = device.tx.pop())
        device.stats.tx_dropped++;
    return true;
}

} // namespace keel::netdev
