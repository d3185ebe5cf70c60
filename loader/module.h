// A loaded module, as the registry keeps it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "device/platform.h"
#include "lib/base/intrusive_list.h"
#include "lib/base/pin_gate.h"
#include "lib/elf/module_image.h"

namespace keel {

enum class ModuleState : uint8_t {
    Loading, // mapped, being linked or initialised: not usable by others
    Live,
    Unloading,
};

const char* module_state_name(ModuleState state);

// Load stage timings in microseconds (`modinfo`, `lsmod -t`, scripts/bench).
struct ModuleTimings {
    uint64_t read_us;
    uint64_t verify_us;
    uint64_t parse_us;
    uint64_t map_us;
    uint64_t relocate_us;
    uint64_t init_us;
    uint64_t total_us;
};

struct Module {
    static constexpr size_t kNameLength = 56;
    static constexpr size_t kMaxDependencies = 16;

    char name[kNameLength];
    ModuleState state;

    // The file as loaded (kept: exports, modinfo and symbols for
    // backtraces are read from it) and the image parsed from it.
    uint8_t* file;
    size_t file_size;
    size_t image_size; // bytes covered by the signature(s), or the whole file
    ModuleImage image;

    uint8_t* base; // the mapping (vmalloc), image vaddr 0
    size_t span;

    Module* dependencies[kMaxDependencies];
    size_t dependency_count;
    uint32_t autoloaded_mask; // bit i: dependencies[i] was loaded for this module
    // Modules that depend on this one plus symbol references (keel_symbol_get).
    uint32_t users;
    // Changed under g_module_refs_lock (loader.h), as held_refs below and
    // `state`'s moves to Live and Unloading; read without it only where a
    // stale count does no harm (lsmod, unload_unused's first look).
    uint32_t symbol_refs;
    // Mounts and open sockets (module_try_pin); rmmod closes the gate
    // before exit runs, and a pin after that is refused.
    PinGate pins;
    // Named holds (a pinned device's holder): rmmod names them. Guarded by
    // the holders' spinlock (registry.cpp).
    IntrusiveList<OwnerHold, &OwnerHold::node> holders;

    // References this module took on others with keel_symbol_get.
    static constexpr size_t kMaxHeldRefs = 8;
    struct HeldRef {
        Module* provider;
        uint32_t count;
    };
    HeldRef held_refs[kMaxHeldRefs];
    size_t held_ref_count;

    // A thread it started still ran its code when it went (unlink_module):
    // its memory, dependencies and references stay.
    bool kept_by_thread;

    unsigned taint_letters; // bit per flag: see loader/taint
    bool signature_valid;
    char signer[64]; // key description, when signed

    int (*init)();
    void (*exit)();

    ModuleTimings timings;
    IntrusiveListNode node;
};

} // namespace keel
