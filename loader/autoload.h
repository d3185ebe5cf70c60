// Loading driver modules for devices (modprobe by modalias).
//
// At boot, once the root is mounted, a thread ("kmodprobe") indexes the
// match tables of /lib/modules/*.kmod — read from the files, never run —
// keeping those whose signature the policy accepts (trusted, or any when
// enforcement is off) and remembering why the others were refused. When a
// bus registers a device no loaded driver claims, the device model's
// unclaimed hook queues its modalias; the thread loads every module whose
// alias patterns match, through the normal signed path, and the module's
// driver binds as it registers. Loading never happens with the device lock
// held: the hook only queues.
#pragma once

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel {

// Installs the unclaimed hook (before any bus enumerates).
void autoload_init();
// Starts the thread (after the root is mounted). It indexes the driver
// modules and loads drivers for queued devices once autoload_go() is
// called: by the boot flow when the console is up, so that the index is
// not built while the boot still has work of its own, or earlier by
// whatever waits for devices (autoload_settle, modprobe by alias).
void autoload_start();
void autoload_go();
// Waits until the index is built and every device queued so far has been
// handled (its driver loaded and bound, or given up on), including devices
// those drivers added: what Linux's wait_for_device_probe() is to the root
// lookup. Returns at once when the thread did not start.
void autoload_settle();

// modprobe ALIAS|NAME: an argument with a ':' is a modalias, matched
// against the index (waiting for it to be built); anything else is a
// module name, loaded as insmod would. Loads what matches and is not
// loaded yet; ENOENT when nothing matches, else the first load error.
Result<void> modprobe(const char* alias_or_name, Diagnostic& error);

// For lsdev and tests: modules indexed and their aliases.
struct AutoloadStats {
    bool ready;
    size_t modules;
    size_t aliases;
};
AutoloadStats autoload_stats();
} // namespace keel
