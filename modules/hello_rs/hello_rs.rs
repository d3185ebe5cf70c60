//! hello_rs: a module in Rust, written against the safe `keel` crate only
//! (no `unsafe` here): a parameter, a heap allocation, a mutex that owns
//! its data, and `Drop` as the exit.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use keel::prelude::*;

struct HelloRs;

impl Module for HelloRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let count = module_parameters::count.get();
        let squares = Mutex::new(Vec::<u64>::new())?;
        squares.lock().try_reserve(usize::try_from(count).map_err(|_| Error::EINVAL)?)?;
        for n in 1..=count {
            squares.lock().push(n * n);
        }
        let sum: u64 = squares.lock().iter().sum();
        pr_info!("hello from Rust: the first {} squares add up to {}\n", count, sum);
        Ok(HelloRs)
    }
}

impl Drop for HelloRs {
    fn drop(&mut self) {
        pr_info!("goodbye from Rust\n");
    }
}

keel::module! {
    type: HelloRs,
    name: "hello_rs",
    author: "The Keel developers",
    description: "Says hello, in Rust",
    license: "MIT",
    version: "1.0",
    params: {
        count: u64 { default: 3, description: "how many squares to add up" },
    },
}
