//! vendor_rust: an out-of-tree module in Rust, built with rustc and the
//! SDK's `keel` crate alone (build.sh). Only the safe layer: no `unsafe`.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;

keel::module! {
    name: "vendor_rust",
    license: "MIT",
    author: "Example Vendor",
    description: "An out-of-tree driver in Rust",
    version: "2.3",
}
keel::module_param!(limit: uint = 5, "how many primes to find");
keel::module_init!(init);
keel::module_exit!(exit);
keel::global_allocator!();
keel::panic_handler!();

fn init() -> keel::Result<()> {
    let primes = keel::Mutex::new(Vec::<u64>::new())?;
    let mut candidate = 2;
    while (primes.lock().len() as u64) < limit.get() {
        if primes.lock().iter().all(|p| candidate % p != 0) {
            primes.lock().push(candidate);
        }
        candidate += 1;
    }
    let last = primes.lock().last().copied().unwrap_or(0);
    keel::pr_info!("vendor_rust: prime number {} is {}\n", limit.get(), last);
    Ok(())
}

fn exit() {
    keel::pr_info!("vendor_rust: goodbye\n");
}
