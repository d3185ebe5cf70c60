//! Another module's export taken by name at run time (`keel_symbol_get`,
//! Linux's `symbol_get`), without a `DT_NEEDED` on that module. The
//! reference pins the module that provides the symbol until it is dropped
//! (`keel_symbol_put`), so the address stays good while a `SymbolRef`
//! lives.
//!
//! ```ignore
//! let add = keel::symbol::SymbolRef::get(c"provider_add", Some(c"KABI_PROVIDER_1.0")).ok_or(Error::ENOENT)?;
//! // keep `add` with whatever uses add.address(); dropping it lets the
//! // provider unload again
//! ```
//!
//! The core tells which module takes or gives back a reference by the
//! address the call returns to. A call a function makes last can be
//! compiled into a jump (a tail call) that returns to that function's
//! caller instead: the core, for a driver's remove or any other callback,
//! and the reference would be counted as no module's. Each call here is
//! followed by an empty `asm!` statement, so that it stays a call that
//! returns into this module, as `<keel/module.h>`'s wrappers do for C.

use core::ffi::{c_void, CStr};
use core::ptr::{self, NonNull};

use crate::sys;

/// A reference on an exported symbol of another module (or of the core,
/// which is never unloaded). Dropping it gives the reference back.
pub struct SymbolRef {
    name: &'static CStr,
    address: NonNull<c_void>,
}

// SAFETY: the reference is a count the core keeps for this module, not for
// a thread: any thread of the module may give it back. The address is only
// handed out, never dereferenced here.
unsafe impl Send for SymbolRef {}
// SAFETY: as for Send; `&SymbolRef` only reads the address.
unsafe impl Sync for SymbolRef {}

/// An empty statement the compiler must keep after a call, so that the
/// call is not the function's last instruction.
#[inline(always)]
fn stay_in_module() {
    // SAFETY: an empty statement: no memory, stack or flags touched.
    unsafe { core::arch::asm!("", options(nostack, preserves_flags)) }
}

impl SymbolRef {
    /// Looks `name` up among the core's exports and the live modules' at
    /// version node `node` (or the newest version without one) and takes a
    /// reference on the module that provides it. `None` when no live
    /// module exports it, when it is not exported at that node, or when the
    /// module holds too many references already (the core logs which).
    pub fn get(name: &'static CStr, node: Option<&CStr>) -> Option<Self> {
        let node = node.map_or(ptr::null(), CStr::as_ptr);
        // SAFETY: `name` is NUL-terminated and lives for the program, and
        // `node` is null or NUL-terminated; the core reads both during the
        // call only.
        let address = unsafe { sys::keel_symbol_get(name.as_ptr(), node) };
        stay_in_module();
        NonNull::new(address).map(|address| SymbolRef { name, address })
    }

    /// The symbol's address, good while `self` lives. Calling it as a
    /// function or reading it as an object needs its type, which the
    /// provider's header gives: that cast is the caller's `unsafe`.
    pub fn address(&self) -> NonNull<c_void> {
        self.address
    }

    /// The symbol's name.
    pub fn name(&self) -> &'static CStr {
        self.name
    }
}

impl Drop for SymbolRef {
    fn drop(&mut self) {
        // SAFETY: the name this reference was taken by, NUL-terminated and
        // static; the core gives back one reference of this module on it.
        unsafe { sys::keel_symbol_put(self.name.as_ptr()) };
        stay_in_module();
    }
}
