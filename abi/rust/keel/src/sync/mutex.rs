//! A sleeping mutex (keel_mutex) owning the data it guards.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};

use crate::error::{to_result, Result};
use crate::sys;

/// A sleeping mutex owning a `T`. Creating one allocates in the core, so
/// `new` can fail; for statics, or for interrupt handlers, use `SpinLock`.
pub struct Mutex<T> {
    raw: NonNull<sys::keel_mutex>,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex serialises every access to `data`, so it may be shared
// and sent between threads whenever T itself may be sent.
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// A mutex guarding `value`.
    pub fn new(value: T) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: `raw` is a valid place for the out-pointer.
        to_result(unsafe { sys::keel_mutex_create(&mut raw) })?;
        // keel_mutex_create returned 0, so it stored a mutex.
        let raw = NonNull::new(raw).ok_or(crate::error::Error::ENOMEM)?;
        Ok(Mutex { raw, data: UnsafeCell::new(value) })
    }

    /// Locks, sleeping while another thread holds the mutex.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        // SAFETY: `raw` is a live mutex until drop, which cannot run while
        // `self` is borrowed.
        unsafe { sys::keel_mutex_lock(self.raw.as_ptr()) };
        MutexGuard { mutex: self, _not_send: PhantomData }
    }

    /// Locks if the mutex is free.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        // SAFETY: as in lock().
        let code = unsafe { sys::keel_mutex_trylock(self.raw.as_ptr()) };
        (code == 0).then_some(MutexGuard { mutex: self, _not_send: PhantomData })
    }

    /// The data, without locking: `&mut self` proves no one else holds it.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T> Drop for Mutex<T> {
    fn drop(&mut self) {
        // SAFETY: `raw` came from keel_mutex_create; `&mut self` proves no
        // guard (and so no holder) exists.
        unsafe { sys::keel_mutex_destroy(self.raw.as_ptr()) };
    }
}

/// The lock held on a `Mutex`; it unlocks when dropped, on the thread that
/// locked it (so it is not `Send`).
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so no one else accesses `data`.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref(); `&mut self` makes this the only reference.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard locked the mutex and has not unlocked it.
        unsafe { sys::keel_mutex_unlock(self.mutex.raw.as_ptr()) };
    }
}
