#include "lib/net/packet.h"

#include "lib/base/string.h"

namespace keel::net {

Packet* Packet::create(size_t headroom, size_t capacity)
{
    if (headroom > kMaxCapacity || capacity > kMaxCapacity)
        return nullptr;
    size_t size = headroom + capacity;
    void* memory = net_alloc(sizeof(Packet) + size);
    if (!memory)
        return nullptr;
    uint8_t* head = static_cast<uint8_t*>(memory) + sizeof(Packet);
    return new (memory) Packet(head, size, headroom);
}

Packet* Packet::copy_of(const uint8_t* bytes, size_t length, size_t headroom)
{
    Packet* packet = create(headroom, length);
    if (!packet)
        return nullptr;
    if (length)
        memcpy(packet->put(length), bytes, length);
    return packet;
}

Packet* Packet::wrap(uint8_t* head, size_t size, size_t offset, size_t length, ReleaseStorage release, void* storage)
{
    if (offset > size || length > size - offset)
        return nullptr;
    void* memory = net_alloc(sizeof(Packet));
    if (!memory)
        return nullptr;
    Packet* packet = new (memory) Packet(head, size, offset);
    packet->m_length = length;
    packet->m_release = release;
    packet->m_storage = storage;
    return packet;
}

void Packet::destroy(Packet* packet)
{
    if (!packet)
        return;
    VERIFY(!packet->node.is_linked());
    ReleaseStorage release = packet->m_release;
    void* storage = packet->m_storage;
    packet->~Packet();
    net_free(packet);
    if (release)
        release(storage);
}

uint8_t* Packet::push(size_t n)
{
    if (n > m_offset)
        return nullptr;
    m_offset -= n;
    m_length += n;
    return data();
}

uint8_t* Packet::pull(size_t n)
{
    if (n > m_length)
        return nullptr;
    uint8_t* old = data();
    m_offset += n;
    m_length -= n;
    return old;
}

uint8_t* Packet::put(size_t n)
{
    if (n > tailroom())
        return nullptr;
    uint8_t* end = data() + m_length;
    m_length += n;
    return end;
}

bool Packet::trim(size_t length)
{
    if (length > m_length)
        return false;
    m_length = length;
    return true;
}

PacketPtr PacketQueue::push(PacketPtr packet)
{
    if (m_size >= m_limit)
        return packet;
    m_list.push_back(*packet.leak());
    m_size++;
    return {};
}

void PacketQueue::push_front(PacketPtr packet)
{
    m_list.push_front(*packet.leak());
    m_size++;
}

PacketPtr PacketQueue::pop()
{
    Packet* packet = m_list.pop_front();
    if (packet)
        m_size--;
    return PacketPtr(packet);
}

void PacketQueue::clear()
{
    while (!is_empty())
        pop();
}

} // namespace keel::net
