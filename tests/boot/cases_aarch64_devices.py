"""The device tree as a bus on AArch64 (QEMU virt): PCIe from the generic
host bridge (lspci, BARs the kernel placed itself when booted without
firmware, and as U-Boot placed them), the edu test driver autoloaded and
working with MSI through GICv3's ITS, INTx through the bridge's
interrupt-map and MSI through GICv2m (GICv2), and platform devices matched
by compatible."""

import re

import os
import tempfile
import time

import subprocess

from harness import BUILD, PROMPT, TEST_INITRAMFS, Machine, boot, case, check
from keel.machine import MACHINES
from cases_devices import newc, out_of, wait_log

AARCH64 = ("aarch64",)
# QEMU's edu reaches 28 bits by default; virt's RAM starts at 1 GiB.
EDU = "edu,dma_mask=0xffffffff"
EDU_CMDLINE = "panic=-1 edu_test.dma_bits=32"
GICV2 = ["qemu-system-aarch64", "-machine", "virt,gic-version=2", "-accel", "tcg", "-cpu", "cortex-a57",
         "-semihosting-config", "enable=on,target=native"]


def edu_works(vm, interrupt_kind):
    match = wait_log(vm, r"autoload: (\S+) pci:v00001234d000011E8\S*: loaded edu_test")
    address = match.group(1)
    log = out_of(vm, "dmesg")
    check(re.search(re.escape(address) + r": id 0x[0-9a-f]+ed, 10! = 3628800, DMA round trip ok, \d+ "
                    + interrupt_kind + " interrupt", log),
          f"edu_test did not compute, DMA and get {interrupt_kind} interrupts", vm)
    check("Kernel driver in use: edu_test" in out_of(vm, "lspci -v"), "lspci does not name the driver", vm)
    return address, log


@case(arches=AARCH64)
def aarch64_pcie_lspci_and_bars_placed():
    with boot("panic=-1", initrd=TEST_INITRAMFS, devices=["edu"]) as vm:
        out = out_of(vm, "lspci -v")
        check("00:00.0 Host bridge [0600]: 1b36:0008" in out, f"no host bridge:\n{out}", vm)
        check(re.search(r"^00:0[1-9]\.0 Ethernet controller \[0200\]: 8086:10d3", out, re.M), f"no e1000e:\n{out}",
              vm)
        match = re.search(r"^00:(\w\w)\.0 Unclassified device \[00ff\]: 1234:11e8 \(rev 10\)\n(?:\t.*\n)*?"
                          r"\tRegion 0: Memory at (\w+) \(32-bit, non-prefetchable\) \[size=1M\]", out, re.M)
        check(match, f"edu's BAR 0 is not listed:\n{out}", vm)
        # Booted without firmware: the kernel placed it in the 32-bit window.
        check(0x10000000 <= int(match.group(2), 16) < 0x3eff0000, f"BAR 0 at {match.group(2)}", vm)
        log = out_of(vm, "dmesg")
        check("pci: segment 0000 buses 00-ff: ECAM at 0x4010000000" in log, "the ECAM window is not the tree's", vm)
        check("pci: segment 0000 window: 32-bit memory, bus 0x10000000-0x3efeffff at CPU 0x10000000" in log,
              "the bridge's ranges are not read", vm)
        check(re.search(r"pci 0000:00:\w\w\.0: \d BAR\(s\) placed in the host bridge's windows", log),
              "no BAR was placed", vm)


@case(arches=AARCH64)
def aarch64_pcie_through_uboot_keeps_its_bars_and_edu_works():
    # Debian's U-Boot enumerates PCI on qemu_arm64 and assigns every BAR:
    # the kernel keeps them where U-Boot put them, and the driver works
    # there (the test initramfs in a FIT signed with the boot key). The
    # project's U-Boot enumerates nothing: the kernel places the BARs, as
    # when QEMU loads it (aarch64_pcie_lspci_and_bars_placed).
    #
    # The tree U-Boot is handed disables what the boot does not use
    # (machine.unused_devices): U-Boot skips the flash, the machine's own
    # card at 00:01.0 and the empty virtio-mmio transports, and so does the
    # kernel; the transport with a device on it stays.
    fit = os.path.join(BUILD, "tests", "modules", "keel-test.itb")
    with Machine(cmdline=EDU_CMDLINE, uboot=fit, devices=[EDU, "virtio-rng-device"], uboot_firmware="debian") as vm:
        vm.expect("Verifying Hash Integrity ... sha256,rsa2048:keel-boot+ OK", 60)
        vm.expect(PROMPT, 60)
        check("Flash: 0 Bytes" in vm.output and "e1000" not in vm.output, "U-Boot probed the flash or the card", vm)
        out = out_of(vm, "lspci -v")
        match = re.search(r"1234:11e8 \(rev 10\)\n(?:\t.*\n)*?\tRegion 0: Memory at (\w+) \(32-bit, "
                          r"non-prefetchable\) \[size=1M\]", out)
        check(match and 0x10000000 <= int(match.group(1), 16) < 0x3eff0000, f"edu's BAR:\n{out}", vm)
        check("8086:10d3" not in out, f"the disabled card is listed:\n{out}", vm)
        edu_works(vm, "MSI")
        log = out_of(vm, "dmesg")
        check("placed in the host bridge's windows" not in log, "the kernel moved U-Boot's BARs", vm)
        check("pci 0000:00:01.0: disabled by the firmware's description; left alone" in log,
              "the kernel did not leave the disabled card alone", vm)
        slots = re.findall(r"^ *(\w+)\.virtio_mmio +of +(\w+)", out_of(vm, "lsdev"), re.M)
        check(slots == [("a003e00", "bound")], f"virtio-mmio transports: {slots}", vm)
        wait_log(vm, r"virtio_rng: virtio\d+: feeding the entropy pool")


