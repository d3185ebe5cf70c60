#!/usr/bin/env python3
"""The vendor's driver, end to end (issue 13, docs/sdk.md "A driver"):

1. from the SDK tarball alone, with a minimal environment, a vendor builds
   tests/oot/vendor_edu/acme_edu.c (a driver for QEMU's edu device) with
   keel-build-module, signs it with its own key, which the kernel's
   builder endorses, and checks it with kmodinfo (Linux-format alias,
   --check-against under enforcement);
2. keel-mkinitramfs puts it in /lib/vendor; the core boots with
   module.sig_enforce=1 and `-device edu`: the autoload index finds the
   driver there, loads it through the signed path and it binds: the
   device computes, does DMA and interrupts;
3. rmmod unbinds and unloads it, and every device counter is back at
   its value before the load;
4. the same driver signed by a key nobody endorsed is refused when the
   device appears, and the device stays unbound.

In build-aarch64/ the SDK, the driver and the core are aarch64's and the
edu device sits on QEMU virt's PCIe bus: the machine has GICv2, whose
v2m frame gives MSI (GICv3's ITS is not driven), and edu is started with
a 32-bit DMA mask the driver is told about (virt's RAM starts at 1 GiB).

  KEEL_BUILD=BUILD KEEL_SIGNING_KEY=KEY tests/oot/test_oot_driver.py
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from keel.machine import ARCH, BUILD, MACHINES, PROMPT, Machine  # noqa: E402

import test_oot  # noqa: E402  (the SDK test's helpers: shell, minimal_environment)

ALIAS = "pci:v00001234d000011E8sv*sd*bc*sc*i*"
# Per architecture: the QEMU machine (None: the default), the edu device
# and the driver's parameters on the command line.
EDU_SETUP = {
    "x86_64": (None, "edu", ""),
    "aarch64": ([option.replace("gic-version=3", "gic-version=2") for option in MACHINES["aarch64"]],
                "edu,dma_mask=0xffffffff", " acme_edu.dma_bits=32"),
}
COUNTERS = ("bound", "drivers", "resources", "pins", "irq vectors", "handlers", "mmio", "dma buffers", "work")


def fail(message):
    print(f"FAIL oot-driver: {message}")
    sys.exit(1)


def counters(vm):
    text = vm.command_output("lsdev -s", 60)
    return {name.strip(): int(value) for name, value in re.findall(r"([a-z][a-z ]*?) (\d+)", text.replace(";", " "))}


def wait_log(vm, pattern, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, vm.command_output("dmesg", 60))
        if match:
            return match
        time.sleep(0.5)
    fail(f"the log never said {pattern!r}:\n{vm.output[-3000:]}")


def build(work, env):
    script = """
