//! A one-shot event (keel_completion, Linux's struct completion).

use core::ptr::{self, NonNull};

use crate::error::{to_result, Error, Result};
use crate::sys;

/// Threads `wait()` until another thread calls `complete()`; once complete
/// it stays complete. Share it with `Arc<Completion>`.
pub struct Completion {
    raw: NonNull<sys::keel_completion>,
}

// SAFETY: the core's completion is made for use from several threads (and
// interrupt handlers); the handle is only freed by drop.
unsafe impl Send for Completion {}
// SAFETY: as above: wait and complete take `&self` and are thread-safe.
unsafe impl Sync for Completion {}

impl Completion {
    /// A completion that is not done yet (the core allocates it).
    pub fn new() -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: `raw` is a valid place for the out-pointer.
        to_result(unsafe { sys::keel_completion_create(&mut raw) })?;
        Ok(Completion { raw: NonNull::new(raw).ok_or(Error::ENOMEM)? })
    }

    /// Sleeps until the completion is done; returns at once if it is.
    pub fn wait(&self) {
        // SAFETY: `raw` is live until drop, which cannot run while `self` is
        // borrowed.
        unsafe { sys::keel_completion_wait(self.raw.as_ptr()) }
    }

    /// Marks it done and wakes every waiter.
    pub fn complete(&self) {
        // SAFETY: as in wait().
        unsafe { sys::keel_completion_complete(self.raw.as_ptr()) }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        // SAFETY: `raw` came from keel_completion_create; `&mut self` proves
        // no thread is inside wait() (waiters borrow the completion).
        unsafe { sys::keel_completion_destroy(self.raw.as_ptr()) }
    }
}
