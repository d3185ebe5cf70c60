#!/usr/bin/env python3
"""Capture what Linux says about QEMU's devices, as goldens for the
device-matching and virtio-pci tests.

  tests/unit/devmatch/capture_linux_goldens.py [OUTPUT]

Boots Debian's cloud kernel (the peer of scripts/bench, scripts/keel/peer.py)
under the QEMU of scripts/run with virtio-blk, -net and -rng devices in
their transitional (QEMU's default on q35's root bus) and modern
(disable-legacy=on) forms and QEMU's edu device, loads virtio_pci from the
kernel's own modules, and records for every PCI function the IDs, its
MODALIAS as the kernel formats it (/sys/bus/pci/devices/*/modalias), its
configuration space and BAR sizes; for every virtio device its MODALIAS
(/sys/bus/virtio/devices/*/modalias); and the alias patterns Linux's
modpost (file2alias) wrote into some of the kernel's modules (their
.modinfo "alias=" strings).

The output is a text file the unit tests read (linux_goldens.txt), so the
goldens are Linux's own bytes. Running this needs the network once (apt
downloads the kernel into ~/.cache/keel); the tests do not.
"""

import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "scripts"))

from keel import peer  # noqa: E402

DISK_SIZE = 1024 * 1024

# (label, QEMU arguments). Labels name the devices in the golden file.
DEVICES = [
    ("virtio-blk-pci", ["-drive", "if=none,id=d0,format=raw,file={disk0}", "-device",
                        "virtio-blk-pci,drive=d0,addr=0x10"]),
    ("virtio-blk-pci,disable-legacy=on", ["-drive", "if=none,id=d1,format=raw,file={disk1}", "-device",
                                          "virtio-blk-pci,drive=d1,disable-legacy=on,addr=0x11"]),
    ("virtio-net-pci", ["-netdev", "user,id=n0,restrict=on", "-device", "virtio-net-pci,netdev=n0,addr=0x12"]),
    ("virtio-net-pci,disable-legacy=on", ["-netdev", "user,id=n1,restrict=on", "-device",
                                          "virtio-net-pci,netdev=n1,disable-legacy=on,addr=0x13"]),
    ("virtio-rng-pci", ["-device", "virtio-rng-pci,addr=0x14"]),
    ("virtio-rng-pci,disable-legacy=on", ["-device", "virtio-rng-pci,disable-legacy=on,addr=0x15"]),
    ("edu", ["-device", "edu,addr=0x16"]),
]
SLOT_LABELS = {0x10 + i: label for i, (label, _) in enumerate(DEVICES)}

# Modules whose alias patterns are recorded, and the bus prefixes kept.
ALIAS_MODULES = ["virtio_blk", "virtio_net", "virtio-rng", "virtio_pci", "virtio_console", "e1000e", "ahci",
                 "i2c-i801", "lpc_ich", "virtio_balloon", "virtio_input", "9pnet_virtio"]
# At most this many aliases of each further kind (device tree, PCI by
# class, PCI by subsystem) are taken from the rest of the modules.
ALIAS_LIMIT = 16

VIRTIO_PCI_MODULES = ["virtio_pci"]