tar xzf keel-sdk-*.tar.gz
SDK=$(echo "$PWD"/keel-sdk-*/)
export PATH="$SDK/bin:$PATH"
export PKG_CONFIG_PATH="$SDK/lib/pkgconfig"
openssl genpkey -algorithm ed25519 -out vendor.pem
openssl pkey -in vendor.pem -pubout -out vendor.pub.pem
kmod-sign endorse "$KEEL_SIGNING_KEY" vendor.pub.pem -o vendor.endorsement --description "Example Vendor"
openssl genpkey -algorithm ed25519 -out stranger.pem
mkdir -p good stranger
keel-build-module -o good/acme_edu.kmod --key vendor.pem acme_edu.c
keel-build-module -o stranger/acme_edu.kmod --key stranger.pem acme_edu.c
kmodinfo good/acme_edu.kmod
kmodinfo --check-against "$KEEL_CORE" --sig-enforce --key vendor.endorsement good/acme_edu.kmod
keel-mkinitramfs -o good.cpio --key vendor.endorsement --module good/acme_edu.kmod
keel-mkinitramfs -o stranger.cpio --key vendor.endorsement --module stranger/acme_edu.kmod
"""
    status, log = test_oot.shell(script, work, env)
    if status != 0:
        fail(f"building the vendor's driver failed:\n{log[-6000:]}")
    if ROOT in log:
        fail(f"the build touched the source tree ({ROOT}):\n{log[-3000:]}")
    for needle in (f"alias:          {ALIAS}", "author:         Example Vendor"):
        if needle not in log:
            fail(f"kmodinfo does not print '{needle}':\n{log[-3000:]}")


def main():
    key = os.environ["KEEL_SIGNING_KEY"]
    with tempfile.TemporaryDirectory(prefix="keel-oot-driver-") as scratch:
        work = os.path.join(scratch, "vendor")
        os.makedirs(work)
        result = subprocess.run([os.path.join(ROOT, "scripts", "sdk"), "--no-build", work], capture_output=True,
                                text=True, env=dict(os.environ, KEEL_BUILD=BUILD))
        if result.returncode != 0:
            fail(f"scripts/sdk failed:\n{result.stdout}{result.stderr}")
        # The vendor's source, and what the kernel's builder hands out.
        shutil.copy(os.path.join(HERE, "vendor_edu", "acme_edu.c"), work)
        shutil.copy(key, os.path.join(scratch, "signing_key.pem"))
        core, bootable = test_oot.core_files(scratch)
        machine, edu, parameters = EDU_SETUP[ARCH]
        env = test_oot.minimal_environment()
        env["KEEL_SIGNING_KEY"] = os.path.join(scratch, "signing_key.pem")
        env["KEEL_CORE"] = core
        build(work, env)

        with Machine(cmdline="panic=-1 module.sig_enforce=1" + parameters, initrd=os.path.join(work, "good.cpio"),
                     kernel=bootable, machine=machine, devices=[edu]) as vm:
            vm.expect(PROMPT, 60)
            wait_log(vm, r"autoload: \S+ pci:v00001234d000011E8\S*: loaded acme_edu")
            match = wait_log(vm, r"acme_edu: (\S+): 12! = 479001600, DMA round trip ok, [1-9]\d* MSI interrupt")
            address = match.group(1)
            lsdev = vm.command_output("lsdev", 60)
            if not re.search(re.escape(address) + r" +pci +bound +acme_edu +acme_edu ", lsdev):
                fail(f"lsdev does not show acme_edu bound:\n{lsdev}")
            lsmod = vm.command_output("lsmod", 60)
            if "Tainted: O" not in lsmod:
                fail(f"an out-of-tree driver did not taint the kernel O:\n{lsmod}")
            bound = counters(vm)
            out = vm.command_output("rmmod acme_edu", 60)
            if not re.search(r"acme_edu: " + re.escape(address) + r": removed after [1-9]\d* interrupt", out):
                fail(f"rmmod did not unbind: {out}")
            after = counters(vm)
            if after.get("bound") != bound.get("bound", 0) - 1:
                fail(f"the device is still bound: {bound} -> {after}")
            for name in COUNTERS[2:]:
                if after.get(name) != 0:
                    fail(f"rmmod left {name} {after.get(name)}: {after}")
            if not re.search(re.escape(address) + r" +pci +present ", vm.command_output("lsdev", 60)):
                fail("the device is not present again after rmmod")
            # Loading it again by its alias binds it again.
            vm.command_output(f"modprobe {ALIAS.replace('*', 'x')}", 60)
            deadline = time.monotonic() + 60
            bound = r"acme_edu: \S+: 12! = 479001600, DMA round trip ok"
            while len(re.findall(bound, vm.command_output("dmesg", 60))) < 2:
                if time.monotonic() > deadline:
                    fail(f"modprobe by alias did not bind acme_edu again:\n{vm.output[-3000:]}")
                time.sleep(0.5)

        with Machine(cmdline="panic=-1 module.sig_enforce=1" + parameters, initrd=os.path.join(work, "stranger.cpio"),
                     kernel=bootable, machine=machine, devices=[edu]) as vm:
            vm.expect(PROMPT, 60)
            wait_log(vm, r"autoload: \S+ pci:v00001234d000011E8\S*: driver module acme_edu refused: .*the device "
                     r"stays unbound")
            if "acme_edu" in vm.command_output("lsmod", 60):
                fail("a driver signed by an unendorsed key was loaded")
    print(f"PASS oot-driver ({ARCH})")


if __name__ == "__main__":
    main()
