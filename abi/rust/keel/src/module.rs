//! A module's life: `module!` declares the metadata and a type that
//! implements `Module`; loading the module runs `Module::init`, which makes
//! the module's state, and unloading drops that state (`Drop` is the exit).
//!
//! ```ignore
//! use keel::prelude::*;
//!
//! struct Hello {
//!     started_ns: u64,
//! }
//!
//! impl Module for Hello {
//!     fn init(module: &'static ThisModule) -> Result<Self> {
//!         pr_info!("{}: {} greeting(s)\n", module.name(), module_parameters::count.get());
//!         Ok(Hello { started_ns: keel::time::monotonic_ns() })
//!     }
//! }
//!
//! impl Drop for Hello {
//!     fn drop(&mut self) {
//!         pr_info!("goodbye after {} ns\n", keel::time::monotonic_ns() - self.started_ns);
//!     }
//! }
//!
//! keel::module! {
//!     type: Hello,
//!     name: "hello_rs",
//!     license: "MIT",
//!     params: {
//!         count: u64 { default: 3, description: "how many greetings" },
//!     },
//! }
//! ```

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;

use crate::error::Result;

/// A loadable module: its state, made by `init` when the module loads and
/// dropped when it unloads.
pub trait Module: Sized + Send {
    /// Runs once, when the module is loaded, after its parameters are set.
    /// An error fails the load: the loader undoes everything and insmod
    /// reports the errno.
    fn init(module: &'static ThisModule) -> Result<Self>;
}

/// What the module knows about itself (Rust-for-Linux's `THIS_MODULE`).
pub struct ThisModule {
    name: &'static str,
}

impl ThisModule {
    #[doc(hidden)]
    pub const fn new(name: &'static str) -> Self {
        ThisModule { name }
    }

    /// The module's name, as in `lsmod`.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Where `module!` keeps the module's state between init and exit. No
/// "initialised" flag: the loader runs keel_module_exit only for a module
/// whose keel_module_init succeeded (docs/module-format.md), so the slot
/// is zero bytes for a zero-sized state.
#[doc(hidden)]
pub struct ModuleSlot<T>(UnsafeCell<MaybeUninit<T>>);

// SAFETY: only `init` and `exit` touch the slot, and the loader calls them
// one after the other, never at the same time (see their contracts); the
// state moves between the loading and the unloading thread, so T: Send.
unsafe impl<T: Send> Sync for ModuleSlot<T> {}

impl<T: Module> ModuleSlot<T> {
    pub const fn new() -> Self {
        ModuleSlot(UnsafeCell::new(MaybeUninit::uninit()))
    }

    /// `keel_module_init`: makes the state; 0 or a negative errno.
    ///
    /// # Safety
    ///
    /// Called by the loader only, once per load, with no other access to
    /// the slot at the same time.
    pub unsafe fn init(&self, module: &'static ThisModule) -> i32 {
        match T::init(module) {
            Ok(state) => {
                // SAFETY: the caller guarantees exclusive access; the slot
                // is empty (this is the load's one init), so nothing is
                // overwritten without being dropped.
                unsafe { (*self.0.get()).write(state) };
                0
            }
            Err(error) => error.to_errno(),
        }
    }

    /// `keel_module_exit`: drops the state (running its `Drop`).
    ///
    /// # Safety
    ///
    /// Called by the loader only, once, after a successful `init`, with no
    /// other access to the slot at the same time.
    pub unsafe fn exit(&self) {
        // SAFETY: the caller guarantees exclusive access, and that `init`
        // stored the state and no exit dropped it yet.
        unsafe { (*self.0.get()).assume_init_drop() };
    }
}

impl<T: Module> Default for ModuleSlot<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Declares a module: its metadata (modinfo notes), its parameters, the
/// type implementing `Module`, and what every Rust module needs once (the
/// `keel_module_init`/`keel_module_exit` entry points, the global allocator
/// on the kernel heap and the panic handler). Fields in this order:
/// `type`, `name`, then optionally `author` and `description`, `license`,
/// optionally `version` and `params`. Parameter types are `bool`, `i64`
/// and `u64` (insmod's bool, int and uint); read them as
/// `module_parameters::NAME.get()`. In-tree builds (`--cfg keel_intree`)
/// also record `intree=Y`.
#[macro_export]
macro_rules! module {
    (
        type: $type:ty,
        name: $name:literal
        $(, author: $author:literal)?
        $(, description: $description:literal)?
        , license: $license:literal
        $(, version: $version:literal)?
        $(, params: { $($params:tt)* })?
        $(,)?
    ) => {
        $crate::modinfo!("modinfo_version", "1");
        $crate::modinfo!("name", $name);
        $crate::modinfo!("license", $license);
        $($crate::modinfo!("author", $author);)?
        $($crate::modinfo!("description", $description);)?
        $($crate::modinfo!("version", $version);)?
        // The entry points below, announced so that the loader refuses the
        // module if a version script hid them (docs/module-format.md).
        $crate::modinfo!("init", "keel_module_init");
        $crate::modinfo!("exit", "keel_module_exit");
        #[cfg(keel_intree)]
        $crate::modinfo!("intree", "Y");
        $($crate::__module_params!($($params)*);)?

        const _: () = {
            static THIS_MODULE: $crate::ThisModule = $crate::ThisModule::new($name);
            static STATE: $crate::module::ModuleSlot<$type> = $crate::module::ModuleSlot::new();

            #[unsafe(no_mangle)]
            pub extern "C" fn keel_module_init() -> i32 {
                // SAFETY: the loader calls keel_module_init once per load,
                // before anything else of this module runs.
                unsafe { STATE.init(&THIS_MODULE) }
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn keel_module_exit() {
                // SAFETY: the loader calls keel_module_exit once, only
                // after keel_module_init succeeded, when nothing else of
                // the module runs any more.
                unsafe { STATE.exit() }
            }

            #[global_allocator]
            static ALLOCATOR: $crate::allocator::KeelAllocator = $crate::allocator::KeelAllocator;

            #[panic_handler]
            fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
                $crate::print::panic(info)
            }
        };

        // The precompiled `core` refers to the unwinding personality even
        // under panic=abort; nothing ever calls it.
        #[unsafe(no_mangle)]
        extern "C" fn rust_eh_personality() {}
    };
}
