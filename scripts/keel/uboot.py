"""The project's U-Boot for QEMU virt (docs/aarch64.md, "The project's U-Boot").

Built from Debian's `u-boot` source package, the version of the installed
`u-boot-qemu` (so both U-Boots come from the same sources), configured as
`qemu_arm64_defconfig` plus arch/aarch64/uboot/keel_defconfig.fragment, and
cached outside the tree under a key of its inputs: the source version, the
fragment, the base configuration, the cross compiler's version and this
recipe's. The result is U-Boot without its device tree
(`u-boot-nodtb.bin`); firmware() appends the control tree of the machine
about to start, which holds the boot key and the kernel's command line.
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FRAGMENT = os.path.join(ROOT, "arch", "aarch64", "uboot", "keel_defconfig.fragment")
BASE_CONFIG = "qemu_arm64_defconfig"
CROSS_COMPILE = "aarch64-linux-gnu-"
CROSS_PACKAGE = "gcc-aarch64-linux-gnu"
BINARY_PACKAGE = "u-boot-qemu"  # Debian's build of the same source: its version is the source's
# Bump when the way the binary is made changes (not its inputs).
RECIPE = "2"
# apt's list of Debian's source packages, which `apt-get source` needs.
DEB_SRC_LIST = "/etc/apt/sources.list.d/keel-deb-src.sources"
DEB_SRC = """# Added by Keel's scripts/build-uboot.py: Debian's source packages, for
# `apt-get source u-boot` (docs/aarch64.md, "The project's U-Boot").
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
# Where U-Boot looks for its appended device tree: after its image, which
# the linker ends on an 8-byte boundary (libfdt wants the tree aligned so).
DTB_ALIGN = 8


class NotBuilt(RuntimeError):
    pass


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "keel", "u-boot")


def package_version(package, field="Version"):
    """An installed package's version, or None."""
    result = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Status} ${" + field + "}", package],
                            capture_output=True, text=True)
    if result.returncode != 0 or not result.stdout.startswith("installed "):
        return None
    return result.stdout.split(" ", 1)[1].strip() or None


def inputs():
    """What the build depends on, or NotBuilt naming what is missing."""
    source = package_version(BINARY_PACKAGE, "source:Version")
    compiler = package_version(CROSS_PACKAGE)
    if source is None or compiler is None:
        missing = BINARY_PACKAGE if source is None else CROSS_PACKAGE
        raise NotBuilt(f"{missing} is not installed (scripts/build installs it)")
    with open(FRAGMENT, "rb") as handle:
        fragment = handle.read()
    return {"source": f"u-boot {source}", "base": BASE_CONFIG, "compiler": f"{CROSS_PACKAGE} {compiler}",
            "recipe": RECIPE, "fragment": hashlib.sha256(fragment).hexdigest()}


def key(values):
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def binary_dir(values=None):
    return os.path.join(cache_root(), "built", key(values or inputs()))


def built():
    """The cached U-Boot (without its tree) for the current inputs; NotBuilt when there is none."""
    path = os.path.join(binary_dir(), "u-boot-nodtb.bin")
    if not os.path.exists(path):
        raise NotBuilt(f"the project's U-Boot is not built for these inputs ({path}): scripts/build-uboot.py "
                       "(KEEL_ARCH=aarch64 scripts/build runs it)")
    return path


def available():
    try:
        built()
        return True
    except NotBuilt:
        return False


def parse_config(path):
    """CONFIG_X -> its value, "n" for `# CONFIG_X is not set`."""
    values = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("CONFIG_") and "=" in line:
                name, value = line.split("=", 1)
                values[name] = value
            elif line.startswith("# CONFIG_") and line.endswith(" is not set"):
                values[line[2:-len(" is not set")]] = "n"
    return values


def config_mismatches(config, fragment=FRAGMENT):
    """The fragment's settings the final configuration does not have (Kconfig
    drops what a dependency forbids): [(name, wanted, got)]."""
    have = parse_config(config)
    return [(name, value, have.get(name, "n")) for name, value in parse_config(fragment).items()
            if have.get(name, "n") != value]


def run(command, **kwargs):
    print("build-uboot: " + " ".join(command), file=sys.stderr)
    subprocess.run(command, check=True, **kwargs)


def sudo():
    return [] if os.geteuid() == 0 else ["sudo"]


