//! The kernel log: `pr_info!` and friends format with `core::fmt` into a
//! stack buffer (no allocation) and hand the text to `keel_logf`.

use core::ffi::{c_char, c_int};
use core::fmt;

use crate::sys;

/// A log message's severity (Linux's printk levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Level {
    Emerg = sys::KEEL_LOG_EMERG,
    Alert = sys::KEEL_LOG_ALERT,
    Crit = sys::KEEL_LOG_CRIT,
    Err = sys::KEEL_LOG_ERR,
    Warning = sys::KEEL_LOG_WARNING,
    Notice = sys::KEEL_LOG_NOTICE,
    Info = sys::KEEL_LOG_INFO,
    Debug = sys::KEEL_LOG_DEBUG,
}

/// Logs `message` as is (it need not be NUL-terminated).
pub fn log_bytes(level: Level, message: &[u8]) {
    let length = c_int::try_from(message.len()).unwrap_or(c_int::MAX);
    // SAFETY: the format is a NUL-terminated literal; "%.*s" reads at most
    // `length` bytes from `message`, which holds at least that many, and
    // the arguments match the conversions (int, then a char pointer).
    unsafe {
        sys::keel_logf(level as i32, c"%.*s".as_ptr(), length, message.as_ptr() as *const c_char);
    }
}

/// Logs `message` as is.
pub fn log(level: Level, message: &str) {
    log_bytes(level, message.as_bytes());
}

/// A fixed buffer `core::fmt` writes into: formatting never allocates.
/// Output beyond its capacity is cut; the last byte is kept for a NUL.
pub struct LogBuffer {
    bytes: [u8; LogBuffer::CAPACITY],
    length: usize,
}

impl LogBuffer {
    pub const CAPACITY: usize = 512;

    pub const fn new() -> Self {
        LogBuffer { bytes: [0; Self::CAPACITY], length: 0 }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.length]
    }

    /// The text with a NUL after it (the buffer always keeps room for it).
    pub fn as_c_ptr(&mut self) -> *const c_char {
        self.bytes[self.length] = 0;
        self.bytes.as_ptr() as *const c_char
    }
}

impl Default for LogBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for LogBuffer {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let room = Self::CAPACITY - 1 - self.length;
        let take = text.len().min(room);
        self.bytes[self.length..self.length + take].copy_from_slice(&text.as_bytes()[..take]);
        self.length += take;
        Ok(())
    }
}

/// Formats and logs; see `pr_info!` and friends.
pub fn log_fmt(level: Level, arguments: fmt::Arguments<'_>) {
    let mut buffer = LogBuffer::new();
    let _ = fmt::write(&mut buffer, arguments);
    log_bytes(level, buffer.as_bytes());
}

/// Logs at `Level::Err`, formatted as `format!` does.
#[macro_export]
macro_rules! pr_err {
    ($($argument:tt)*) => { $crate::print::log_fmt($crate::print::Level::Err, format_args!($($argument)*)) };
}
/// Logs at `Level::Warning`.
#[macro_export]
macro_rules! pr_warn {
    ($($argument:tt)*) => { $crate::print::log_fmt($crate::print::Level::Warning, format_args!($($argument)*)) };
}
/// Logs at `Level::Notice`.
#[macro_export]
macro_rules! pr_notice {
    ($($argument:tt)*) => { $crate::print::log_fmt($crate::print::Level::Notice, format_args!($($argument)*)) };
}
/// Logs at `Level::Info`.
#[macro_export]
macro_rules! pr_info {
    ($($argument:tt)*) => { $crate::print::log_fmt($crate::print::Level::Info, format_args!($($argument)*)) };
}
/// Logs at `Level::Debug`.
#[macro_export]
macro_rules! pr_debug {
    ($($argument:tt)*) => { $crate::print::log_fmt($crate::print::Level::Debug, format_args!($($argument)*)) };
}

/// Stops the kernel with the panic's message: the `#[panic_handler]` that
/// `module!` defines calls it.
pub fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut buffer = LogBuffer::new();
    let _ = fmt::write(&mut buffer, format_args!("Rust module panic: {}", info));
    // SAFETY: as_c_ptr() returns the buffer's text followed by a NUL, and
    // the buffer outlives the call (keel_panic never returns).
    unsafe { sys::keel_panic(buffer.as_c_ptr()) }
}