def module_aliases(path):
    with open(path, "rb") as source:
        data = source.read()
    return [match.decode() for match in re.findall(rb"\0alias=([^\0]*)", b"\0" + data)]


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "linux_goldens.txt")
    log = lambda message: print(message, file=sys.stderr)  # noqa: E731
    assets = peer.LinuxAssets.fetch(log)

    files = {}
    load_order = []
    for module in VIRTIO_PCI_MODULES:
        for dependency in assets.module_dependencies(module) + [assets.module_file_name(module)]:
            if dependency not in load_order:
                load_order.append(dependency)
                files[f"/lib/golden/{dependency}.ko"] = assets.module(dependency)

    scratch = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"keel-goldens-{os.getpid()}")
    os.makedirs(scratch, exist_ok=True)
    disks = {}
    for name in ("disk0", "disk1"):
        disks[name] = os.path.join(scratch, name + ".img")
        with open(disks[name], "wb") as disk:
            disk.truncate(DISK_SIZE)
    qemu_args = []
    for _, arguments in DEVICES:
        qemu_args += [argument.format(**disks) for argument in arguments]

    lines = [
        "# What Linux says about QEMU's devices: written by capture_linux_goldens.py, do not edit.",
        f"# kernel {assets.package} {assets.version} ({assets.release})",
        f"# {os.popen('qemu-system-x86_64 --version').read().splitlines()[0]}, -machine q35",
        "# pci SLOT LABEL vendor device subvendor subdevice class revision MODALIAS",
        "# config SLOT HEX (the first 256 bytes of configuration space)",
        "# bars SLOT SIZE0 ... SIZE5 (bytes, from /sys/bus/pci/devices/*/resource)",
        "# virtio SLOT MODALIAS",
        "# alias MODULE PATTERN (the module's .modinfo, written by modpost)",
    ]
    with peer.LinuxGuest(assets, files) as guest:
        guest.start(devices=qemu_args)
        for module in load_order:
            guest.run(f"insmod /lib/golden/{module}.ko")
        listing = guest.run("ls /sys/bus/pci/devices").split()
        for name in sorted(listing):
            base = f"/sys/bus/pci/devices/{name}"
            fields = guest.run(f"cat {base}/vendor {base}/device {base}/subsystem_vendor "
                               f"{base}/subsystem_device {base}/class {base}/revision {base}/modalias").split()
            vendor, device, subvendor, subdevice, klass, revision, modalias = fields
            slot = int(name.split(":")[2].split(".")[0], 16)
            label = SLOT_LABELS.get(slot, "q35")
            lines.append(f"pci {name} {label} {vendor[2:]} {device[2:]} {subvendor[2:]} {subdevice[2:]} "
                         f"{klass[2:]} {revision[2:]} {modalias}")
            config = "".join(guest.run(f"od -An -v -tx1 -N256 {base}/config").split())
            if len(config) != 512:
                raise peer.PeerError(f"{name}: {len(config) // 2} bytes of configuration space")
            lines.append(f"config {name} {config}")
            sizes = []
            for row in guest.run(f"cat {base}/resource").splitlines()[:6]:
                start, end, flags = (int(value, 16) for value in row.split())
                sizes.append(0 if end == 0 else end - start + 1)
            lines.append(f"bars {name} " + " ".join(str(size) for size in sizes))
        for name in sorted(guest.run("ls /sys/bus/virtio/devices").split()):
            parent = guest.run(f"readlink /sys/bus/virtio/devices/{name}").strip().split("/")[-2]
            modalias = guest.run(f"cat /sys/bus/virtio/devices/{name}/modalias").strip()
            lines.append(f"virtio {parent} {modalias}")

    for module in ALIAS_MODULES:
        try:
            path = assets.module(module)
        except peer.PeerError:
            continue  # not built for the cloud kernel
        for alias in module_aliases(path):
            lines.append(f"alias {module} {alias}")
    # Every module of the package, unpacked once.
    tree = os.path.join(scratch, "package")
    os.makedirs(tree, exist_ok=True)
    subprocess.run(f"dpkg-deb --fsys-tarfile {assets.kernel_dir}/package.deb | tar -x -C {tree} ./lib/modules",
                   shell=True, check=True)
    # Device-tree aliases, and PCI aliases with a class or a subsystem,
    # from every module of the package.
    kinds = {
        "of": lambda alias: alias.startswith("of:"),
        "pci-class": lambda alias: re.match(r"pci:v.*bc[0-9A-F]", alias) is not None,
        "pci-subsystem": lambda alias: re.match(r"pci:v[0-9A-F]{8}d[0-9A-F]{8}sv[0-9A-F]", alias) is not None,
    }
    counts = {kind: 0 for kind in kinds}
    for directory, _, names in sorted(os.walk(tree)):
        for name in sorted(names):
            if not name.endswith(".ko"):
                continue
            for alias in module_aliases(os.path.join(directory, name)):
                for kind, wanted in kinds.items():
                    if counts[kind] < ALIAS_LIMIT and wanted(alias):
                        lines.append(f"alias {name[:-3]} {alias}")
                        counts[kind] += 1
    shutil.rmtree(scratch, ignore_errors=True)

    with open(output, "w") as out:
        out.write("\n".join(lines) + "\n")
    print(f"wrote {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
