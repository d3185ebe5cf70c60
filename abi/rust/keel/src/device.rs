//! Devices and what a driver acquires for one (KABI_DEVICE_1.0).
//!
//! A driver sees its device as `&Device<Core>` in `probe` and `unbind`:
//! only then may it acquire resources, which belong to the binding and come
//! back as revocable handles (`Devres`, `irq::Registration`), released when
//! dropped or, at the latest, by the core when the binding ends. `Bound` is
//! the same device where nothing may be acquired. Bus-specific views
//! (`pci::Device`) dereference to this one.

use core::ffi::CStr;
use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::devres::Devres;
use crate::dma::CoherentAllocation;
use crate::error::{to_result, Error, Result};
use crate::io::Mmio;
use crate::irq;
use crate::sys;

/// The context of `probe` and `unbind`: resources may be acquired.
pub struct Core;
/// A bound device outside those calls.
pub struct Bound;

/// A device, valid for the call it was given to.
#[repr(transparent)]
pub struct Device<Ctx = Bound> {
    raw: NonNull<sys::keel_device>,
    _context: PhantomData<Ctx>,
}

impl<Ctx> Device<Ctx> {
    /// # Safety
    ///
    /// `raw` is a device the core handed to this call, live for it.
    pub(crate) unsafe fn from_raw(raw: *mut sys::keel_device) -> Option<Self> {
        Some(Device { raw: NonNull::new(raw)?, _context: PhantomData })
    }

    /// The core's handle, for `keel::sys` calls.
    pub fn as_raw(&self) -> *mut sys::keel_device {
        self.raw.as_ptr()
    }

    /// The device's name (`0000:00:03.0`).
    pub fn name(&self) -> &CStr {
        // SAFETY: the device is live for `self`'s borrow; its name is a
        // NUL-terminated string it keeps for its lifetime.
        unsafe { crate::c_str::optional_c_str(sys::keel_device_name(self.raw.as_ptr())) }.unwrap_or(c"?")
    }

    /// Region `index` (PCI BAR `index`): where it lies and how long it is.
    pub fn region(&self, index: u32) -> Result<sys::keel_device_region> {
        let mut region = sys::keel_device_region { phys: 0, length: 0, flags: 0, reserved: 0 };
        // SAFETY: the device is live; `region` is a valid out-pointer.
        to_result(unsafe { sys::keel_device_get_region(self.raw.as_ptr(), index, &mut region) })?;
        Ok(region)
    }
}

impl Device<Core> {
    /// Maps `length` bytes of region `index` from `offset` (0 and 0: all
    /// of it).
    pub fn iomap_region(&self, index: u32, offset: u64, length: u64) -> Result<Devres<Mmio>> {
        let mut raw = core::ptr::null_mut();
        // SAFETY: the device is live and being probed or bound (Core).
        to_result(unsafe { sys::keel_mmio_map(self.raw.as_ptr(), index, offset, length, &mut raw) })?;
        let mmio = Mmio::from_raw(NonNull::new(raw).ok_or(Error::ENOMEM)?);
        // SAFETY: as above.
        unsafe { Devres::new(self.raw.as_ptr(), mmio) }
    }

    /// Requests interrupt `index` (after the bus allocated vectors) for
    /// `handler`.
    pub fn request_irq<H: irq::Handler>(&self, index: u32, handler: H) -> Result<irq::Registration<H>> {
        // SAFETY: the device is live and being probed or bound (Core).
        unsafe { irq::Registration::new(self.raw.as_ptr(), index, handler) }
    }

    /// The addresses the device can reach: `bits` from 24 to 64.
    pub fn dma_set_mask(&self, bits: u32) -> Result {
        if !(24..=64).contains(&bits) {
            return Err(Error::EINVAL);
        }
        let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
        // SAFETY: the device is live.
        to_result(unsafe { sys::keel_dma_set_mask(self.raw.as_ptr(), mask) })
    }

    /// `size` bytes of coherent DMA memory, zeroed.
    pub fn dma_alloc_coherent(&self, size: usize) -> Result<Devres<CoherentAllocation>> {
        let mut raw = core::ptr::null_mut();
        // SAFETY: the device is live and being probed or bound (Core).
        to_result(unsafe { sys::keel_dma_alloc_coherent(self.raw.as_ptr(), size as u64, &mut raw) })?;
        let buffer = CoherentAllocation::from_raw(NonNull::new(raw).ok_or(Error::ENOMEM)?);
        // SAFETY: as above.
        unsafe { Devres::new(self.raw.as_ptr(), buffer) }
    }
}

impl core::ops::Deref for Device<Core> {
    type Target = Device<Bound>;

    fn deref(&self) -> &Device<Bound> {
        // SAFETY: the two differ only in a zero-sized marker.
        unsafe { &*(self as *const Device<Core> as *const Device<Bound>) }
    }
}
