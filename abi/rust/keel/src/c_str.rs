//! C strings the core hands over.

use core::ffi::{c_char, CStr};
use core::slice;

/// Borrows a string the core passed, if any.
///
/// # Safety
///
/// `text` is null or NUL-terminated and outlives the returned borrow.
pub(crate) unsafe fn optional_c_str<'a>(text: *const c_char) -> Option<&'a CStr> {
    if text.is_null() {
        return None;
    }
    // Counted here, with volatile reads: CStr::from_ptr, or a plain loop
    // that LLVM recognises as one, would import the C library's strlen,
    // which the core does not export.
    let mut length = 0;
    // SAFETY: the string is NUL-terminated, so every byte up to and
    // including the NUL is readable.
    while unsafe { text.add(length).read_volatile() } != 0 {
        length += 1;
    }
    // SAFETY: the `length + 1` bytes are readable and end with the only NUL.
    Some(unsafe { CStr::from_bytes_with_nul_unchecked(slice::from_raw_parts(text as *const u8, length + 1)) })
}
