#include "loader/core_exports.h"

namespace keel {

const KabiExport* kabi_find(const char* name, const char* node) { return g_kabi_core_table.find(name, node); }

size_t kabi_export_count() { return g_kabi_core_table.export_count(); }

const KabiExport& kabi_export_at(size_t index) { return g_kabi_core_table.export_at(index); }

size_t kabi_node_count() { return g_kabi_core_table.node_count(); }

const KabiNode& kabi_node_at(size_t index) { return g_kabi_core_table.node_at(index); }

const KabiNode* kabi_find_node(const char* name) { return g_kabi_core_table.find_node(name); }

} // namespace keel
