//! edu_rs: a driver for QEMU's `edu` PCI device (1234:11e8) in safe Rust,
//! on the `keel` crate's `pci::Driver` layer. Its probe maps BAR 0, checks
//! the identification and liveness registers, has the device compute 10!
//! and raise an interrupt (MSI, else INTx), and does a DMA round trip
//! through coherent memory. It keeps one more reference to the register
//! mapping than its per-device data holds, in a module-wide slot, so that
//! unloading can show the mapping was revoked when the device was unbound:
//! nothing reaches a released resource. With `hold=1` its probe also takes
//! a reference on the `provider` module's `provider_add` (keel::symbol),
//! given back when the device's data is dropped after unbind. No `unsafe`,
//! no `keel::sys`.
#![no_std]

extern crate alloc;

use alloc::boxed::Box;
use core::ffi::CStr;
use core::pin::Pin;
use core::sync::atomic::{AtomicU32, Ordering};

use keel::allocator::try_box;
use keel::device::Core;
use keel::devres::Devres;
use keel::dma::CoherentAllocation;
use keel::io::Mmio;
use keel::irq::{self, IrqReturn};
use keel::pci;
use keel::prelude::*;
use keel::symbol::SymbolRef;

// Registers (BAR 0), as QEMU's docs/specs/edu.rst describes them.
const ID: u64 = 0x00;
const LIVENESS: u64 = 0x04;
const FACTORIAL: u64 = 0x08;
const STATUS: u64 = 0x20;
const IRQ_STATUS: u64 = 0x24;
const IRQ_ACK: u64 = 0x64;
const DMA_SOURCE: u64 = 0x80;
const DMA_DESTINATION: u64 = 0x88;
const DMA_COUNT: u64 = 0x90;
const DMA_COMMAND: u64 = 0x98;

const STATUS_IRQ_ON_FACTORIAL: u32 = 0x80;
const DMA_START: u64 = 0x01;
const DMA_TO_RAM: u64 = 0x02;
const DMA_IRQ: u64 = 0x04;
const IRQ_FACTORIAL: u32 = 0x01;
const IRQ_DMA: u32 = 0x100;

/// The device's own DMA buffer, in its address space.
const DEVICE_BUFFER: u64 = 0x40000;
const TRANSFER: usize = 100;

keel::pci_device_table!(EDU_IDS, (), [(pci::DeviceId::from_id(0x1234, 0x11e8), ())]);

/// A second reference to the last bound device's registers.
static KEPT: SpinLock<Option<Arc<Devres<Mmio>>>> = SpinLock::new(None);

/// The interrupt handler's data.
struct Interrupts {
    registers: Arc<Devres<Mmio>>,
    /// Status bits seen and not yet consumed.
    pending: AtomicU32,
    count: AtomicU32,
}

impl irq::Handler for Interrupts {
    fn handle(&self) -> IrqReturn {
        let Some(registers) = self.registers.try_access() else {
            return IrqReturn::None;
        };
        let status = registers.read32(IRQ_STATUS);
        if status == 0 {
            return IrqReturn::None; // a device sharing the line
        }
        registers.write32(IRQ_ACK, status);
        self.pending.fetch_or(status, Ordering::SeqCst);
        self.count.fetch_add(1, Ordering::SeqCst);
        IrqReturn::Handled
    }
}

impl Interrupts {
    /// Waits (at most 2 s) until the handler has seen every bit of `bits`.
    fn wait(&self, bits: u32) -> Result {
        for _ in 0..2000 {
            if self.pending.load(Ordering::SeqCst) & bits == bits {
                self.pending.fetch_and(!bits, Ordering::SeqCst);
                return Ok(());
            }
            keel::thread::sleep_ns(1_000_000);
        }
        Err(Error::ETIMEDOUT)
    }
}

/// One bound device. The interrupt registration comes first, so that
/// dropping the data frees the handler before anything it uses.
struct Edu {
    irq: irq::Registration<Interrupts>,
    _buffer: Devres<CoherentAllocation>,
    registers: Arc<Devres<Mmio>>,
    /// With `hold=1`: dropped last, its put is the last call of the data's
    /// drop.
    _provider: Option<SymbolRef>,
}

fn fail(device: &pci::Device<Core>, what: &str, error: Error) -> Error {
    pr_err!("edu_rs: {}: {} failed ({:?})\n", device.name().to_str().unwrap_or("?"), what, error);
    error
}

/// Moves TRANSFER bytes with the device's DMA engine and waits for its
/// interrupt.
fn transfer(registers: &Devres<Mmio>, interrupts: &Interrupts, from: u64, to: u64, command: u64) -> Result {
    {
        let registers = registers.try_access().ok_or(Error::ENODEV)?;
        registers.write64(DMA_SOURCE, from);
        registers.write64(DMA_DESTINATION, to);
        registers.write64(DMA_COUNT, TRANSFER as u64);
        registers.write64(DMA_COMMAND, command | DMA_START | DMA_IRQ);
    }
    interrupts.wait(IRQ_DMA)
}

impl pci::Driver for Edu {
    type IdInfo = ();
    const NAME: &'static CStr = c"edu_rs";
    const ID_TABLE: &'static pci::IdTable<()> = &EDU_IDS;

