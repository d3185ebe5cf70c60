// virtio device identity and match entries with Linux's semantics, and
// their Linux-format strings:
//
//   device:  virtio:d00000002v00001AF4   (type 2, vendor: the PCI subsystem vendor)
//   entry:   virtio:d00000002v*          (vendor VIRTIO_DEV_ANY_ID)
//
// As in Linux's virtio_id_match, a field of VIRTIO_DEV_ANY_ID matches
// anything. Goldens: tests/unit/devmatch/linux_goldens.txt.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"

namespace keel::devmatch {

constexpr uint32_t VIRTIO_DEV_ANY_ID = 0xffffffff;

struct VirtioId {
    uint32_t device = 0; // the virtio device type
    uint32_t vendor = 0; // for virtio-pci, the PCI subsystem vendor ID
};

struct VirtioMatch {
    uint32_t device = VIRTIO_DEV_ANY_ID;
    uint32_t vendor = VIRTIO_DEV_ANY_ID;
    uint64_t driver_data = 0;
};

bool virtio_matches(const VirtioMatch& entry, const VirtioId& id);
// The index of the first entry of `table` that matches, or ENOENT.
Result<size_t> virtio_match_table(const VirtioMatch* table, size_t count, const VirtioId& id);

constexpr size_t kVirtioModaliasSize = 26; // "virtio:d%08Xv%08X" and its NUL
constexpr size_t kVirtioAliasSize = 27;    // the same and a "*"

// The device's MODALIAS, as Linux's virtio_uevent formats it; ERANGE when
// `size` is too small.
Result<size_t> format_virtio_modalias(const VirtioId& id, char* buffer, size_t size);
// The entry's alias pattern, as modpost writes it; ERANGE when `size` is
// too small.
Result<size_t> format_virtio_alias(const VirtioMatch& entry, char* buffer, size_t size);

} // namespace keel::devmatch