def edu_msi_cycles(vm, controller, vectors):
    """edu_test got MSI from `controller` (its log line) on one of
    `vectors` (a regex of lsdev's hex vector), then 20 load/unload cycles."""
    address, log = edu_works(vm, "MSI")
    check(controller in log, f"no '{controller}'", vm)
    check(re.search(r"\[40\] MSI: Enable\+", out_of(vm, "lspci -v")), "MSI is not enabled", vm)
    lines = out_of(vm, "lsdev -i")
    check(re.search(r"0x" + vectors + r" +MSI +\S+ msi +[1-9]\d* irqs +0 unclaimed: " + re.escape(address), lines),
          f"the MSI vector is not one of {vectors}:\n{lines}", vm)
    out_of(vm, "rmmod edu_test")
    out = out_of(vm, "modtest cycles 20 edu_test transfers=0 dma_bits=32", timeout=240)
    check(re.search(r"modtest: 20 cycles of edu_test .*: PASS", out), f"modtest: {out}", vm)


@case(arches=AARCH64)
def aarch64_edu_msi_through_gicv3_its():
    # The bridge's msi-map names the ITS; vector v is LPI 8192 + v. The
    # cycles bind again with the device's translation table kept.
    with boot(EDU_CMDLINE, initrd=TEST_INITRAMFS, devices=[EDU]) as vm:
        edu_msi_cycles(vm, "gic: ITS at 0x8080000: MSI to LPIs 8400-8447, ", r"(d\w|e\w|f\w)")
        out = out_of(vm, "insmod edu_test dma_bits=32")
        check("edu_test" in out_of(vm, "lsmod"), f"insmod: {out}", vm)
        wait_log(vm, r"(DMA round trip ok, [1-9]\d* MSI interrupt[\s\S]*){2}")


@case(arches=AARCH64)
def aarch64_edu_autoloads_with_intx():
    # INTx through interrupt-map when the driver asks for it (the ITS would
    # give it MSI).
    with boot(EDU_CMDLINE + " edu_test.irq=intx", initrd=TEST_INITRAMFS, devices=[EDU]) as vm:
        address, log = edu_works(vm, "INTx")
        check(re.search(re.escape(f"pci {address}: 1 INTx interrupt(s)"), log), "not INTx", vm)
        lines = out_of(vm, "lsdev -i")
        check(re.search(r"INTx +GSI (3[5-8]) +[1-9]\d* irqs +\d+ unclaimed: " + re.escape(address), lines),
              f"the INTx line is not one of the bridge's SPIs 3-6 (INTID 35-38):\n{lines}", vm)
        check("Unknown kernel command line" not in log, "a module parameter was reported as unknown", vm)
        out_of(vm, "rmmod edu_test")
        out = out_of(vm, "insmod edu_test transfers=0 dma_bits=32 storm=1 irq=intx")
        wait_log(vm, r"irq: GSI 3[5-8] \(vector 0x2[0-9a-f]\): 1000 interrupts in a row that no handler claimed; "
                     r"line masked")
        check("edu_test" in out_of(vm, "lsmod"), f"insmod: {out}", vm)


@case(arches=AARCH64)
def aarch64_edu_msi_through_gicv2m():
    with boot(EDU_CMDLINE, initrd=TEST_INITRAMFS, devices=[EDU], machine=GICV2) as vm:
        edu_msi_cycles(vm, "gic: GICv2m frame at 0x8020000: MSI to SPIs 80-143", r"(5\w|[6-8]\w)")


