#include "lib/netdev/holders.h"

#include "lib/base/string.h"

namespace keel::netdev {

// A slot keeps its name when its count drops to zero: a transmit takes and
// drops the only reference of its holder, and finds the slot again by name.
HolderTable::Slot* HolderTable::find(const char* holder)
{
    if (!holder)
        return nullptr;
    for (Slot& slot : m_slots)
        if (slot.name[0] && slot.name[0] == holder[0] && strcmp(slot.name, holder) == 0)
            return &slot;
    return nullptr;
}

Result<void> HolderTable::get(const char* holder)
{
    if (!holder)
        return Err(Error::EINVAL);
    // A slot's name is never empty or over-long, so a name that finds one
    // needs no more checking.
    Slot* slot = find(holder);
    if (!slot) {
        if (!holder[0] || strlen(holder) > kNameMax)
            return Err(Error::EINVAL);
        for (Slot& candidate : m_slots) {
            if (candidate.count == 0) {
                slot = &candidate;
                memcpy(slot->name, holder, strlen(holder) + 1);
                break;
            }
        }
    }
    if (!slot)
        return Err(Error::EMFILE);
    slot->count++;
    m_total++;
    return {};
}

Result<void> HolderTable::put(const char* holder)
{
    Slot* slot = find(holder);
    if (!slot || slot->count == 0)
        return Err(Error::ENOENT);
    slot->count--;
    m_total--;
    return {};
}

uint32_t HolderTable::count(const char* holder) const
{
    const Slot* slot = const_cast<HolderTable*>(this)->find(holder);
    return slot ? slot->count : 0;
}

const char* HolderTable::first_holder() const
{
    for (const Slot& slot : m_slots)
        if (slot.count)
            return slot.name;
    return "";
}

} // namespace keel::netdev
