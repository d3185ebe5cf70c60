//! PCI drivers in Rust (KABI_DEVICE_1.0, KABI_PCI_1.0), shaped like
//! Rust-for-Linux's `kernel::pci` so that its drivers port almost
//! mechanically: a match table declared as data, a `Driver` trait whose
//! `probe` returns the driver's per-device data, and `module_pci_driver!`.
//!
//! ```ignore
//! keel::pci_device_table!(EDU_IDS, (), [(pci::DeviceId::from_id(0x1234, 0x11e8), ())]);
//!
//! struct Edu { registers: Devres<Mmio> }
//!
//! impl pci::Driver for Edu {
//!     type IdInfo = ();
//!     const NAME: &'static CStr = c"edu_rs";
//!     const ID_TABLE: &'static pci::IdTable<()> = &EDU_IDS;
//!
//!     fn probe(device: &pci::Device<Core>, _info: &()) -> Result<Pin<Box<Self>>> {
//!         device.enable_device()?;
//!         let registers = device.iomap_region(0, 0, 0)?;
//!         Ok(Box::pin(Edu { registers }))
//!     }
//! }
//!
//! keel::module_pci_driver! { type: Edu, name: "edu_rs", license: "MIT" }
//! ```
//!
//! The data `probe` returns is dropped after `unbind`, when the device is
//! unbound (or its module unloaded); dropping it drops its handles, which
//! releases their resources. What it does not release, the core does.

use core::ffi::{c_void, CStr};
use core::marker::PhantomData;
use core::ops::Deref;
use core::pin::Pin;

use alloc::boxed::Box;

use crate::device::{self, Bound, Core};
use crate::error::{to_result, Error, Result};
use crate::sys;

/// Matches any vendor, device or subsystem id.
pub const ANY_ID: u32 = sys::KEEL_PCI_ANY_ID;

/// One entry of a match table (Linux's `pci_device_id`).
#[repr(transparent)]
pub struct DeviceId(sys::keel_pci_device_id);

impl DeviceId {
    /// A vendor and device id, any subsystem.
    pub const fn from_id(vendor: u32, device: u32) -> Self {
        Self::from_parts(vendor, device, ANY_ID, ANY_ID, 0, 0)
    }

    /// A class (base << 16 | sub << 8 | interface) under `mask`, any ids.
    pub const fn from_class(class_code: u32, class_mask: u32) -> Self {
        Self::from_parts(ANY_ID, ANY_ID, ANY_ID, ANY_ID, class_code, class_mask)
    }

    /// Every field, as Linux's `PCI_DEVICE_SUB` with a class.
    pub const fn from_parts(
        vendor: u32,
        device: u32,
        subvendor: u32,
        subdevice: u32,
        class_code: u32,
        class_mask: u32,
    ) -> Self {
        DeviceId(sys::keel_pci_device_id {
            vendor,
            device,
            subvendor,
            subdevice,
            class_code,
            class_mask,
            driver_data: 0,
        })
    }
}

/// The bytes of a `.keel_device_table` section: the header and `N`
/// entries, laid out as keel/device.h's `KEEL_DEVICE_TABLE(pci, ...)`.
/// `pci_device_table!` makes one; entry `i` carries `i` as its
/// `driver_data`, the index of its `IdInfo`.
#[repr(C, align(8))]
pub struct RawIdTable<const N: usize> {
    header: sys::keel_device_table,
    entries: [sys::keel_pci_device_id; N],
}

