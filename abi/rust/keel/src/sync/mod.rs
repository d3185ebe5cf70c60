//! Synchronisation: locks that own the data they guard (the only way to
//! reach the data is through the guard `lock()` returns), and completions.
//! `Arc` (from `alloc`) shares them between threads.

mod completion;
mod mutex;
mod spinlock;

pub use alloc::sync::Arc;
pub use completion::Completion;
pub use mutex::{Mutex, MutexGuard};
pub use spinlock::{SpinLock, SpinLockGuard};