def ensure_deb_src():
    """Debian's source list, once: apt-get source needs it."""
    if os.path.exists(DEB_SRC_LIST):
        return
    run(sudo() + ["tee", DEB_SRC_LIST], input=DEB_SRC.encode(), stdout=subprocess.DEVNULL)
    run(sudo() + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update", "-qq"])


def ensure_source(version):
    """Debian's u-boot source, unpacked with its patches, in the cache."""
    source = os.path.join(cache_root(), "source", version)
    if os.path.exists(os.path.join(source, ".keel-unpacked")):
        return source
    ensure_deb_src()
    shutil.rmtree(source, ignore_errors=True)
    # dpkg-source puts the upstream tarball beside the tree it unpacks.
    os.makedirs(os.path.dirname(source), exist_ok=True)
    download = tempfile.mkdtemp(prefix="download-", dir=cache_root())
    try:
        run(["apt-get", "source", "-qq", "--download-only", f"u-boot={version}"], cwd=download)
        dsc = [name for name in os.listdir(download) if name.endswith(".dsc")]
        if len(dsc) != 1:
            raise RuntimeError(f"apt-get source u-boot={version}: no single .dsc in {download}")
        run(["dpkg-source", "--no-check", "-x", dsc[0], source], cwd=download, stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(download, ignore_errors=True)
    open(os.path.join(source, ".keel-unpacked"), "w").close()
    return source


def build(jobs=None):
    """Build the project's U-Boot unless the cache has it; its path. One
    build at a time per cache (other checkouts on the machine share it)."""
    values = inputs()
    destination = binary_dir(values)
    binary = os.path.join(destination, "u-boot-nodtb.bin")
    if os.path.exists(binary):
        return binary
    os.makedirs(cache_root(), exist_ok=True)
    with open(os.path.join(cache_root(), ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(binary):
            return binary
        return build_locked(values, destination, binary, jobs)


def build_locked(values, destination, binary, jobs):
    source = ensure_source(values["source"].split(" ", 1)[1])
    output = os.path.join(cache_root(), "work", key(values))
    shutil.rmtree(output, ignore_errors=True)
    os.makedirs(output)
    make = ["make", "-s", f"O={output}", f"CROSS_COMPILE={CROSS_COMPILE}"]
    started = time.monotonic()
    # The banner's date is the source's (debian/changelog), not the build's.
    epoch = subprocess.run(["dpkg-parsechangelog", "-S", "Timestamp"], cwd=source, check=True, capture_output=True,
                           text=True).stdout.strip()
    environment = dict(os.environ, SOURCE_DATE_EPOCH=epoch)
    run(make + [BASE_CONFIG], cwd=source, env=environment)
    run([os.path.join(source, "scripts", "kconfig", "merge_config.sh"), "-O", output, "-m",
         os.path.join(output, ".config"), FRAGMENT], cwd=source, stdout=subprocess.DEVNULL, env=environment)
    run(make + ["olddefconfig"], cwd=source, env=environment)
    mismatches = config_mismatches(os.path.join(output, ".config"))
    if mismatches:
        raise RuntimeError("the configuration lost settings of " + FRAGMENT + ": " +
                           ", ".join(f"{name} (wanted {want}, got {got})" for name, want, got in mismatches))
    # u-boot-nodtb.bin, not `all`: the tree is appended per machine
    # (firmware()), and `all` stops on the board's advice to take QEMU's tree.
    run(make + [f"-j{jobs or os.cpu_count() or 1}", "u-boot-nodtb.bin"], cwd=source, env=environment)
    seconds = time.monotonic() - started
    staging = tempfile.mkdtemp(prefix="staging-", dir=cache_root())
    os.chmod(staging, 0o755)
    shutil.copy(os.path.join(output, "u-boot-nodtb.bin"), staging)
    shutil.copy(os.path.join(output, ".config"), os.path.join(staging, "config"))
    with open(os.path.join(staging, "inputs.json"), "w") as handle:
        json.dump(dict(values, build_seconds=round(seconds, 1), jobs=jobs or os.cpu_count()), handle, indent=1)
    os.makedirs(os.path.dirname(destination), exist_ok=True)
    shutil.rmtree(destination, ignore_errors=True)
    os.rename(staging, destination)
    shutil.rmtree(output, ignore_errors=True)
    print(f"build-uboot: built in {seconds:.0f} s: {binary}", file=sys.stderr)
    return binary


def firmware(nodtb, dtb, output):
    """U-Boot with `dtb` appended as its own control tree, at `output`."""
    with open(nodtb, "rb") as handle:
        image = handle.read()
    if len(image) % DTB_ALIGN:
        raise RuntimeError(f"{nodtb}: {len(image)} bytes, not a multiple of {DTB_ALIGN}: the tree would be misaligned")
    with open(dtb, "rb") as handle:
        tree = handle.read()
    with open(output, "wb") as handle:
        handle.write(image + tree)
    return output