impl<const N: usize> RawIdTable<N> {
    /// The table of `ids`, in order.
    pub const fn new(ids: [DeviceId; N]) -> Self {
        let mut entries = [const { DeviceId::from_id(0, 0).0 }; N];
        let mut i = 0;
        while i < N {
            let id = &ids[i].0;
            entries[i] = sys::keel_pci_device_id {
                vendor: id.vendor,
                device: id.device,
                subvendor: id.subvendor,
                subdevice: id.subdevice,
                class_code: id.class_code,
                class_mask: id.class_mask,
                driver_data: i as u64,
            };
            i += 1;
        }
        RawIdTable {
            header: sys::keel_device_table {
                magic: sys::KEEL_DEVICE_TABLE_MAGIC,
                version: sys::KEEL_DEVICE_TABLE_VERSION,
                bus: sys::KEEL_BUS_PCI,
                header_size: core::mem::size_of::<sys::keel_device_table>() as u32,
                entry_size: core::mem::size_of::<sys::keel_pci_device_id>() as u32,
                entry_count: N as u32,
                flags: 0,
            },
            entries,
        }
    }

    /// Its header, which the driver table points to.
    pub const fn header(&'static self) -> &'static sys::keel_device_table {
        &self.header
    }
}

/// A driver's match table and the information each entry carries.
pub struct IdTable<T: 'static> {
    raw: &'static sys::keel_device_table,
    info: &'static [T],
}

impl<T> IdTable<T> {
    /// `raw` (from `RawIdTable::header`) with one `info` per entry.
    pub const fn new(raw: &'static sys::keel_device_table, info: &'static [T]) -> Self {
        assert!(raw.entry_count as usize == info.len(), "one IdInfo per entry");
        IdTable { raw, info }
    }
}

/// Declares a PCI match table `$name` (an `IdTable<$info>`) in the
/// module's `.keel_device_table` section, where the loader finds it for
/// autoload and `modinfo` prints its aliases:
/// `pci_device_table!(IDS, (), [(DeviceId::from_id(0x1234, 0x11e8), ())]);`
#[macro_export]
macro_rules! pci_device_table {
    ($name:ident, $info:ty, [$(($id:expr, $data:expr)),+ $(,)?]) => {
        static $name: $crate::pci::IdTable<$info> = {
            const COUNT: usize = [$(stringify!($id)),+].len();
            #[unsafe(link_section = ".keel_device_table")]
            #[used]
            static RAW: $crate::pci::RawIdTable<COUNT> = $crate::pci::RawIdTable::new([$($id),+]);
            $crate::pci::IdTable::new(RAW.header(), &[$($data),+])
        };
    };
}

/// A PCI function, as its driver sees it.
#[repr(transparent)]
pub struct Device<Ctx = Bound>(device::Device<Ctx>);

impl<Ctx> Deref for Device<Ctx> {
    type Target = device::Device<Ctx>;

    fn deref(&self) -> &device::Device<Ctx> {
        &self.0
    }
}

/// Interrupt kinds for `alloc_irq_vectors` (combine with `|`).
pub mod irq_type {
    /// The legacy pin (one interrupt, maybe shared).
    pub const INTX: u32 = crate::sys::KEEL_PCI_IRQ_INTX;
    /// MSI (one vector).
    pub const MSI: u32 = crate::sys::KEEL_PCI_IRQ_MSI;
    /// MSI-X.
    pub const MSIX: u32 = crate::sys::KEEL_PCI_IRQ_MSIX;
    /// Any of them, best first.
    pub const ALL: u32 = INTX | MSI | MSIX;
}

impl<Ctx> Device<Ctx> {
    fn info(&self) -> sys::keel_pci_info {
        // SAFETY: an all-zero keel_pci_info is valid (integers only).
        let mut info: sys::keel_pci_info = unsafe { core::mem::zeroed() };
        // SAFETY: the device is live and on the pci bus (the driver is a
        // pci driver); `info` is a valid out-pointer.
        let _ = unsafe { sys::keel_pci_get_info(self.as_raw(), &mut info) };
        info
    }

    /// The vendor id.
    pub fn vendor_id(&self) -> u16 {
        self.info().vendor
    }

    /// The device id.
    pub fn device_id(&self) -> u16 {
        self.info().device
    }

    /// The revision id.
    pub fn revision_id(&self) -> u8 {
        self.info().revision
    }

