// The core's export table: every function the core offers modules, by name
// and version node, generated from abi/keel.toml (docs/abi.md). The module
// loader resolves imports here; console listings iterate it.
#pragma once

#include <stddef.h>

#include "lib/kabi/kabi_table.h"

namespace keel {

// Defined by the generated kabi_exports.cpp.
extern const KabiTable g_kabi_core_table;

inline const KabiTable& kabi_core_table() { return g_kabi_core_table; }

// The core's export `name` at exactly version node `node` (a module that
// linked against keel_log@KABI_CORE_1.0 asks for that), or nullptr.
const KabiExport* kabi_find(const char* name, const char* node);

// All exports, in description order (by node, then name).
size_t kabi_export_count();
const KabiExport& kabi_export_at(size_t index);

// The version nodes the core provides, oldest first per interface.
size_t kabi_node_count();
const KabiNode& kabi_node_at(size_t index);
const KabiNode* kabi_find_node(const char* name);

} // namespace keel
