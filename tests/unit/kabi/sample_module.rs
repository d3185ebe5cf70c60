//! A Rust module through the safe `keel` crate, built as a `no_std`
//! cdylib against the stub libkeel.so (never loaded here).
#![no_std]

extern crate alloc;

use alloc::vec::Vec;

keel::module! { name: "sample_rs", license: "MIT", author: "The Keel authors", description: "ABI test module" }
keel::module_param!(repeat: int = 1, "how many greetings");
keel::module_param!(verbose: bool = false, "log more");
keel::module_init!(init);
keel::module_exit!(exit);
keel::global_allocator!();
keel::panic_handler!();

static COUNTER: keel::SpinLock<u32> = keel::SpinLock::new(0);

fn init() -> keel::Result<()> {
    let mutex = keel::Mutex::new(Vec::<u64>::new())?;
    mutex.lock().push(keel::monotonic_ns());
    *COUNTER.lock() += 1;
    keel::pr_info!("hello from Rust, {} time(s), verbose {}\n", repeat.get(), verbose.get());
    Ok(())
}

fn exit() {
    keel::pr_info!("goodbye after {} init(s)\n", *COUNTER.lock());
}
