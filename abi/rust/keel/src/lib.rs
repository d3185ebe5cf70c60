//! keel: the safe layer for Keel modules written in Rust.
//!
//! It sits on the generated `keel_sys` bindings (raw `extern "C"`
//! declarations made from abi/keel.toml), as Rust-for-Linux's `kernel`
//! crate sits on `bindings`: leaf modules use only this crate, and every
//! `unsafe` block here says why it is sound.
//!
//! ```ignore
//! #![no_std]
//! keel::module! { name: "hello_rs", license: "MIT", description: "Says hello" }
//! keel::module_param!(repeat: int = 1, "how many greetings");
//! keel::module_init!(init);
//! keel::global_allocator!();
//! keel::panic_handler!();
//!
//! fn init() -> keel::Result<()> {
//!     keel::pr_info!("hello from Rust, {} time(s)\n", repeat.get());
//!     Ok(())
//! }
//! ```
#![no_std]

pub use keel_sys as sys;

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int};
use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::ptr;

// ------------------------------------------------------------------ errors

/// An errno-style error from the core (a positive errno number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(i32);

impl Error {
    pub const EPERM: Error = Error(1);
    pub const ENOENT: Error = Error(2);
    pub const EIO: Error = Error(5);
    pub const EAGAIN: Error = Error(11);
    pub const ENOMEM: Error = Error(12);
    pub const EBUSY: Error = Error(16);
    pub const EINVAL: Error = Error(22);
    pub const ENOSYS: Error = Error(38);

    /// From a positive errno number.
    pub const fn from_errno(errno: i32) -> Error {
        Error(errno)
    }

    /// The positive errno number.
    pub const fn errno(self) -> i32 {
        self.0
    }

    /// The ABI's return convention: a negative errno.
    pub const fn to_return_code(self) -> i32 {
        -self.0
    }
}

pub type Result<T> = core::result::Result<T, Error>;

/// Maps the ABI's "0 or a negative errno" to a Result.
pub fn check(code: i32) -> Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(Error(code.wrapping_neg()))
    }
}

// --------------------------------------------------------------------- log

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

#[macro_export]
macro_rules! pr_err {
    ($($argument:tt)*) => { $crate::log_fmt($crate::Level::Err, format_args!($($argument)*)) };
}
#[macro_export]
macro_rules! pr_warn {
    ($($argument:tt)*) => { $crate::log_fmt($crate::Level::Warning, format_args!($($argument)*)) };
}
#[macro_export]
macro_rules! pr_notice {
    ($($argument:tt)*) => { $crate::log_fmt($crate::Level::Notice, format_args!($($argument)*)) };
}
#[macro_export]
macro_rules! pr_info {
    ($($argument:tt)*) => { $crate::log_fmt($crate::Level::Info, format_args!($($argument)*)) };
}
#[macro_export]
macro_rules! pr_debug {
    ($($argument:tt)*) => { $crate::log_fmt($crate::Level::Debug, format_args!($($argument)*)) };
}

/// Stops the kernel with the panic's message (what `panic_handler!` calls).
pub fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut buffer = LogBuffer::new();
    let _ = fmt::write(&mut buffer, format_args!("Rust module panic: {}", info));
    // SAFETY: as_c_ptr() returns the buffer's text followed by a NUL, and
    // the buffer outlives the call (keel_panic never returns).
    unsafe { sys::keel_panic(buffer.as_c_ptr()) }
}

/// Defines the crate's #[panic_handler] as `keel::panic` (and the
/// personality symbol a `no_std` cdylib needs).
#[macro_export]
macro_rules! panic_handler {
    () => {
        #[panic_handler]
        fn keel_rust_panic(info: &core::panic::PanicInfo<'_>) -> ! {
            $crate::panic(info)
        }

        // The precompiled `core` refers to the unwinding personality even
        // under panic=abort; nothing ever calls it.
        #[unsafe(no_mangle)]
        extern "C" fn rust_eh_personality() {}
    };
}

// ------------------------------------------------------------------ memory

/// A `GlobalAlloc` on the kernel heap (keel_alloc/keel_free), so `alloc`'s
/// Box, Vec and String work in a module; install it with
/// `global_allocator!()`. Alignments above KEEL_ALLOC_ALIGN over-allocate
/// and keep the heap's pointer just below the aligned block.
pub struct KeelAllocator;

const HEAP_ALIGN: usize = sys::KEEL_ALLOC_ALIGN;

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

