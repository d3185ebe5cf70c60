// The module API of KABI_CORE: taint flags and symbol lookup.
//
// Symbol lookup (keel_symbol_get/put) is the loader's: loader/module_api.cpp.
#include "debug/taint.h"
#include "kabi/errno.h"
#include "kabi/exports.h"
#include "kabi_impl.h"

static_assert(KEEL_TAINT_FORCED_MODULE == unsigned(keel::Taint::ForcedModule));
static_assert(KEEL_TAINT_WARNING == unsigned(keel::Taint::Warning));
static_assert(KEEL_TAINT_OUT_OF_TREE == unsigned(keel::Taint::OutOfTree));
static_assert(KEEL_TAINT_UNSIGNED_MODULE == unsigned(keel::Taint::UnsignedModule));
static_assert(KEEL_TAINT_TEST == unsigned(keel::Taint::Test));

extern "C" int32_t keel_add_taint(keel_taint_flag flag)
{
    switch (flag) {
    case KEEL_TAINT_FORCED_MODULE:
    case KEEL_TAINT_WARNING:
    case KEEL_TAINT_OUT_OF_TREE:
    case KEEL_TAINT_UNSIGNED_MODULE:
    case KEEL_TAINT_TEST:
        // The ABI's flag values are Linux's bit numbers, as keel::Taint's.
        keel::add_taint(static_cast<keel::Taint>(flag));
        return 0;
    default: return keel::kabi_error(keel::Error::EINVAL);
    }
}

// keel_symbol_get and keel_symbol_put live in loader/module_api.cpp: they
// take references on the modules that provide the symbols.
