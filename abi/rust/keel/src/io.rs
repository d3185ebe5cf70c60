//! Device registers (`keel_mmio`): a mapping with bounded accessors, as
//! keel/device.h's. Every access checks its offset and width against the
//! mapping's length; one outside it reads all ones, writes nothing and is
//! reported by the core (rate-limited), naming the device and the offset.
//! Get one with `device::Device::<Core>::iomap_region` (or
//! `pci::Device::iomap_region`), as a `Devres<Mmio>`.

use core::ptr::NonNull;

use crate::devres::Release;
use crate::sys;

/// A mapping of a device's registers, owned by its binding.
pub struct Mmio {
    raw: NonNull<sys::keel_mmio>,
}

// SAFETY: the mapping is device memory the core keeps until released;
// accesses are single volatile loads and stores, safe from any thread or
// interrupt handler.
unsafe impl Send for Mmio {}
// SAFETY: as above; every method takes `&self` and does one access.
unsafe impl Sync for Mmio {}

macro_rules! accessors {
    ($($read:ident, $write:ident, $type:ty;)*) => {
        $(
            #[doc = concat!("Reads a `", stringify!($type), "` at `offset` (all ones outside the mapping).")]
            pub fn $read(&self, offset: u64) -> $type {
                match self.address::<$type>(offset) {
                    // SAFETY: address() checked that the access lies inside
                    // the live mapping.
                    Some(address) => unsafe { core::ptr::read_volatile(address) },
                    None => !0,
                }
            }

            #[doc = concat!("Writes a `", stringify!($type), "` at `offset` (nothing outside the mapping).")]
            pub fn $write(&self, offset: u64, value: $type) {
                if let Some(address) = self.address::<$type>(offset) {
                    // SAFETY: as in the read.
                    unsafe { core::ptr::write_volatile(address, value) }
                }
            }
        )*
    };
}

impl Mmio {
    /// Wraps a mapping the core made (keel_mmio_map succeeded).
    pub(crate) fn from_raw(raw: NonNull<sys::keel_mmio>) -> Mmio {
        Mmio { raw }
    }

    /// Bytes mapped.
    pub fn len(&self) -> u64 {
        // SAFETY: the mapping record lives until release(), which consumes self.
        unsafe { self.raw.as_ref().length }
    }

    /// Whether nothing is mapped (never, for a mapping the core made).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The address of a `T` at `offset` when it lies inside the mapping;
    /// otherwise reports the access and returns `None`.
    fn address<T>(&self, offset: u64) -> Option<*mut T> {
        let width = core::mem::size_of::<T>() as u64;
        // SAFETY: as in len().
        let mapping = unsafe { self.raw.as_ref() };
        if offset <= mapping.length && width <= mapping.length - offset && offset.is_multiple_of(width) {
            // SAFETY: offset + width lies inside the mapping.
            return Some(unsafe { mapping.base.add(offset as usize) } as *mut T);
        }
        // SAFETY: the record is live; the core only logs.
        unsafe { sys::keel_mmio_bad_access(self.raw.as_ptr(), offset, width as u32) };
        None
    }

    accessors! {
        read8, write8, u8;
        read16, write16, u16;
        read32, write32, u32;
        read64, write64, u64;
    }
}

impl Release for Mmio {
    fn release(self) {
        // SAFETY: the mapping is still the binding's (Devres guarantees it
        // is released once, before the core would).
        unsafe { sys::keel_mmio_unmap(self.raw.as_ptr()) }
    }
}
