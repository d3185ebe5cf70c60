# Shared by scripts/*: install what is missing, configure and build.
# Sourced, not run.
# shellcheck shell=bash

KEEL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEL_BUILD=${KEEL_BUILD:-$KEEL_ROOT/build}

# Debian packages the build, the tests and the tools need.
KEEL_PACKAGES=(
  clang lld llvm meson ninja-build python3 qemu-system-x86 catch2
  libssl-dev libclang-rt-14-dev clang-format openssl cpio pkg-config gdb
  gzip zstd zlib1g-dev libzstd-dev e2fsprogs
  clang-tidy shellcheck flake8
)

# Rust: the machine's rustup toolchain when there is one (rustfmt and clippy
# added as its components, keel_install_rust_components), else Debian's.
[ -d "$HOME/.cargo/bin" ] && PATH="$HOME/.cargo/bin:$PATH"
command -v rustc >/dev/null 2>&1 || KEEL_PACKAGES+=(rustc)
command -v rustup >/dev/null 2>&1 || KEEL_PACKAGES+=(rustfmt rust-clippy)
export PATH

keel_install_packages() {
  local missing=()
  local package
  for package in "${KEEL_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "keel: installing ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

keel_install_rust_components() {
  command -v rustup >/dev/null 2>&1 || return 0
  local installed component
  installed=$(rustup component list --installed 2>/dev/null)
  for component in rustfmt clippy; do
    grep -q "^$component-" <<<"$installed" && continue
    echo "keel: adding the rustup component $component" >&2
    rustup component add "$component" >&2 || return 1
  done
}

keel_build() {
  keel_install_packages || { echo "keel: package installation failed" >&2; return 1; }
  keel_install_rust_components || { echo "keel: rustup component installation failed" >&2; return 1; }
  if [ ! -f "$KEEL_BUILD/build.ninja" ]; then
    meson setup "$KEEL_BUILD" "$KEEL_ROOT" \
      --cross-file "$KEEL_ROOT/arch/x86_64/cross.ini" \
      --native-file "$KEEL_ROOT/scripts/native.ini" >&2 || return 1
  fi
  ninja -C "$KEEL_BUILD" >&2
}
