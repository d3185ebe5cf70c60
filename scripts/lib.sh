# Shared by scripts/*: install what is missing, configure and build.
# Sourced, not run.
# shellcheck shell=bash

KEEL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The architecture scripts build and boot (scripts/run --arch ARCH sets it),
# and its build directory: build/ for x86_64, build-ARCH/ for the others.
KEEL_ARCH=${KEEL_ARCH:-x86_64}
keel_build_dir() {
  if [ "$1" = x86_64 ]; then echo "$KEEL_ROOT/build"; else echo "$KEEL_ROOT/build-$1"; fi
}
KEEL_BUILD=${KEEL_BUILD:-$(keel_build_dir "$KEEL_ARCH")}

# Debian packages the build, the tests and the tools need.
KEEL_PACKAGES=(
  clang lld llvm meson ninja-build python3 qemu-system-x86 catch2
  libssl-dev libclang-rt-14-dev clang-format openssl cpio pkg-config gdb fdisk
  gzip zstd zlib1g-dev libzstd-dev e2fsprogs tshark curl
  clang-tidy shellcheck flake8
  qemu-system-arm device-tree-compiler u-boot-tools u-boot-qemu
  # The project's U-Boot, built from Debian's source (scripts/build-uboot.py).
  gcc libc6-dev gcc-aarch64-linux-gnu make bison flex bc dpkg-dev xz-utils
)

# Rust: the machine's rustup toolchain when there is one (rustfmt and clippy
# added as its components, keel_install_rust_components), else Debian's
# rustc-web (/usr/bin/rustc) with its rustfmt and clippy. rustc-web with its
# sources (rust-web-src) also builds the aarch64 modules' core and alloc
# (docs/aarch64.md), so it is installed either way.
[ -d "$HOME/.cargo/bin" ] && PATH="$HOME/.cargo/bin:$PATH"
KEEL_PACKAGES+=(rustc-web rust-web-src)
command -v rustup >/dev/null 2>&1 || KEEL_PACKAGES+=(rustfmt-web rust-web-clippy)
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

# keel_build [ARCH [BUILD_DIR]]: configure once and build (default: the
# architecture and build directory above). Another architecture's build
# leaves the host-side tests to the x86_64 one (-Dhost_tests=false).
keel_build() {
  local arch=${1:-$KEEL_ARCH}
  local build=${2:-$KEEL_BUILD}
  keel_install_packages || { echo "keel: package installation failed" >&2; return 1; }
  keel_install_rust_components || { echo "keel: rustup component installation failed" >&2; return 1; }
  if [ ! -f "$build/build.ninja" ]; then
    local options=()
    [ "$arch" != x86_64 ] && options=(-Dhost_tests=false)
    meson setup "$build" "$KEEL_ROOT" \
      --cross-file "$KEEL_ROOT/arch/$arch/cross.ini" \
      --native-file "$KEEL_ROOT/scripts/native.ini" \
      -Darch="$arch" "${options[@]}" >&2 || return 1
  fi
  ninja -C "$build" >&2 || return 1
  # The project's U-Boot (docs/aarch64.md): built once, then cached by its
  # inputs outside the tree.
  if [ "$arch" = aarch64 ]; then
    python3 "$KEEL_ROOT/scripts/build-uboot.py" >/dev/null || return 1
  fi
}
