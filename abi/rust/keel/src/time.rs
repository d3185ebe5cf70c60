//! The monotonic clock.

use crate::sys;

/// Nanoseconds since boot (never goes backwards).
pub fn monotonic_ns() -> u64 {
    // SAFETY: no arguments, no preconditions.
    unsafe { sys::keel_monotonic_ns() }
}
