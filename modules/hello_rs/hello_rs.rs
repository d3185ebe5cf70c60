//! hello_rs: a module in Rust, written against the safe `keel` crate only
//! (no `unsafe` here): a parameter, a heap allocation, a mutex.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;

keel::module! {
    name: "hello_rs",
    license: "MIT",
    author: "The Keel developers",
    description: "Says hello, in Rust",
    version: "1.0",
}
keel::modinfo!("intree", "Y");
keel::module_param!(count: uint = 3, "how many squares to add up");
keel::module_init!(init);
keel::module_exit!(exit);
keel::global_allocator!();
keel::panic_handler!();

fn init() -> keel::Result<()> {
    let squares = keel::Mutex::new(Vec::<u64>::new())?;
    for n in 1..=count.get() {
        squares.lock().push(n * n);
    }
    let sum: u64 = squares.lock().iter().sum();
    keel::pr_info!("hello from Rust: the first {} squares add up to {}\n", count.get(), sum);
    Ok(())
}

fn exit() {
    keel::pr_info!("goodbye from Rust\n");
}
