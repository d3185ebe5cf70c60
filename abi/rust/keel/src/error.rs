//! Errors: the errno vocabulary of the ABI description (abi/keel.toml), as
//! a type that can only hold a valid errno.
//!
//! `Error::EINVAL` and its siblings are generated from the same table as
//! the kernel's `keel::Error` and C's `KEEL_EINVAL` (through
//! `keel_sys::keel_errno_table!`), so the numbers cannot drift apart.

use core::fmt;
use core::num::NonZeroI32;

/// Linux's MAX_ERRNO: the ABI's error returns are -MAX_ERRNO..=-1.
const MAX_ERRNO: i32 = 4095;

/// An errno-style error. Invariant: it holds a negative errno in
/// -4095..=-1, as the ABI returns it; every constructor keeps it so, turning
/// anything else into `EINVAL`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Error(NonZeroI32);

/// `Result<T>` with this crate's `Error`; `Result` alone is `Result<()>`.
pub type Result<T = (), E = Error> = core::result::Result<T, E>;

impl Error {
    /// From a negative errno as the ABI returns it (-22 for EINVAL). A value
    /// outside -4095..=-1 is a broken promise and becomes `EINVAL`.
    pub const fn from_errno(errno: i32) -> Error {
        if errno < -MAX_ERRNO || errno > -1 {
            return Error::EINVAL;
        }
        match NonZeroI32::new(errno) {
            Some(value) => Error(value),
            None => Error::EINVAL,
        }
    }

    /// For the constants below: a positive number from the table.
    const fn from_table(number: i32) -> Error {
        assert!(number >= 1 && number <= MAX_ERRNO);
        match NonZeroI32::new(-number) {
            Some(value) => Error(value),
            None => panic!("errno 0"),
        }
    }

    /// The negative errno, as the ABI returns it (-22 for EINVAL).
    pub const fn to_errno(self) -> i32 {
        self.0.get()
    }

    /// The positive errno number (22 for EINVAL).
    pub const fn number(self) -> i32 {
        -self.0.get()
    }
}

macro_rules! declare_errors {
    ($(($name:ident, $number:literal, $description:literal)),* $(,)?) => {
        impl Error {
            $(
                #[doc = concat!($description, " (", stringify!($number), ").")]
                pub const $name: Error = Error::from_table($number);
            )*

            /// Linux's name: `"EINVAL"`; `None` for a number the table does
            /// not name (a newer core may return errnos this SDK lacks).
            pub fn name(self) -> Option<&'static str> {
                match self.number() {
                    $($number => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// The one-line description: `"Invalid argument"`.
            pub fn description(self) -> Option<&'static str> {
                match self.number() {
                    $($number => Some($description),)*
                    _ => None,
                }
            }
        }
    };
}

keel_sys::keel_errno_table!(declare_errors);

// The invariant, checked when the crate is compiled.
const _: () = {
    assert!(Error::from_errno(-22).to_errno() == Error::EINVAL.to_errno());
    assert!(Error::from_errno(-2).number() == 2);
    assert!(Error::from_errno(0).to_errno() == -22);
    assert!(Error::from_errno(5).to_errno() == -22);
    assert!(Error::from_errno(-4096).to_errno() == -22);
    assert!(Error::from_errno(-4095).number() == 4095);
    assert!(Error::ENOMEM.to_errno() == -keel_sys::KEEL_ENOMEM);
    assert!(core::mem::size_of::<Result>() == 4);
};

/// Maps the ABI's return convention to a `Result`: 0 (or a positive count)
/// is success, a negative value is an error.
pub fn to_result(code: i32) -> Result {
    if code < 0 {
        Err(Error::from_errno(code))
    } else {
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => formatter.write_str(name),
            None => write!(formatter, "Error({})", self.to_errno()),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self.description()) {
            (Some(name), Some(description)) => write!(formatter, "{} ({})", description, name),
            _ => write!(formatter, "error {}", self.to_errno()),
        }
    }
}

impl From<alloc::collections::TryReserveError> for Error {
    fn from(_: alloc::collections::TryReserveError) -> Error {
        Error::ENOMEM
    }
}