/// Installs `KeelAllocator` as the crate's global allocator.
#[macro_export]
macro_rules! global_allocator {
    () => {
        #[global_allocator]
        static KEEL_GLOBAL_ALLOCATOR: $crate::KeelAllocator = $crate::KeelAllocator;
    };
}

// -------------------------------------------------------------------- sync

/// A sleeping mutex (keel_mutex) owning the data it guards. Creating one
/// allocates, so it can fail; for statics use `SpinLock`.
pub struct Mutex<T> {
    raw: *mut sys::keel_mutex,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex serialises every access to `data`, so it may be shared
// and sent between threads whenever T itself may be sent.
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    pub fn new(value: T) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: `raw` is a valid place for the out-pointer.
        check(unsafe { sys::keel_mutex_create(&mut raw) })?;
        Ok(Mutex { raw, data: UnsafeCell::new(value) })
    }

    pub fn lock(&self) -> MutexGuard<'_, T> {
        // SAFETY: `raw` is a live mutex until drop, which cannot run while
        // `self` is borrowed.
        unsafe { sys::keel_mutex_lock(self.raw) };
        MutexGuard { mutex: self, _not_send: PhantomData }
    }

    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        // SAFETY: as in lock().
        let code = unsafe { sys::keel_mutex_trylock(self.raw) };
        (code == 0).then_some(MutexGuard { mutex: self, _not_send: PhantomData })
    }
}

impl<T> Drop for Mutex<T> {
    fn drop(&mut self) {
        // SAFETY: `raw` came from keel_mutex_create; `&mut self` proves no
        // guard (and so no holder) exists.
        unsafe { sys::keel_mutex_destroy(self.raw) };
    }
}

/// The lock held on a `Mutex`; it unlocks when dropped, on the thread that
/// locked it (so it is not Send).
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so no one else accesses `data`.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref(); `&mut self` makes this the only reference.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard locked the mutex and has not unlocked it.
        unsafe { sys::keel_mutex_unlock(self.mutex.raw) };
    }
}

/// An interrupt-safe spinlock (keel_spinlock) owning its data. `new` is
/// const and cannot fail, so it suits statics. Never sleep while holding it.
pub struct SpinLock<T> {
    raw: UnsafeCell<sys::keel_spinlock>,
    data: UnsafeCell<T>,
}

// SAFETY: the lock serialises every access to `data`.
unsafe impl<T: Send> Send for SpinLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        SpinLock { raw: UnsafeCell::new(sys::keel_spinlock { locked: 0, reserved: 0 }), data: UnsafeCell::new(value) }
    }

    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        // SAFETY: `raw` points at a keel_spinlock that lives as long as
        // `self`; the core only touches it atomically.
        let irq_state = unsafe { sys::keel_spin_lock(self.raw.get()) };
        SpinLockGuard { lock: self, irq_state, _not_send: PhantomData }
    }
}

/// The lock held on a `SpinLock`, with the interrupt state to restore.
pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    irq_state: u64,
    _not_send: PhantomData<*const ()>,
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock; `&mut self` is unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard took the lock and saved `irq_state` from it.
        unsafe { sys::keel_spin_unlock(self.lock.raw.get(), self.irq_state) };
    }
}

// -------------------------------------------------------------------- time

/// Nanoseconds since boot (monotonic).
pub fn monotonic_ns() -> u64 {
    // SAFETY: no arguments, no preconditions.
    unsafe { sys::keel_monotonic_ns() }
}

/// Sleeps at least `duration_ns` nanoseconds.
pub fn sleep_ns(duration_ns: u64) {
    // SAFETY: no pointer arguments; sleeping is allowed in module context.
    unsafe { sys::keel_sleep_ns(duration_ns) }
}

/// Lets other threads run.
pub fn yield_now() {
    // SAFETY: no arguments, no preconditions.
    unsafe { sys::keel_thread_yield() }
}

// ------------------------------------------------------------ module info

/// One modinfo ELF note (docs/module-format.md): name "Keel" (namesz 5,
/// padded to 8), type 1, and a NUL-terminated "key=value" descriptor
/// padded to 4 bytes. Built at compile time by the macros below.
#[repr(C, align(4))]
pub struct ModInfoNote<const N: usize> {
    namesz: u32,
    descsz: u32,
    note_type: u32,
    name: [u8; 8],
    desc: [u8; N],
}

