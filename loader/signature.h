// Module signature policy (as Linux's module_sig_check): the signature is
// checked on the raw file before any ELF structure is parsed.
//
//   signed by a trusted key     -> loads; the ELF image is what it covers
//   unsigned / unknown key /
//   unknown algorithm           -> refused with module.sig_enforce
//                                  (EKEYREJECTED / ENOKEY), else loads
//                                  with a warning and taints 'E'
//   malformed trailer (EBADMSG),
//   bad signature, blocked key
//   or module (EKEYREJECTED)    -> always refused
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "loader/loader.h"

namespace keel {

bool signature_enforced();

// Fills module.image_size (the bytes to parse), signature_valid, signer and
// the taint letters.
Result<void> verify_module(Module& module, const char* path, const LoadOptions& options, Diagnostic& error);

// For modinfo: what the trailer says and whether the kernel trusts it.
struct SignatureInfo {
    size_t image_length; // bytes before the trailer (the whole file when unsigned)
    char status[128];
    char signer[96];
};
SignatureInfo describe_signature(const uint8_t* file, size_t size);

} // namespace keel
