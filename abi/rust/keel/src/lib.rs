//! keel: the safe layer for Keel modules written in Rust.
//!
//! It sits on the generated `keel_sys` bindings (raw `extern "C"`
//! declarations made from abi/keel.toml), as Rust-for-Linux's `kernel`
//! crate sits on `bindings`: leaf modules use only this crate, and every
//! `unsafe` block here says why it is sound. One file per abstraction:
//!
//! | module | holds |
//! | --- | --- |
//! | `error` | `Error` (only valid errnos, from the ABI's errno table), `Result`, `to_result` |
//! | `module` | the `Module` trait, `ThisModule`, the `module!` macro |
//! | `params` | module parameters (`params: { ... }` in `module!`) |
//! | `modinfo` | metadata notes, `modinfo!` |
//! | `print` | `pr_info!` & co., `Level`, the panic message |
//! | `allocator` | the kernel heap as the global allocator, `try_box` |
//! | `symbol` | `SymbolRef`: another module's export taken by name, pinning it until dropped |
//! | `sync` | `Mutex<T>`, `SpinLock<T>` (owning their data), `Completion`, `Arc` |
//! | `thread` | `Thread::spawn` (joined on drop), `sleep_ns`, `yield_now` |
//! | `time` | `monotonic_ns` |
//! | `fs` | the `FileSystem` trait and its `Registration` |
//! | `device` | `Device<Core>`/`Device<Bound>`: what a driver acquires for its device |
//! | `devres` | `Devres<T>`: a binding's resources as revocable handles |
//! | `io` | `Mmio`: device registers with bounded accessors |
//! | `irq` | the interrupt `Handler` trait and its `Registration` |
//! | `dma` | `CoherentAllocation`: DMA memory |
//! | `pci` | the PCI `Driver` trait, `pci_device_table!`, `module_pci_driver!` |
//!
//! ```ignore
//! #![no_std]
//! use keel::prelude::*;
//!
//! struct Hello;
//!
//! impl Module for Hello {
//!     fn init(module: &'static ThisModule) -> Result<Self> {
//!         pr_info!("{}: {} greeting(s)\n", module.name(), module_parameters::count.get());
//!         Ok(Hello)
//!     }
//! }
//!
//! impl Drop for Hello {
//!     fn drop(&mut self) {
//!         pr_info!("goodbye\n");
//!     }
//! }
//!
//! keel::module! {
//!     type: Hello,
//!     name: "hello",
//!     license: "MIT",
//!     params: {
//!         count: u64 { default: 1, description: "how many greetings" },
//!     },
//! }
//! ```
#![no_std]

extern crate alloc;

pub use keel_sys as sys;

pub mod allocator;
mod c_str;
pub mod device;
pub mod devres;
pub mod dma;
pub mod error;
pub mod fs;
pub mod io;
pub mod irq;
pub mod modinfo;
pub mod module;
pub mod params;
pub mod pci;
pub mod print;
pub mod symbol;
pub mod sync;
pub mod thread;
pub mod time;

pub use error::{Error, Result};
pub use module::{Module, ThisModule};

/// What most modules use: `use keel::prelude::*;`.
pub mod prelude {
    pub use crate::error::{Error, Result};
    pub use crate::module::{Module, ThisModule};
    pub use crate::sync::{Arc, Completion, Mutex, SpinLock};
    pub use crate::thread::Thread;
    pub use crate::{pr_debug, pr_err, pr_info, pr_notice, pr_warn};
}