    fn probe(device: &pci::Device<Core>, _info: &()) -> Result<Pin<Box<Self>>> {
        device.enable_device().map_err(|e| fail(device, "enable", e))?;
        device.dma_set_mask(28).map_err(|e| fail(device, "DMA mask", e))?;
        device.set_master().map_err(|e| fail(device, "bus mastering", e))?;
        let registers = Arc::new(device.iomap_region(0, 0, 0).map_err(|e| fail(device, "BAR 0 mapping", e))?);

        let identification = {
            let mmio = registers.try_access().ok_or(Error::ENODEV)?;
            let identification = mmio.read32(ID);
            if identification & 0xff != 0xed {
                return Err(fail(device, "identification", Error::ENODEV));
            }
            mmio.write32(LIVENESS, 0x1234_5678);
            if mmio.read32(LIVENESS) != !0x1234_5678u32 {
                return Err(fail(device, "liveness check", Error::EIO));
            }
            // Past the end of BAR 0: refused by the accessor.
            if mmio.read32(mmio.len()) != u32::MAX {
                return Err(fail(device, "bounds check", Error::EIO));
            }
            identification
        };

        device
            .alloc_irq_vectors(1, 1, pci::irq_type::MSI | pci::irq_type::INTX)
            .map_err(|e| fail(device, "interrupt vectors", e))?;
        let interrupts =
            Interrupts { registers: registers.clone(), pending: AtomicU32::new(0), count: AtomicU32::new(0) };
        let irq = device.request_irq(0, interrupts).map_err(|e| fail(device, "interrupt handler", e))?;
        let handler = irq.handler().clone();

        // 10! with an interrupt when done.
        if let Some(mmio) = registers.try_access() {
            mmio.write32(STATUS, STATUS_IRQ_ON_FACTORIAL);
            mmio.write32(FACTORIAL, 10);
        }
        handler.wait(IRQ_FACTORIAL).map_err(|e| fail(device, "factorial interrupt", e))?;
        let factorial = registers.try_access().ok_or(Error::ENODEV)?.read32(FACTORIAL);
        if factorial != 3_628_800 {
            return Err(fail(device, "factorial", Error::EIO));
        }

        // A pattern into the device and back into the other half.
        let buffer = device.dma_alloc_coherent(4096).map_err(|e| fail(device, "coherent DMA buffer", e))?;
        let (dma, pattern) = {
            let memory = buffer.try_access().ok_or(Error::ENODEV)?;
            let mut pattern = [0u8; TRANSFER];
            for (i, byte) in pattern.iter_mut().enumerate() {
                *byte = (i * 7 + 3) as u8;
            }
            memory.write(0, &pattern)?;
            (memory.dma_handle(), pattern)
        };
        if dma + 4096 > 1 << 28 {
            return Err(fail(device, "DMA mask respected", Error::EIO));
        }
        transfer(&registers, &handler, dma, DEVICE_BUFFER, 0).map_err(|e| fail(device, "DMA to the device", e))?;
        transfer(&registers, &handler, DEVICE_BUFFER, dma + 2048, DMA_TO_RAM)
            .map_err(|e| fail(device, "DMA from the device", e))?;
        let mut back = [0u8; TRANSFER];
        buffer.try_access().ok_or(Error::ENODEV)?.read(2048, &mut back)?;
        if back != pattern {
            return Err(fail(device, "DMA round trip", Error::EIO));
        }

        let kind = if device.irq_type() == pci::irq_type::MSI { "MSI" } else { "INTx" };
        pr_info!(
            "edu_rs: {}: id {:#x}, 10! = {}, DMA round trip ok, {} {} interrupt(s)\n",
            device.name().to_str().unwrap_or("?"),
            identification,
            factorial,
            handler.count.load(Ordering::SeqCst),
            kind
        );
        let provider = if module_parameters::hold.get() {
            let add = SymbolRef::get(c"provider_add", Some(c"KABI_PROVIDER_1.0"))
                .ok_or_else(|| fail(device, "provider_add reference", Error::ENOENT))?;
            Some(add)
        } else {
            None
        };
        let previous = KEPT.lock().replace(registers.clone());
        drop(previous);
        Ok(Pin::from(try_box(Edu { irq, _buffer: buffer, registers, _provider: provider })?))
    }

    fn shutdown(device: &pci::Device, this: Pin<&Self>) {
        if let Some(mmio) = this.registers.try_access() {
            mmio.write32(STATUS, 0); // no more interrupts
        }
        pr_info!("edu_rs: {}: shut down\n", device.name().to_str().unwrap_or("?"));
    }

    fn unbind(device: &pci::Device<Core>, this: Pin<&Self>) {
        if let Some(mmio) = this.registers.try_access() {
            mmio.write32(STATUS, 0); // no more interrupts
        }
        pr_info!(
            "edu_rs: {}: removed after {} interrupt(s)\n",
            device.name().to_str().unwrap_or("?"),
            this.irq.handler().count.load(Ordering::SeqCst)
        );
    }
}

struct EduModule {
    driver: Option<pci::Registration<Edu>>,
}

impl Module for EduModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(EduModule { driver: Some(pci::Registration::new()?) })
    }
}

impl Drop for EduModule {
    fn drop(&mut self) {
        // Unregistering unbinds every device: their registers are revoked
        // even though KEPT still holds a reference.
        drop(self.driver.take());
        let kept = KEPT.lock().take();
        if let Some(registers) = kept {
            let state = if registers.is_revoked() { "revoked" } else { "STILL LIVE" };
            pr_info!("edu_rs: the kept register mapping is {} after unbind\n", state);
        }
    }
}

keel::module! {
    type: EduModule,
    name: "edu_rs",
    description: "A driver for QEMU's edu PCI device, in safe Rust",
    license: "MIT",
    params: {
        hold: bool { default: false, description: "hold a reference on provider_add while a device is bound" },
    },
}
