// Device-tree ("of") identity and matching with Linux's rules, and the
// Linux-format strings:
//
//   device:  of:NserialT(null)Carm,pl011Carm,primecell
//   entry:   of:N*T*Carm,pl011   and   of:N*T*Carm,pl011C*
//
// A node is described by its name (a unit address after "@" and any path
// before the last "/" are ignored), its device_type property (null when it
// has none: Linux 6.1 then prints "(null)") and its compatible property,
// the bytes of NUL-terminated strings exactly as the device tree holds
// them (hostile: checked). A match entry names any of a name, a type and
// one compatible string; empty fields are not compared.
//
// Matching follows Linux's __of_match_node: not the first entry that
// matches but the best one. A compatible string matching the node's
// earlier strings scores higher (they are more specific); a type adds 2, a
// name 1; ties go to the earlier entry. Compatible strings compare without
// regard to case, as in Linux.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel::devmatch {

struct OfNode {
    const char* name = "";            // "serial@9000000" or "/pl011@9000000"
    const char* type = nullptr;       // device_type, or null
    const char* compatible = nullptr; // the property's bytes: "arm,pl011\0arm,primecell\0"
    size_t compatible_size = 0;
};

// The sizes of Linux's struct of_device_id fields, which the match-table
// section keeps (device_table_abi.h).
constexpr size_t kOfNameSize = 32;
constexpr size_t kOfTypeSize = 32;
constexpr size_t kOfCompatibleSize = 128;

struct OfMatch {
    const char* name = "";
    const char* type = "";
    const char* compatible = "";
    uint64_t driver_data = 0;
};

// Checks the node's compatible property: EINVAL (with a message) when its
// last string is not NUL-terminated.
Result<void> check_of_node(const OfNode& node, Diagnostic* diagnostic = nullptr);

// The entry's score for the node (0: no match); the node must have passed
// check_of_node.
int64_t of_match_score(const OfMatch& entry, const OfNode& node);
// The index of the best-matching entry, or ENOENT (EINVAL for a node that
// fails check_of_node).
Result<size_t> of_match_table(const OfMatch* table, size_t count, const OfNode& node);

// The node's MODALIAS as Linux's of_modalias formats it (spaces in
// compatible strings become "_"); ERANGE when `size` is too small, EINVAL
// for a bad node.
Result<size_t> format_of_modalias(const OfNode& node, char* buffer, size_t size, Diagnostic* diagnostic = nullptr);

// The entry's two alias patterns as modpost writes them: `first` ends with
// the compatible string, `second` adds "C*" so a node with more compatible
// strings after it matches too. Whitespace becomes "_". ERANGE when either
// buffer is too small.
Result<void> format_of_aliases(const OfMatch& entry, char* first, size_t first_size, char* second, size_t second_size);
// Room enough for either alias of an entry within Linux's field sizes.
constexpr size_t kOfAliasSize = 4 + kOfNameSize + 1 + kOfTypeSize + 2 + kOfCompatibleSize + 2;

} // namespace keel::devmatch
