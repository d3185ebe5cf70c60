#!/bin/sh
# vendor_rust: built with rustc from the Keel SDK alone. The SDK ships the
# keel_sys and keel crates as sources (rlibs are tied to one rustc version):
# build them, then the module as a cdylib linked against the stub
# libkeel.so; kmodpost records the import hashes; KEY=vendor.pem signs.
set -eu
RUST=$(pkg-config --variable=rustdir keel-sdk)
FLAGS=$(pkg-config --variable=rustflags keel-sdk)
mkdir -p crates
# The pkg-config variables are lists of rustc flags: they are split into
# words on purpose (unquoted), as a Makefile would.
# shellcheck disable=SC2086
rustc $FLAGS --crate-type rlib --crate-name keel_sys "$RUST/keel_sys.rs" -o crates/libkeel_sys.rlib
# shellcheck disable=SC2086
rustc $FLAGS --crate-type rlib --crate-name keel --extern keel_sys=crates/libkeel_sys.rlib \
    "$RUST/keel/lib.rs" -o crates/libkeel.rlib
# shellcheck disable=SC2086,SC2046
rustc $FLAGS $(pkg-config --variable=rustlinkflags keel-sdk) -D warnings \
    --crate-type cdylib --crate-name vendor_rust -L crates \
    --extern keel=crates/libkeel.rlib --extern keel_sys=crates/libkeel_sys.rlib \
    vendor_rust.rs -o vendor_rust.linked
"$(pkg-config --variable=kmodpost keel-sdk)" --symvers "$(pkg-config --variable=symvers keel-sdk)" \
    -o vendor_rust.kmod vendor_rust.linked
if [ -n "${KEY:-}" ]; then
    "$(pkg-config --variable=kmod_sign keel-sdk)" sign "$KEY" vendor_rust.kmod
fi
