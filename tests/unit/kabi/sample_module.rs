//! A Rust module through the safe `keel` crate, built as a `no_std`
//! cdylib against the stub libkeel.so (never loaded here).
#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use keel::prelude::*;

static COUNTER: SpinLock<u32> = SpinLock::new(0);

struct Sample {
    done: Arc<Completion>,
}

impl Module for Sample {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let mutex = Mutex::new(Vec::<u64>::new())?;
        mutex.lock().push(keel::time::monotonic_ns());
        *COUNTER.lock() += 1;
        let done = Arc::new(Completion::new()?);
        let signal = done.clone();
        let worker = Thread::spawn(c"sample_rs", move || {
            signal.complete();
            7
        })?;
        done.wait();
        let code = worker.join();
        pr_info!(
            "{}: hello from Rust, {} time(s), verbose {}, thread {}\n",
            module.name(),
            module_parameters::repeat.get(),
            module_parameters::verbose.get(),
            code
        );
        Ok(Sample { done })
    }
}

impl Drop for Sample {
    fn drop(&mut self) {
        self.done.wait();
        pr_info!("goodbye after {} init(s)\n", *COUNTER.lock());
    }
}

keel::module! {
    type: Sample,
    name: "sample_rs",
    author: "The Keel authors",
    description: "ABI test module",
    license: "MIT",
    params: {
        repeat: i64 { default: 1, description: "how many greetings" },
        verbose: bool { default: false, description: "log more" },
    },
}
