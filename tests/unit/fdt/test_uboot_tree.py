#!/usr/bin/env python3
"""scripts/keel/machine.py's unused_devices on the tree QEMU's virt machine
dumps (FDT_VIRT_GICV3): what a boot through U-Boot does not use is marked
disabled, and only that. dtc applies the overrides; fdtget reads back."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts"))
from keel.machine import MACHINES, unused_devices  # noqa: E402

TREE = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", os.environ["FDT_VIRT_GICV3"]], check=True,
                      capture_output=True, text=True).stdout
TRANSPORTS = [f"virtio_mmio@{0xa000000 + 0x200 * slot:x}" for slot in range(32)]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def applied(options):
    """The tree with the overrides for `options`, as a dtb path."""
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "t.dtb")
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", path, "-"], check=True, capture_output=True, text=True,
                   input=TREE + "\n" + unused_devices(TREE, options))
    return path


def status(dtb, node):
    result = subprocess.run(["fdtget", "-t", "s", dtb, node, "status"], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else "okay"


def disabled_transports(dtb):
    return [name for name in TRANSPORTS if status(dtb, "/" + name) == "disabled"]


machine = list(MACHINES["aarch64"])
# Two devices on transports: virt fills the two highest.
dtb = applied(machine + ["-device", "virtio-rng-device", "-device", "virtio-blk-device,drive=d0"])
check(status(dtb, "/flash@0") == "disabled", "the flash is not disabled")
check(disabled_transports(dtb) == TRANSPORTS[:30], f"disabled transports: {disabled_transports(dtb)}")
card = "/pcie@10000000/ethernet@1,0"
check(status(dtb, card) == "disabled", "the machine's card is not disabled")
reg = subprocess.run(["fdtget", "-t", "x", dtb, card, "reg"], capture_output=True, text=True).stdout.split()
check(reg == ["800", "0", "0", "0", "0"], f"the card's reg: {reg}")
# Nothing else changed: the bridge, the UART, the GIC stay.
for node in ("/pcie@10000000", "/pl011@9000000", "/intc@8000000"):
    check(status(dtb, node) == "okay", f"{node} disabled")

# No device: every transport goes. One whose bus is named: none does
# (which one it takes is not known).
check(disabled_transports(applied(machine)) == TRANSPORTS, "with no device, a transport stays")
check(disabled_transports(applied(machine + ["-device", "virtio-rng-device,bus=virtio-mmio-bus.3"])) == [],
      "a transport is disabled though a device named its bus")
# A PCI virtio device takes no transport; no -nic, no card to disable.
no_nic = [option if option != "user,model=e1000e,restrict=on" else "none" for option in machine]
dtb = applied(no_nic + ["-device", "virtio-net-pci,netdev=n0"])
check(disabled_transports(dtb) == TRANSPORTS, "a PCI device took a transport")
check(subprocess.run(["fdtget", dtb, card, "reg"], capture_output=True).returncode != 0, "a card node without -nic")

for failure in failures:
    print("FAIL:", failure)
print(f"{'FAIL' if failures else 'ok'}: unused_devices")
sys.exit(1 if failures else 0)
