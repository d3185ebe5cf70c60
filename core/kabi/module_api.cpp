// The module API of KABI_CORE: taint flags, symbol lookup and module
// watches.
//
// Symbol lookup is the loader's (loader/symbol_refs.cpp); the caller's
// return address tells it which module asks.
#include "debug/taint.h"
#include "kabi/errno.h"
#include "kabi_impl.h"
#include "loader/loader.h"

static_assert(KEEL_TAINT_FORCED_MODULE == unsigned(keel::Taint::ForcedModule));
static_assert(KEEL_TAINT_WARNING == unsigned(keel::Taint::Warning));
static_assert(KEEL_TAINT_OUT_OF_TREE == unsigned(keel::Taint::OutOfTree));
static_assert(KEEL_TAINT_UNSIGNED_MODULE == unsigned(keel::Taint::UnsignedModule));
static_assert(KEEL_TAINT_TEST == unsigned(keel::Taint::Test));

namespace {

bool is_abi_taint(uint32_t flag)
{
    switch (flag) {
    case KEEL_TAINT_FORCED_MODULE:
    case KEEL_TAINT_WARNING:
    case KEEL_TAINT_OUT_OF_TREE:
    case KEEL_TAINT_UNSIGNED_MODULE:
    case KEEL_TAINT_TEST: return true;
    default: return false;
    }
}

} // namespace

// keel_add_taint@KABI_CORE_1.0: the compatibility implementation modules
// linked against 1.0 keep resolving to (docs/abi-policy.md). Its contract
// returns 0 on success whether or not the flag was set before, so it must
// not report the "already set" that 1.1 added.
extern "C" int32_t keel_add_taint_v1_0(keel_taint_flag flag)
{
    if (!is_abi_taint(flag))
        return keel::kabi_error(keel::Error::EINVAL);
    // The ABI's flag values are Linux's bit numbers, as keel::Taint's.
    keel::add_taint(static_cast<keel::Taint>(flag));
    return 0;
}

// keel_add_taint@@KABI_CORE_1.1: a plain bit number (so new flags do not
// change the declaration's hash), and 1 when the flag was already set, so a
// module can warn only the first time it taints the kernel.
extern "C" int32_t keel_add_taint(uint32_t flag)
{
    if (!is_abi_taint(flag))
        return keel::kabi_error(keel::Error::EINVAL);
    auto taint = static_cast<keel::Taint>(flag);
    bool was_set = keel::is_tainted(taint);
    keel::add_taint(taint);
    return was_set ? 1 : 0;
}

// keel_symbol_get and keel_symbol_put live in loader/symbol_refs.cpp: they
// take references on the modules that provide the symbols.

extern "C" void* keel_symbol_get(const char* name, const char* node)
{
    return keel::symbol_get(name, node, __builtin_return_address(0));
}

extern "C" void keel_symbol_put(const char* name) { keel::symbol_put(name, __builtin_return_address(0)); }

// Module watches are the loader's too (loader/module_watch.cpp): it tells
// them of each module that goes.

extern "C" int32_t keel_module_watch_add(keel_module_going going, void* arg, keel_module_watch** out)
{
    if (!going || !out)
        return keel::kabi_error(keel::Error::EINVAL);
    auto watch = keel::module_watch_add(going, arg);
    if (watch.is_error())
        return keel::kabi_error(watch.error());
    *out = watch.value();
    return 0;
}

extern "C" void keel_module_watch_remove(keel_module_watch* watch)
{
    if (watch)
        keel::module_watch_remove(watch);
}
