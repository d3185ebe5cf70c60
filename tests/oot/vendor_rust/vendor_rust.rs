//! vendor_rust: an out-of-tree module in Rust, built with rustc and the
//! SDK's `keel` crate alone (build.sh). It calls acme_blocks_sum, which
//! vendor_c exports (the crate `vendor_c` is generated from vendor_c's
//! interface description); everything else uses only the safe layer.
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
        // SAFETY: acme_blocks_sum takes a count and only reads vendor_c's
        // table, which lives while vendor_c is loaded: this module needs it
        // (DT_NEEDED), so vendor_c cannot be unloaded first.
        let sum = unsafe { vendor_c::acme_blocks_sum(3) };
        pr_info!("vendor_rust: vendor_c's first 3 blocks sum to {}\n", sum);
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
