//! An interrupt-safe spinlock (keel_spinlock) owning the data it guards.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use crate::sys;

/// A spinlock owning a `T`. `new` is const and cannot fail, so it suits
/// statics. Taking it disables interrupts; never sleep while holding it
/// (the kernel stops at such a sleep). Guards may be dropped in any order:
/// interrupts come back on only when the thread's last spinlock goes.
pub struct SpinLock<T> {
    raw: UnsafeCell<sys::keel_spinlock>,
    data: UnsafeCell<T>,
}

// SAFETY: the lock serialises every access to `data`.
unsafe impl<T: Send> Send for SpinLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// An unlocked spinlock guarding `value`.
    pub const fn new(value: T) -> Self {
        SpinLock { raw: UnsafeCell::new(sys::keel_spinlock { locked: 0, reserved: 0 }), data: UnsafeCell::new(value) }
    }

    /// Disables interrupts and spins until the lock is taken.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        // SAFETY: `raw` points at a keel_spinlock that lives as long as
        // `self`; the core only touches it atomically.
        let irq_state = unsafe { sys::keel_spin_lock(self.raw.get()) };
        SpinLockGuard { lock: self, irq_state, _not_send: PhantomData }
    }

    /// The data, without locking: `&mut self` proves no one else holds it.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

/// The lock held on a `SpinLock`, with the interrupt state to restore.
pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    irq_state: u64,
    _not_send: PhantomData<*const ()>,
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock; `&mut self` is unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard took the lock and saved `irq_state` from it.
        unsafe { sys::keel_spin_unlock(self.lock.raw.get(), self.irq_state) };
    }
}
