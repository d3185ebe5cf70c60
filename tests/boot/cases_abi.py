"""ABI compatibility on a booted core (tests/abi/, docs/abi-policy.md):
modules built against every released node's SDK load and work; modules
needing a node this core lacks, or built against a deliberately broken SDK,
are refused with the message naming the symbol and node; the
keel_add_taint shim gives 1.0 binaries the 1.0 behaviour. kmodinfo
--check-against predicted every verdict (tests/abi/test_compat.py); this
confirms them."""

import json
import os
import re
import subprocess

from harness import ALL_ARCHES, BUILD, boot, case, check
from cases_devices import wait_log
from cases_modules import insmod, lsmod_names, refused

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ABI_INITRAMFS = os.path.join(BUILD, "tests", "abi", "abi-initramfs.cpio")
ABI_MANIFEST = os.path.join(BUILD, "tests", "abi", "abi-manifest.json")


@case(arches=ALL_ARCHES)
def abi_modules_on_current_core():
    with open(ABI_MANIFEST) as f:
        modules = json.load(f)["modules"]
    with boot("panic=-1", initrd=ABI_INITRAMFS) as vm:
        before = lsmod_names(vm)  # early modules the boot loaded
        for file, spec in sorted(modules.items()):
            path = f"/lib/abi/{file}"
            if spec["expect"] == "refused":
                refused(vm, path, *spec["words"])
                continue
            out = insmod(vm, path)
            name = file.split("-")[0].removesuffix(".kmod")
            check(f"{name}: loaded" in out, f"{file} (built against the {spec['sdk']} SDK) did not load: {out}", vm)
            for word in spec["words"]:
                check(word in out, f"{file}: '{word}' not in {out}", vm)
            if name == "abi_probe":
                # The shim: 1.0 binaries keep keel_add_taint@KABI_CORE_1.0's
                # contract (0 on every success); later ones see "already set".
                taint = re.search(r"taint=(-?\d+),(-?\d+)", out)
                check(taint, f"{file}: no taint result: {out}", vm)
                expected_second = "0" if spec["sdk"] == "KABI_CORE_1.0" else "1"
                check(taint.group(1) in ("0", "1") and taint.group(2) == expected_second,
                      f"{file}: keel_add_taint twice gave {taint.group(0)}, want second {expected_second}", vm)
            out = vm.command_output(f"rmmod {name}")
            check(f"{name}: unloaded" in out, f"rmmod {name}: {out}", vm)
            # Dependencies insmod loaded on the way (vendor_rust needs vendor_c).
            for left in sorted(set(lsmod_names(vm)) - set(before)):
                out = vm.command_output(f"rmmod {left}")
                check(f"{left}: unloaded" in out, f"rmmod {left}: {out}", vm)
        check(lsmod_names(vm) == before, "modules left behind", vm)


@case(arches=ALL_ARCHES)
def abi_virtio_1_0_driver_binds_on_current_core():
    """virtio_rng built against an SDK whose virtio interface stops at
    KABI_VIRTIO_1.0 (tests/abi/build_abi_modules.py): its imports name no
    1.1 symbol (keel_virtio_negotiate@KABI_VIRTIO_1.0, the compatibility
    entry), and on this core, whose virtio bus has configuration callbacks
    and indirect descriptors (KABI_VIRTIO_1.1), it binds a virtio-rng-pci
    device and feeds the pool as the in-tree one does."""
    with open(ABI_MANIFEST) as f:
        manifest = json.load(f)
    module = os.path.join(manifest["modules_dir"], "virtio_rng-virtio-1.0.kmod")
    symbols = subprocess.run(["readelf", "--dyn-syms", "-W", module], capture_output=True, text=True).stdout
    check("keel_virtio_negotiate@KABI_VIRTIO_1.0" in symbols, f"{module}: no 1.0 import:\n{symbols}")
    check("KABI_VIRTIO_1.1" not in symbols and "KABI_NET" not in symbols, f"{module}: imports a newer node")
    with boot("panic=-1", initrd=ABI_INITRAMFS, devices=["virtio-rng-pci"]) as vm:
        device = wait_log(vm, r"virtio_rng: bound to (virtio\d+)").group(1)
        out = vm.command_output("rmmod virtio_rng")
        check("virtio_rng: unloaded" in out, f"rmmod virtio_rng: {out}", vm)
        out = insmod(vm, "/lib/abi/virtio_rng-virtio-1.0.kmod")
        check("virtio_rng: loaded" in out, f"insmod: {out}", vm)
        wait_log(vm, r"(virtio_rng: bound to %s\n[\s\S]*){2}" % device)
        wait_log(vm, r"(virtio_rng: \S+: feeding the entropy pool[\s\S]*){2}")


@case
def abi_pci_1_0_driver_binds_on_current_core():
    """tests/modules/edu_test.c built against the released KABI_PCI_1.0
    (abi/baseline/KABI_PCI_1.0.toml, with KABI_DEVICE_1.0; the suite's
    edu_test-pci-1.0.kmod): its imports name only released nodes, and on
    this core it binds QEMU's edu device and works (the factorial, a DMA
    round trip, MSI interrupts), then unloads with the device unbound."""
    with open(ABI_MANIFEST) as f:
        manifest = json.load(f)
    module = os.path.join(manifest["modules_dir"], "edu_test-pci-1.0.kmod")
    symbols = subprocess.run(["readelf", "--dyn-syms", "-W", module], capture_output=True, text=True).stdout
    nodes = set(re.findall(r"@(KABI_[A-Z]+_\d+\.\d+)", symbols))
    released = {entry[:-4] for entry in os.listdir(os.path.join(ROOT, "abi", "baseline")) if entry.startswith("KABI_")
                and entry.endswith(".abi")}
    check("KABI_PCI_1.0" in nodes and nodes <= released, f"{module} imports {sorted(nodes)}; released: {released}")
    with boot("panic=-1", initrd=ABI_INITRAMFS, devices=["edu"]) as vm:
        wait_log(vm, r"autoload: \d+ driver module\(s\) indexed")
        out = insmod(vm, "/lib/abi/edu_test-pci-1.0.kmod")
        check("edu_test: loaded" in out, f"insmod: {out}", vm)
        worked = wait_log(vm, r"edu_test: (\S+): id 0x[0-9a-f]*ed, 10! = 3628800, DMA round trip ok, [1-9]\d* MSI "
                              r"interrupt")
        out = vm.command_output("rmmod edu_test")
        check("edu_test: unloaded" in out, f"rmmod edu_test: {out}", vm)
        check(re.search(re.escape(worked.group(1)) + r": removed after \d+ interrupt", vm.command_output("dmesg")),
              "edu_test's remove() did not run", vm)
