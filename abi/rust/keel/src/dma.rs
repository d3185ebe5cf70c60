//! DMA memory for a device (`keel_dma_alloc_coherent`): physically
//! contiguous, zeroed, below the device's DMA mask, seen by the CPU and the
//! device alike without syncing. Get it with
//! `device::Device::<Core>::dma_alloc_coherent` as a `Devres`, program
//! `dma_handle()` into the device, and move bytes with `read` and `write`
//! (the device may change the memory at any time, so no Rust reference to
//! it is ever handed out).

use core::ptr::NonNull;

use crate::devres::Release;
use crate::error::{Error, Result};
use crate::sys;

/// Coherent DMA memory, owned by the binding.
pub struct CoherentAllocation {
    raw: NonNull<sys::keel_dma_buffer>,
}

// SAFETY: the buffer is the core's until released; accesses copy bytes.
unsafe impl Send for CoherentAllocation {}
// SAFETY: as above.
unsafe impl Sync for CoherentAllocation {}

impl CoherentAllocation {
    pub(crate) fn from_raw(raw: NonNull<sys::keel_dma_buffer>) -> Self {
        CoherentAllocation { raw }
    }

    fn buffer(&self) -> &sys::keel_dma_buffer {
        // SAFETY: the record lives until release(), which consumes self.
        unsafe { self.raw.as_ref() }
    }

    /// The address the device uses.
    pub fn dma_handle(&self) -> u64 {
        self.buffer().dma
    }

    /// Bytes.
    pub fn len(&self) -> usize {
        self.buffer().size as usize
    }

    /// Whether it holds no bytes (never, for an allocation the core made).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `offset..offset + count` when it lies inside the buffer.
    fn range(&self, offset: usize, count: usize) -> Result<*mut u8> {
        match offset.checked_add(count) {
            Some(end) if end <= self.len() => {
                // SAFETY: offset is inside the allocation.
                Ok(unsafe { (self.buffer().cpu as *mut u8).add(offset) })
            }
            _ => Err(Error::EINVAL),
        }
    }

    /// Copies `bytes` into the buffer at `offset`; EINVAL past its end.
    /// Byte by byte, volatile: the device may read or write the buffer
    /// meanwhile, which a plain copy would be a data race with.
    pub fn write(&self, offset: usize, bytes: &[u8]) -> Result {
        let to = self.range(offset, bytes.len())?;
        for (i, byte) in bytes.iter().enumerate() {
            // SAFETY: `to` has bytes.len() writable bytes.
            unsafe { to.add(i).write_volatile(*byte) };
        }
        Ok(())
    }

    /// Copies from the buffer at `offset` into `bytes`; EINVAL past its
    /// end. Volatile, as `write`.
    pub fn read(&self, offset: usize, bytes: &mut [u8]) -> Result {
        let from = self.range(offset, bytes.len())?;
        for (i, byte) in bytes.iter_mut().enumerate() {
            // SAFETY: `from` has bytes.len() readable bytes.
            *byte = unsafe { from.add(i).read_volatile() };
        }
        Ok(())
    }
}

impl Release for CoherentAllocation {
    fn release(self) {
        // SAFETY: the buffer is still the binding's (Devres releases once,
        // before the core would).
        unsafe { sys::keel_dma_free_coherent(self.raw.as_ptr()) }
    }
}