@case(arches=AARCH64)
def aarch64_of_platform_device_binds_by_compatible():
    # pl031_test in /lib/modules for this boot only (the test initramfs
    # keeps it in /lib/test): every virt machine has the clock.
    with open(os.path.join(BUILD, "tests", "modules", "pl031_test.kmod"), "rb") as f:
        overlay = newc({"lib/modules/pl031_test.kmod": f.read()})
    with open(TEST_INITRAMFS, "rb") as f:
        base = f.read()
    with tempfile.NamedTemporaryFile(suffix=".cpio") as image:
        image.write(base + overlay)
        image.flush()
        with boot("panic=-1", initrd=image.name) as vm:
            of_platform_device_checks(vm)


def of_platform_device_checks(vm):
    match = wait_log(vm, r"autoload: 9010000\.pl031 (of:\S+): loaded pl031_test")
    # Linux's of_modalias for QEMU's node, byte for byte.
    check(match.group(1) == "of:Npl031T(null)Carm,pl031Carm,primecell", f"modalias {match.group(1)}", vm)
    log = out_of(vm, "dmesg")
    clock = re.search(r"pl031_test: 9010000\.pl031: PrimeCell 0x00\w41031 0xb105f00d, clock at (\d+) s, alarm set",
                      log)
    check(clock and int(clock.group(1)) > 1500000000, "pl031_test did not read the clock", vm)
    check(re.search(r"of: \d+ platform device\(s\) from the device tree", log), "no of bus", vm)
    tree = out_of(vm, "lsdev")
    check(re.search(r"9010000\.pl031 +of +bound +pl031_test +pl031_test", tree), f"lsdev:\n{tree}", vm)
    check(re.search(r"9000000\.pl011 +of +present", tree), f"the UART is not an of device:\n{tree}", vm)
    info = out_of(vm, "modinfo pl031_test")
    for alias in ("of:N*T*Carm,pl031", "of:N*T*Carm,pl031C*"):
        check(f"alias:          {alias}\n" in info + "\n", f"modinfo lacks {alias}:\n{info}", vm)
    # The alarm a second ahead arrives on the node's interrupt, SPI 2.
    deadline = time.monotonic() + 10
    while not re.search(r"INTx +GSI 34 +[1-9]\d* irqs +0 unclaimed: 9010000\.pl031", out_of(vm, "lsdev -i")):
        check(time.monotonic() < deadline, "no alarm interrupt on GSI 34:\n" + out_of(vm, "lsdev -i"), vm)
        time.sleep(0.5)
    out = out_of(vm, "rmmod pl031_test")
    check(re.search(r"pl031_test: 9010000\.pl031: 1 alarm interrupt\(s\)", out_of(vm, "dmesg")), f"rmmod: {out}", vm)
    check(re.search(r"9010000\.pl031 +of +present", out_of(vm, "lsdev")), "still bound after rmmod", vm)
    check("GSI 34" not in out_of(vm, "lsdev -i"), "the line outlived the binding", vm)
    out = out_of(vm, "modprobe of:Npl031T(null)Carm,pl031Carm,primecell")
    check(re.search(r"9010000\.pl031 +of +bound +pl031_test", out_of(vm, "lsdev")), f"modprobe: {out}", vm)


@case(arches=AARCH64)
def aarch64_malformed_host_bridge_is_refused_clearly():
    # QEMU's own tree with the bridge's interrupt-map naming a phandle
    # nothing has: the kernel says which entry is wrong, boots without PCI,
    # and the platform devices are still there.
    with tempfile.TemporaryDirectory() as directory:
        plain, broken = os.path.join(directory, "virt.dtb"), os.path.join(directory, "broken.dtb")
        options = list(MACHINES["aarch64"])
        options[options.index("-machine") + 1] += f",dumpdtb={plain}"
        subprocess.run(options + ["-m", "256M", "-display", "none"], check=True, capture_output=True)
        source = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", plain], check=True, capture_output=True,
                                text=True).stdout
        source, count = re.subn(r"(interrupt-map = <0x00 0x00 0x00 0x01) 0x\w+", r"\1 0x1234", source)
        check(count == 1, "QEMU's tree has no interrupt-map to break")
        subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", broken], input=source, check=True, text=True)
        with boot("panic=-1", extra=["-dtb", broken]) as vm:
            log = out_of(vm, "dmesg")
            check("pci: the device tree's host bridge is unusable: interrupt-map: entry 0: interrupt parent 0x1234 "
                  "is not a GIC with 3 interrupt cells" in log, "no clear refusal", vm)
            check("pci: 0 function(s)" in log and "ECAM at" not in log, "PCI was used anyway", vm)
            listed = out_of(vm, "lspci")
            check(not re.search(r"^\w\w:\w\w\.\w ", listed, re.M), f"lspci lists functions:\n{listed}", vm)
            check(re.search(r"9010000\.pl031 +of +present", out_of(vm, "lsdev")), "no platform devices", vm)
