// Who holds a reference to a network device. Every reference names its
// holder ("inet", "ping"), so an unregister that cannot finish says who
// is in the way instead of hanging silently. Holders with the same name
// share a slot with a count; the table is fixed-size, so taking a
// reference never allocates (it fails with EMFILE when every slot is
// taken by another holder).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"

namespace keel::netdev {

class HolderTable {
public:
    static constexpr size_t kSlots = 16;
    static constexpr size_t kNameMax = 23;

    // EINVAL for an empty or over-long name, EMFILE when full.
    Result<void> get(const char* holder);
    // ENOENT when `holder` holds no reference.
    Result<void> put(const char* holder);
    uint32_t total() const { return m_total; }
    uint32_t count(const char* holder) const;
    // The first holder, for the message of a stuck unregister; "" when none.
    const char* first_holder() const;

private:
    struct Slot {
        char name[kNameMax + 1] = {};
        uint32_t count = 0;
    };
    Slot* find(const char* holder);
    Slot m_slots[kSlots];
    uint32_t m_total = 0;
};

} // namespace keel::netdev
