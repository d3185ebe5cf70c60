//! Module parameters: `params: { ... }` in `module!` stores each one in an
//! exported `keel_param_NAME` (which the loader writes before init runs)
//! and describes it in a "parm" note. Module code reads them through
//! `module_parameters::NAME.get()`.

use core::cell::UnsafeCell;
use core::ptr;

/// The types a parameter can have, and their modinfo names.
pub trait ParamType: Copy {
    /// "bool", "int" or "uint", as `insmod` and `modinfo` spell them.
    const NAME: &'static str;
}

impl ParamType for bool {
    const NAME: &'static str = "bool";
}
impl ParamType for i64 {
    const NAME: &'static str = "int";
}
impl ParamType for u64 {
    const NAME: &'static str = "uint";
}

/// A parameter's storage. Only the loader writes it, before the module's
/// init runs; the module only reads it.
#[repr(transparent)]
pub struct Param<T: ParamType>(UnsafeCell<T>);

// SAFETY: the only write happens before any module code runs; afterwards
// every access is a read.
unsafe impl<T: ParamType> Sync for Param<T> {}

impl<T: ParamType> Param<T> {
    pub const fn new(value: T) -> Self {
        Param(UnsafeCell::new(value))
    }

    /// The value given to insmod, or the default.
    pub fn get(&self) -> T {
        // SAFETY: the cell is valid for reads; a volatile read keeps the
        // compiler from folding in the default value the loader replaced.
        unsafe { ptr::read_volatile(self.0.get()) }
    }
}

/// The modinfo type name of a parameter's Rust type, as a literal for
/// concat!.
#[doc(hidden)]
#[macro_export]
macro_rules! __param_type_name {
    (bool) => {
        "bool"
    };
    (i64) => {
        "int"
    };
    (u64) => {
        "uint"
    };
}

/// The `params: { ... }` part of `module!`: one exported static and one
/// "parm" note per parameter.
#[doc(hidden)]
#[macro_export]
macro_rules! __module_params {
    ($($name:ident: $type:ident { default: $default:expr, description: $description:literal $(,)? }),* $(,)?) => {
        /// The module's parameters, as insmod set them.
        #[allow(non_upper_case_globals)]
        pub mod module_parameters {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[unsafe(export_name = concat!("keel_param_", stringify!($name)))]
                pub static $name: $crate::params::Param<$type> = $crate::params::Param::new($default);
            )*
        }
        $(
            $crate::__modinfo_note!(concat!(
                "parm=", stringify!($name), ":", $crate::__param_type_name!($type), ":", $description, "\0"
            ));
        )*
    };
}
