//! The kernel heap as Rust's global allocator, so `alloc`'s `Box`, `Vec`
//! and `String` work in a module (`module!` installs it).

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

use alloc::boxed::Box;

use crate::error::{Error, Result};
use crate::sys;

/// A `GlobalAlloc` on keel_alloc/keel_free. Alignments above
/// KEEL_ALLOC_ALIGN over-allocate and keep the heap's pointer just below the
/// aligned block.
pub struct KeelAllocator;

const HEAP_ALIGN: usize = sys::KEEL_ALLOC_ALIGN;

// SAFETY: alloc returns null or a block of at least `size` bytes aligned as
// `layout` asks, which dealloc releases exactly once (the cases below keep
// the two paths paired by `layout.align()`).
unsafe impl GlobalAlloc for KeelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= HEAP_ALIGN {
            // SAFETY: keel_alloc accepts any size and returns null or a
            // HEAP_ALIGN-aligned block of at least `size` bytes.
            return unsafe { sys::keel_alloc(layout.size()) as *mut u8 };
        }
        let Some(total) = layout.size().checked_add(layout.align()) else {
            return ptr::null_mut();
        };
        // SAFETY: as above.
        let raw = unsafe { sys::keel_alloc(total) as *mut u8 };
        if raw.is_null() {
            return raw;
        }
        // `raw` is HEAP_ALIGN-aligned and align > HEAP_ALIGN, so the gap
        // before the next align boundary is at least HEAP_ALIGN (>= 8) bytes.
        let gap = layout.align() - (raw as usize & (layout.align() - 1));
        // SAFETY: gap <= align, so aligned..aligned+size lies inside the
        // `total` bytes; the word before `aligned` is inside the gap and
        // 8-aligned (both raw and aligned are multiples of 16).
        unsafe {
            let aligned = raw.add(gap);
            (aligned as *mut *mut u8).sub(1).write(raw);
            aligned
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= HEAP_ALIGN {
            // SAFETY: as in alloc().
            return unsafe { sys::keel_zalloc(layout.size()) as *mut u8 };
        }
        // SAFETY: the caller's contract for alloc_zeroed is alloc's.
        let block = unsafe { self.alloc(layout) };
        if !block.is_null() {
            // SAFETY: alloc returned `size` writable bytes at `block`.
            unsafe { ptr::write_bytes(block, 0, layout.size()) };
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if layout.align() <= HEAP_ALIGN {
            // SAFETY: `block` came from keel_alloc/keel_zalloc (alloc above,
            // same layout, as GlobalAlloc's contract guarantees).
            unsafe { sys::keel_free(block as *mut core::ffi::c_void) };
            return;
        }
        // SAFETY: alloc stored keel_alloc's pointer in the word just below
        // this over-aligned block.
        unsafe {
            let raw = (block as *mut *mut u8).sub(1).read();
            sys::keel_free(raw as *mut core::ffi::c_void);
        }
    }
}

/// `Box::new` that reports running out of memory as `ENOMEM` instead of
/// panicking (which stops the kernel).
pub fn try_box<T>(value: T) -> Result<Box<T>> {
    let layout = Layout::new::<T>();
    if layout.size() == 0 {
        return Ok(Box::new(value));
    }
    // SAFETY: the layout has a non-zero size.
    let block = unsafe { alloc::alloc::alloc(layout) } as *mut T;
    if block.is_null() {
        return Err(Error::ENOMEM);
    }
    // SAFETY: `block` is a fresh allocation with T's layout, from the global
    // allocator, which is what Box::from_raw expects; writing initialises it.
    unsafe {
        block.write(value);
        Ok(Box::from_raw(block))
    }
}