/// The padded descriptor size for a text of `length` bytes (NUL included).
pub const fn note_desc_size(length: usize) -> usize {
    (length + 3) & !3
}

impl<const N: usize> ModInfoNote<N> {
    /// `text` must end with its NUL and fit in N bytes.
    pub const fn new(text: &[u8]) -> Self {
        assert!(text.len() <= N && !text.is_empty() && text[text.len() - 1] == 0);
        let mut desc = [0u8; N];
        let mut i = 0;
        while i < text.len() {
            desc[i] = text[i];
            i += 1;
        }
        ModInfoNote { namesz: 5, descsz: text.len() as u32, note_type: 1, name: *b"Keel\0\0\0\0", desc }
    }
}

/// Emits one modinfo note from a string expression built with concat!
/// (ending in "\0").
#[doc(hidden)]
#[macro_export]
macro_rules! __modinfo_note {
    ($text:expr) => {
        const _: () = {
            const TEXT: &[u8] = $text.as_bytes();
            #[unsafe(link_section = ".note.keel")]
            #[used]
            static NOTE: $crate::ModInfoNote<{ $crate::note_desc_size(TEXT.len()) }> = $crate::ModInfoNote::new(TEXT);
        };
    };
}

/// One `key=value` modinfo note, e.g. `keel::modinfo!("intree", "Y");`.
#[macro_export]
macro_rules! modinfo {
    ($key:literal, $value:literal) => {
        $crate::__modinfo_note!(concat!($key, "=", $value, "\0"));
    };
}

/// The module's metadata: name and license are required.
#[macro_export]
macro_rules! module {
    (name: $name:literal, license: $license:literal
     $(, author: $author:literal)? $(, description: $description:literal)? $(, version: $version:literal)? $(,)?) => {
        $crate::modinfo!("modinfo_version", "1");
        $crate::modinfo!("name", $name);
        $crate::modinfo!("license", $license);
        $($crate::modinfo!("author", $author);)?
        $($crate::modinfo!("description", $description);)?
        $($crate::modinfo!("version", $version);)?
    };
}

/// `fn init() -> keel::Result<()>` becomes the exported keel_module_init.
#[macro_export]
macro_rules! module_init {
    ($function:path) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn keel_module_init() -> i32 {
            let result: $crate::Result<()> = $function();
            match result {
                Ok(()) => 0,
                Err(error) => error.to_return_code(),
            }
        }
    };
}

/// `fn exit()` becomes the exported keel_module_exit.
#[macro_export]
macro_rules! module_exit {
    ($function:path) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn keel_module_exit() {
            $function()
        }
    };
}

/// A module parameter's storage: the loader writes the value given to
/// insmod before keel_module_init runs; the module only reads it.
#[repr(transparent)]
pub struct Param<T: Copy>(UnsafeCell<T>);

// SAFETY: only the loader writes, before any module code runs; afterwards
// every access is a read.
unsafe impl<T: Copy> Sync for Param<T> {}

impl<T: Copy> Param<T> {
    pub const fn new(value: T) -> Self {
        Param(UnsafeCell::new(value))
    }

    pub fn get(&self) -> T {
        // SAFETY: the cell is valid for reads; a volatile read keeps the
        // compiler from folding in the default value the loader replaced.
        unsafe { ptr::read_volatile(self.0.get()) }
    }
}

/// A typed parameter (bool, int or uint) exported as keel_param_NAME with
/// its "parm" note: `keel::module_param!(repeat: int = 1, "description");`
/// then `repeat.get()`.
#[macro_export]
macro_rules! module_param {
    ($name:ident : bool = $default:expr, $description:literal) => {
        $crate::__module_param!($name, bool, "bool", $default, $description);
    };
    ($name:ident : int = $default:expr, $description:literal) => {
        $crate::__module_param!($name, i64, "int", $default, $description);
    };
    ($name:ident : uint = $default:expr, $description:literal) => {
        $crate::__module_param!($name, u64, "uint", $default, $description);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __module_param {
    ($name:ident, $type:ty, $type_name:literal, $default:expr, $description:literal) => {
        #[unsafe(export_name = concat!("keel_param_", stringify!($name)))]
        #[allow(non_upper_case_globals)]
        pub static $name: $crate::Param<$type> = $crate::Param::new($default);
        $crate::__modinfo_note!(concat!("parm=", stringify!($name), ":", $type_name, ":", $description, "\0"));
    };
}
