#!/bin/sh
# vendor_rust: built with rustc from the Keel SDK alone; pkg-config keel-sdk
# names the compiler, the flags and the tools. The SDK ships the keel_sys
# and keel crates as sources (an .rlib only works with the rustc that built
# it): build them, then vendor_c's interface as the crate vendor_c
# (keel-abi rust-sys, from vendor_c's acme_blocks.toml), then the module as
# a cdylib linked against the stub libkeel.so and vendor_c.kmod; kmodpost
# records the hash of every import; KEY=vendor.pem signs; RUSTC=... picks
# another rustc (for aarch64, one that keel-rust-sysroot built core for).
# The pkg-config variables are lists of rustc flags, split into words on
# purpose (unquoted), as a Makefile would:
# shellcheck disable=SC2086,SC2046
set -eu
SDK="pkg-config keel-sdk"
RUSTC=${RUSTC:-$($SDK --variable=rustc)}
RUST=$($SDK --variable=rustdir)
FLAGS=$($SDK --variable=rustflags)
EXPORTER=${EXPORTER:-../vendor_c}
mkdir -p crates
$RUSTC $FLAGS --crate-type rlib --crate-name keel_sys "$RUST/keel_sys.rs" -o crates/libkeel_sys.rlib
$RUSTC $FLAGS --crate-type rlib --crate-name keel --extern keel_sys=crates/libkeel_sys.rlib \
    "$RUST/keel/lib.rs" -o crates/libkeel.rlib
"$($SDK --variable=keel_abi)" rust-sys --description "$EXPORTER/acme_blocks.toml" --output crates/vendor_c.rs
$RUSTC $FLAGS --crate-type rlib --crate-name vendor_c crates/vendor_c.rs -o crates/libvendor_c.rlib
$RUSTC $FLAGS $($SDK --variable=rustlinkflags) -D warnings \
    --crate-type cdylib --crate-name vendor_rust -L crates \
    --extern keel=crates/libkeel.rlib --extern keel_sys=crates/libkeel_sys.rlib \
    --extern vendor_c=crates/libvendor_c.rlib -C link-arg="$EXPORTER/vendor_c.kmod" \
    vendor_rust.rs -o vendor_rust.linked
"$($SDK --variable=kmodpost)" --symvers "$($SDK --variable=symvers)" --symvers "$EXPORTER/vendor_c.symvers" \
    -o vendor_rust.kmod vendor_rust.linked
if [ -n "${KEY:-}" ]; then
    "$($SDK --variable=kmod_sign)" sign "$KEY" vendor_rust.kmod
fi