    /// 4 bytes of configuration space at `offset`.
    pub fn config_read32(&self, offset: u32) -> Result<u32> {
        let mut value = 0;
        // SAFETY: the device is live; `value` is a valid out-pointer.
        to_result(unsafe { sys::keel_pci_config_read(self.as_raw(), offset, 4, &mut value) })?;
        Ok(value)
    }

    /// The interrupt kind allocated (one of `irq_type`), 0 for none.
    pub fn irq_type(&self) -> u32 {
        // SAFETY: the device is live.
        unsafe { sys::keel_pci_irq_type(self.as_raw()) }
    }
}

impl Device<Core> {
    /// Turns on decoding of the function's BARs.
    pub fn enable_device(&self) -> Result {
        // SAFETY: the device is live and being probed or bound.
        to_result(unsafe { sys::keel_pci_enable_device(self.as_raw()) })
    }

    /// Lets the function master the bus (DMA, MSI).
    pub fn set_master(&self) -> Result {
        // SAFETY: as above.
        to_result(unsafe { sys::keel_pci_set_master(self.as_raw()) })
    }

    /// Allocates `min..=max` interrupt vectors of the kinds in `types`
    /// (MSI-X, then MSI, then INTx); returns how many.
    pub fn alloc_irq_vectors(&self, min: u32, max: u32, types: u32) -> Result<u32> {
        // SAFETY: as above.
        let count = unsafe { sys::keel_pci_alloc_irq_vectors(self.as_raw(), min, max, types) };
        to_result(count)?;
        Ok(count as u32)
    }
}

/// A PCI driver.
pub trait Driver: Send + Sync + Sized + 'static {
    /// What each entry of the match table carries.
    type IdInfo: Sync + 'static;
    /// 1 to 31 of `[a-z0-9_]`, unique.
    const NAME: &'static CStr;
    /// The match table (`pci_device_table!`).
    const ID_TABLE: &'static IdTable<Self::IdInfo>;

    /// Binds to `device`, which matched the entry carrying `info`: the
    /// per-device data, kept until the device is unbound.
    fn probe(device: &Device<Core>, info: &Self::IdInfo) -> Result<Pin<Box<Self>>>;

    /// The device is being unbound: quiesce it (no more interrupts or DMA).
    /// The data is dropped afterwards.
    fn unbind(_device: &Device<Core>, _this: Pin<&Self>) {}

    /// The machine is powering off or rebooting: stop the device (no DMA,
    /// no interrupts). The device stays bound and nothing is released.
    fn shutdown(_device: &Device<Bound>, _this: Pin<&Self>) {}
}

/// The C side of a `Driver`.
struct Adapter<T>(PhantomData<T>);

impl<T: Driver> Adapter<T> {
    const OPS: sys::keel_driver_ops = sys::keel_driver_ops {
        size: core::mem::size_of::<sys::keel_driver_ops>() as u32,
        version: sys::KEEL_DRIVER_OPS_VERSION,
        name: T::NAME.as_ptr(),
        flags: 0,
        id_table: T::ID_TABLE.raw,
        probe: Some(Self::probe),
        remove: Some(Self::remove),
        shutdown: Some(Self::shutdown),
    };

    unsafe extern "C" fn probe(raw: *mut sys::keel_device, id: *const c_void) -> i32 {
        // SAFETY: the core passes the device being probed, live for the call.
        let Some(device) = (unsafe { device::Device::<Core>::from_raw(raw) }) else {
            return Error::EINVAL.to_errno();
        };
        let device = Device(device);
        // SAFETY: `id` is the matching entry of this driver's table, a
        // keel_pci_device_id in the module's image.
        let index = unsafe { (*(id as *const sys::keel_pci_device_id)).driver_data } as usize;
        let Some(info) = T::ID_TABLE.info.get(index) else {
            return Error::EINVAL.to_errno();
        };
        match T::probe(&device, info) {
            Ok(data) => {
                // SAFETY: the data stays pinned: it is only moved back into a
                // Box (never out of it) when it is dropped in remove.
                let data = Box::into_raw(unsafe { Pin::into_inner_unchecked(data) });
                // SAFETY: the device is live.
                unsafe { sys::keel_device_set_drvdata(raw, data as *mut c_void) };
                0
            }
            Err(error) => error.to_errno(),
        }
    }

