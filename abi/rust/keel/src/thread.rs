//! Kernel threads: preemptive, scheduled round-robin.

use core::ffi::{c_void, CStr};
use core::ptr::{self, NonNull};

use alloc::boxed::Box;

use crate::allocator::try_box;
use crate::error::{to_result, Error, Result};
use crate::sys;

/// A running kernel thread, joined by `join()` or, at the latest, when it
/// is dropped: a module's threads end before the module can unload (as long
/// as the `Thread` is not leaked with `mem::forget`).
pub struct Thread {
    raw: NonNull<sys::keel_thread>,
}

// SAFETY: the handle may be joined from any thread; the core serialises
// the join with the thread's exit.
unsafe impl Send for Thread {}
// SAFETY: `&Thread` offers nothing that touches the handle.
unsafe impl Sync for Thread {}

impl Thread {
    /// Starts `function` on a new thread named `name` (cut to
    /// KEEL_THREAD_NAME_MAX bytes); what it returns is the exit code that
    /// `join` hands back.
    pub fn spawn<F>(name: &CStr, function: F) -> Result<Thread>
    where
        F: FnOnce() -> i32 + Send + 'static,
    {
        let closure = Box::into_raw(try_box(function)?);
        let mut raw = ptr::null_mut();
        // SAFETY: `name` is NUL-terminated; `closure` stays valid until the
        // thread takes it back in `run::<F>`, which is exactly once when the
        // thread starts (and never if creating it fails: then it is freed
        // below); `raw` is a valid place for the handle.
        let code = unsafe { sys::keel_thread_create(name.as_ptr(), Some(run::<F>), closure as *mut c_void, &mut raw) };
        if let Err(error) = to_result(code) {
            // SAFETY: the thread was not created, so nothing else owns it.
            drop(unsafe { Box::from_raw(closure) });
            return Err(error);
        }
        Ok(Thread { raw: NonNull::new(raw).ok_or(Error::EINVAL)? })
    }

    /// Waits until the thread has exited; returns its exit code.
    pub fn join(self) -> i32 {
        let code = self.wait();
        core::mem::forget(self);
        code
    }

    fn wait(&self) -> i32 {
        let mut code = 0;
        // SAFETY: `raw` is a thread this handle owns and has not joined yet
        // (join consumes the handle; drop joins once).
        let status = unsafe { sys::keel_thread_join(self.raw.as_ptr(), &mut code) };
        if status != 0 {
            // EDEADLK: the thread dropped (or joined) its own handle, say
            // as the last holder of an Arc that kept it. It cannot wait for
            // itself: it runs on unjoined, and the loader reaps it once it
            // has finished (while it runs, rmmod keeps the module mapped).
            crate::pr_warn!("keel::thread: a thread cannot join itself ({:?})\n", Error::from_errno(status));
        }
        code
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        self.wait();
    }
}

/// The new thread's entry point: takes back the closure and runs it.
unsafe extern "C" fn run<F>(closure: *mut c_void) -> i32
where
    F: FnOnce() -> i32 + Send + 'static,
{
    // SAFETY: `spawn` passed a pointer from Box::<F>::into_raw and hands it
    // to exactly this one call.
    let function = unsafe { Box::from_raw(closure as *mut F) };
    function()
}

/// Sleeps at least `duration_ns` nanoseconds (rounded up to the tick).
pub fn sleep_ns(duration_ns: u64) {
    // SAFETY: no pointer arguments; sleeping is allowed in module context.
    unsafe { sys::keel_sleep_ns(duration_ns) }
}

/// Lets other threads run.
pub fn yield_now() {
    // SAFETY: no arguments, no preconditions.
    unsafe { sys::keel_thread_yield() }
}

/// The calling thread's id.
pub fn current_id() -> u64 {
    // SAFETY: no arguments, no preconditions.
    unsafe { sys::keel_thread_current_id() }
}
