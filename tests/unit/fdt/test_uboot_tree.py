#!/usr/bin/env python3
"""scripts/keel/machine.py's unused_devices on the tree QEMU's virt machine
dumps (FDT_VIRT_GICV3): what a boot through U-Boot does not use is marked
disabled, and only that. dtc applies the overrides; fdtget reads back."""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts"))
from keel.machine import MACHINES, unused_devices  # noqa: E402

TREE = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", os.environ["FDT_VIRT_GICV3"]], check=True,
                      capture_output=True, text=True).stdout
TRANSPORTS = [f"virtio_mmio@{0xa000000 + 0x200 * slot:x}" for slot in range(32)]
SCRATCH = tempfile.TemporaryDirectory()  # removed when the test exits
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def applied(options):
    """The tree with the overrides for `options`, as a dtb path."""
    path = os.path.join(SCRATCH.name, f"t{len(os.listdir(SCRATCH.name))}.dtb")
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", path, "-"], check=True, capture_output=True, text=True,
                   input=TREE + "\n" + unused_devices(TREE, options))
    return path


def disabled_nodes(dtb):
    """Every node of `dtb` whose status is "disabled", as paths."""
    tree = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", dtb], check=True, capture_output=True,
                          text=True).stdout
    found, path = [], []
    for line in tree.splitlines():
        opened = re.match(r"^\t*(\S+) \{$", line)
        if opened:
            path.append(opened.group(1))
        elif line.strip() == "};":
            path.pop()
        elif line.strip() == 'status = "disabled";':
            found.append("/" + "/".join(path[1:]))
    return found


def disabled_transports(dtb):
    return [name for name in TRANSPORTS if "/" + name in disabled_nodes(dtb)]


machine = list(MACHINES["aarch64"])
card = "/pcie@10000000/ethernet@1,0"
# Two devices on transports (one given as driver=): virt fills the two
# highest. Nothing but the flash, the rest of the transports and the card
# is disabled.
dtb = applied(machine + ["-device", "virtio-rng-device", "-device", "driver=vhost-vsock-device,guest-cid=3"])
expected = ["/flash@0", card] + ["/" + name for name in TRANSPORTS[:30]]
check(sorted(disabled_nodes(dtb)) == sorted(expected), f"disabled: {disabled_nodes(dtb)}")
reg = subprocess.run(["fdtget", "-t", "x", dtb, card, "reg"], capture_output=True, text=True).stdout.split()
check(reg == ["800", "0", "0", "0", "0"], f"the card's reg: {reg}")

# No device: every transport goes. One whose bus is named, or one given as
# JSON: none does (which one it takes is not known).
check(disabled_transports(applied(machine)) == TRANSPORTS, "with no device, a transport stays")
check(disabled_transports(applied(machine + ["-device", "virtio-rng-device,bus=virtio-mmio-bus.3"])) == [],
      "a transport is disabled though a device named its bus")
check(disabled_transports(applied(machine + ["-device", '{"driver": "virtio-rng-device"}'])) == [],
      "a transport is disabled though a device was given as JSON")
# A PCI virtio device takes no transport; no -nic, no card to disable; two
# -nic, two cards (00:01.0 and 00:02.0).
no_nic = [option if option != "user,model=e1000e,restrict=on" else "none" for option in machine]
dtb = applied(no_nic + ["-device", "virtio-net-pci,netdev=n0"])
check(disabled_transports(dtb) == TRANSPORTS, "a PCI device took a transport")
check(not [node for node in disabled_nodes(dtb) if node.startswith("/pcie")], "a card disabled without -nic")
dtb = applied(machine + ["-nic", "user,model=e1000e,restrict=on"])
cards = [node for node in disabled_nodes(dtb) if node.startswith("/pcie")]
check(cards == [card, "/pcie@10000000/ethernet@2,0"], f"two -nic: {cards}")
# A virtio card a driver binds stays; the e1000e after it (00:02.0) goes.
dtb = applied(no_nic + ["-nic", "user,model=virtio-net-pci,restrict=on", "-nic", "user,model=e1000e,restrict=on"])
cards = [node for node in disabled_nodes(dtb) if node.startswith("/pcie")]
check(cards == ["/pcie@10000000/ethernet@2,0"], f"a virtio -nic, then an e1000e: {cards}")

for failure in failures:
    print("FAIL:", failure)
print(f"{'FAIL' if failures else 'ok'}: unused_devices")
sys.exit(1 if failures else 0)
