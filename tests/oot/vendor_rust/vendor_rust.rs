//! vendor_rust: an out-of-tree module in Rust, built with rustc and the
//! SDK's `keel` crate alone (build.sh). Only the safe layer: no `unsafe`.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use keel::prelude::*;

struct VendorRust;

impl Module for VendorRust {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let limit = module_parameters::limit.get();
        let primes = Mutex::new(Vec::<u64>::new())?;
        let mut candidate = 2;
        while (primes.lock().len() as u64) < limit {
            let mut found = primes.lock();
            if found.iter().all(|p| candidate % p != 0) {
                found.try_reserve(1)?;
                found.push(candidate);
            }
            candidate += 1;
        }
        let last = primes.lock().last().copied().unwrap_or(0);
        pr_info!("vendor_rust: prime number {} is {}\n", limit, last);
        Ok(VendorRust)
    }
}

impl Drop for VendorRust {
    fn drop(&mut self) {
        pr_info!("vendor_rust: goodbye\n");
    }
}

keel::module! {
    type: VendorRust,
    name: "vendor_rust",
    author: "Example Vendor",
    description: "An out-of-tree driver in Rust",
    license: "MIT",
    version: "2.3",
    params: {
        limit: u64 { default: 5, description: "how many primes to find" },
    },
}
