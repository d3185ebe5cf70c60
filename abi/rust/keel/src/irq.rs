//! Interrupt handlers (`keel_irq_request`). Implement `Handler` and keep
//! the `Registration` a device's `request_irq` returns: dropping it frees
//! the handler, waiting for a call in progress; when the binding ends first
//! the core's release does the same. Either way the handler's data outlives
//! every call.
//!
//! Handlers run with interrupts off: they must not sleep; they may take
//! spinlocks, complete a `Completion` and touch registers.

use core::ffi::c_void;
use core::ptr::NonNull;

use alloc::sync::Arc;

use crate::devres::{Devres, Release};
use crate::error::{to_result, Error, Result};
use crate::sys;

/// What a handler says about an interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqReturn {
    /// Not this device's (a shared INTx line): the core asks the next handler.
    None,
    /// This device's, acknowledged.
    Handled,
}

/// An interrupt handler.
pub trait Handler: Send + Sync + 'static {
    /// Called for each interrupt of the vector.
    fn handle(&self) -> IrqReturn;
}

/// The core's handle on a requested handler.
struct Requested(NonNull<sys::keel_irq>);

// SAFETY: the handle is only passed back to the core, from thread context.
unsafe impl Send for Requested {}

impl Release for Requested {
    fn release(self) {
        // SAFETY: the handler is still the binding's; keel_irq_free waits for
        // a running call to return.
        unsafe { sys::keel_irq_free(self.0.as_ptr()) }
    }
}

/// A requested handler. The handle comes before the data so that dropping
/// the registration frees the handler before the data goes.
pub struct Registration<H: Handler> {
    requested: Devres<Requested>,
    handler: Arc<H>,
}

unsafe extern "C" fn call<H: Handler>(arg: *mut c_void) -> i32 {
    // SAFETY: `arg` is the Arc's pointer Registration::new passed; the Arc
    // outlives the handler (the registration frees the handler first).
    let handler = unsafe { &*(arg as *const H) };
    match handler.handle() {
        IrqReturn::None => sys::KEEL_IRQ_NONE,
        IrqReturn::Handled => sys::KEEL_IRQ_HANDLED,
    }
}

impl<H: Handler> Registration<H> {
    /// Requests vector `index` of `device` for `handler`.
    ///
    /// # Safety
    ///
    /// `device` is being probed or is bound, and the caller holds it.
    pub(crate) unsafe fn new(device: *mut sys::keel_device, index: u32, handler: H) -> Result<Self> {
        let handler = Arc::new(handler);
        let mut raw = core::ptr::null_mut();
        // SAFETY: `device` is live; the handler's data lives as long as the
        // registration, which frees the handler before dropping it.
        to_result(unsafe {
            sys::keel_irq_request(device, index, Some(call::<H>), Arc::as_ptr(&handler) as *mut c_void, 0, &mut raw)
        })?;
        let requested = Requested(NonNull::new(raw).ok_or(Error::ENOMEM)?);
        // SAFETY: as above.
        let requested = unsafe { Devres::new(device, requested)? };
        Ok(Registration { requested, handler })
    }

    /// The handler's data.
    pub fn handler(&self) -> &Arc<H> {
        &self.handler
    }

    /// Whether the binding has ended (the handler is gone).
    pub fn is_revoked(&self) -> bool {
        self.requested.is_revoked()
    }
}
