//! Resources that belong to a device's binding (the core's devres), held
//! from Rust: `Devres<T>` (Rust-for-Linux's `Devres`).
//!
//! The core releases what a binding acquired when the binding ends (after
//! `remove`, or when `probe` fails). A Rust handle may outlive that — kept
//! in an `Arc` a thread or a timer still holds — so every handle is
//! *revocable*: creating it records an action on the binding, and the core
//! runs that action (before it releases the underlying resource, since
//! actions are released newest first) to take the value out. From then on
//! `try_access` returns `None` and nothing can reach the released
//! resource. Dropping the handle earlier releases the resource at once.
//!
//! Release and revocation never race: whichever comes first takes the
//! value; an action that finds a release in progress waits for it to end,
//! so the core never frees a record a drop is still using.

use core::ffi::c_void;
use core::ops::Deref;

use alloc::sync::Arc;

use crate::error::{to_result, Result};
use crate::sync::{SpinLock, SpinLockGuard};
use crate::sys;

/// A resource a binding owns: `release` gives it back to the core (unmap,
/// free, ...). Called once, in thread context, while the binding still
/// records it.
pub trait Release: Send {
    /// Gives the resource back now.
    fn release(self);
}

enum Slot<T> {
    Present(T),
    Releasing,
    Gone,
}

/// A revocable handle on a resource of a binding.
pub struct Devres<T: Release> {
    slot: Arc<SpinLock<Slot<T>>>,
}

/// Access to a live resource: holds off revocation while it exists (a
/// spinlock: keep it short, never sleep with it).
pub struct DevresGuard<'a, T> {
    guard: SpinLockGuard<'a, Slot<T>>,
}

impl<T> Deref for DevresGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &*self.guard {
            Slot::Present(value) => value,
            // try_access only makes a guard over a present value, and the
            // lock it holds keeps it there.
            _ => unreachable!(),
        }
    }
}

/// Takes the value out of `slot` and releases it; waits for a release
/// already under way. Returns once the resource is gone.
fn take_and_release<T: Release>(slot: &SpinLock<Slot<T>>) {
    loop {
        let taken = {
            let mut guard = slot.lock();
            match core::mem::replace(&mut *guard, Slot::Releasing) {
                Slot::Present(value) => Some(value),
                Slot::Releasing => None,
                Slot::Gone => {
                    *guard = Slot::Gone;
                    return;
                }
            }
        };
        match taken {
            Some(value) => {
                // Outside the lock: releasing may sleep (an interrupt
                // handler being waited for).
                value.release();
                *slot.lock() = Slot::Gone;
                return;
            }
            // Another caller is releasing it: let it finish.
            None => crate::thread::yield_now(),
        }
    }
}

/// The action the core runs when the binding's resources are released.
unsafe extern "C" fn revoke<T: Release>(arg: *mut c_void) {
    // SAFETY: `arg` is the reference Devres::new leaked for this action with
    // Arc::into_raw; the core runs the action exactly once.
    let slot = unsafe { Arc::from_raw(arg as *const SpinLock<Slot<T>>) };
    take_and_release(&slot);
}

impl<T: Release> Devres<T> {
    /// Makes `value`, just acquired for `device`'s binding, revocable. On
    /// error the value has been released.
    ///
    /// # Safety
    ///
    /// `device` is the device `value` was acquired for, being probed or
    /// bound (the caller holds it for the call).
    pub(crate) unsafe fn new(device: *mut sys::keel_device, value: T) -> Result<Self> {
        let slot = Arc::new(SpinLock::new(Slot::Present(value)));
        let action = Arc::into_raw(slot.clone()) as *mut c_void;
        // SAFETY: `device` is live (the caller's contract); `action` stays
        // valid until revoke, the only user of it, takes it back. If the
        // core cannot record the action it runs it at once: the value is
        // released and the leaked reference returned.
        to_result(unsafe { sys::keel_device_add_action(device, Some(revoke::<T>), action) })?;
        Ok(Devres { slot })
    }

    /// The resource, or `None` once the binding has ended.
    pub fn try_access(&self) -> Option<DevresGuard<'_, T>> {
        let guard = self.slot.lock();
        match &*guard {
            Slot::Present(_) => Some(DevresGuard { guard }),
            _ => None,
        }
    }

    /// Whether the binding has ended (or the resource was released).
    pub fn is_revoked(&self) -> bool {
        !matches!(&*self.slot.lock(), Slot::Present(_))
    }
}

impl<T: Release> Drop for Devres<T> {
    fn drop(&mut self) {
        take_and_release(&self.slot);
    }
}