    unsafe extern "C" fn remove(raw: *mut sys::keel_device) {
        // SAFETY: the core passes the device being unbound, live for the call.
        let Some(device) = (unsafe { device::Device::<Core>::from_raw(raw) }) else {
            return;
        };
        let device = Device(device);
        // SAFETY: probe stored this driver's data, and only remove takes it.
        let data = unsafe { sys::keel_device_get_drvdata(raw) } as *mut T;
        if data.is_null() {
            return;
        }
        // SAFETY: `data` came from Box::into_raw in probe and is still owned
        // by the binding; it was pinned there and is dropped in place.
        let data = unsafe { Pin::new_unchecked(Box::from_raw(data)) };
        T::unbind(&device, data.as_ref());
        // SAFETY: as above.
        unsafe { sys::keel_device_set_drvdata(raw, core::ptr::null_mut()) };
        drop(data);
    }
}

impl<T: Driver> Adapter<T> {
    unsafe extern "C" fn shutdown(raw: *mut sys::keel_device) {
        // SAFETY: the core passes a bound device of this driver, live for
        // the call.
        let Some(device) = (unsafe { device::Device::<Bound>::from_raw(raw) }) else {
            return;
        };
        // SAFETY: probe stored this driver's data; it stays the binding's
        // (shutdown releases nothing), pinned where probe put it.
        let data = unsafe { sys::keel_device_get_drvdata(raw) } as *const T;
        if data.is_null() {
            return;
        }
        // SAFETY: as above; only shared access, for the call.
        T::shutdown(&Device(device), unsafe { Pin::new_unchecked(&*data) });
    }
}

/// A registered driver; dropping it unregisters the driver, unbinding its
/// devices.
pub struct Registration<T: Driver> {
    raw: *mut sys::keel_driver,
    _driver: PhantomData<T>,
}

// SAFETY: the handle is only passed back to the core, whose calls are
// thread-safe.
unsafe impl<T: Driver> Send for Registration<T> {}
// SAFETY: as above; `&Registration` offers nothing.
unsafe impl<T: Driver> Sync for Registration<T> {}

impl<T: Driver> Registration<T> {
    /// Registers the driver; it binds every present device its table
    /// matches.
    pub fn new() -> Result<Self> {
        let ops: &'static sys::keel_driver_ops = &Adapter::<T>::OPS;
        let mut raw = core::ptr::null_mut();
        // SAFETY: `ops` is a complete, static table of this crate's
        // callbacks in the module's image; `raw` is a valid out-pointer.
        to_result(unsafe { sys::keel_driver_register(ops, &mut raw) })?;
        Ok(Registration { raw, _driver: PhantomData })
    }
}

impl<T: Driver> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: `raw` is the driver registered in new().
        let code = unsafe { sys::keel_driver_unregister(self.raw) };
        if let Err(error) = to_result(code) {
            crate::pr_warn!("{}: cannot unregister: {:?}\n", T::NAME.to_str().unwrap_or("?"), error);
        }
    }
}

/// A module that is one PCI driver: registers it at load, unregisters it
/// at unload. Takes `module!`'s fields after `type`.
#[macro_export]
macro_rules! module_pci_driver {
    (type: $type:ty, $($fields:tt)*) => {
        struct ModulePciDriver($crate::pci::Registration<$type>);

        impl $crate::Module for ModulePciDriver {
            fn init(_module: &'static $crate::ThisModule) -> $crate::Result<Self> {
                Ok(ModulePciDriver($crate::pci::Registration::new()?))
            }
        }

        $crate::module! { type: ModulePciDriver, $($fields)* }
    };
}
