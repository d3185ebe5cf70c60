#include "lib/devmatch/virtio_id.h"

#include "lib/devmatch/text.h"

namespace keel::devmatch {

bool virtio_matches(const VirtioMatch& entry, const VirtioId& id)
{
    return (entry.device == VIRTIO_DEV_ANY_ID || entry.device == id.device)
        && (entry.vendor == VIRTIO_DEV_ANY_ID || entry.vendor == id.vendor);
}

Result<size_t> virtio_match_table(const VirtioMatch* table, size_t count, const VirtioId& id)
{
    for (size_t i = 0; i < count; ++i) {
        if (virtio_matches(table[i], id))
            return i;
    }
    return Err(Error::ENOENT);
}

Result<size_t> format_virtio_modalias(const VirtioId& id, char* buffer, size_t size)
{
    TextBuffer text(buffer, size);
    text.append("virtio:d%08Xv%08X", id.device, id.vendor);
    return text.finish();
}

Result<size_t> format_virtio_alias(const VirtioMatch& entry, char* buffer, size_t size)
{
    TextBuffer text(buffer, size);
    text.append("virtio:");
    text.field32("d", entry.device != VIRTIO_DEV_ANY_ID, entry.device);
    text.field32("v", entry.vendor != VIRTIO_DEV_ANY_ID, entry.vendor);
    text.add_wildcard();
    return text.finish();
}

} // namespace keel::devmatch
