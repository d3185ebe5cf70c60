"""Device model scenarios (docs/devices.md): PCI enumeration on q35, the
edu test driver (tests/modules/edu_test.c) autoloaded by its device id,
refused when unsigned under enforcement, its interrupts (MSI, INTx with the
chipset's routing, the storm guard), pins, and unbind/rebind and
rmmod/insmod cycles that must leave every counter at its baseline."""

import json
import os
import re
import tempfile
import time

from harness import TEST_INITRAMFS, TEST_METADATA, boot, case, check, free_pages, refcount

EDU_ALIAS = "pci:v00001234d000011E8sv*sd*bc*sc*i*"


def out_of(vm, line, timeout=120):
    return vm.command_output(line, timeout)


def function_address(vm, ids, what):
    """The device-tree name (0000:BB:SS.F) of the first function lspci lists
    whose "vendor:device" matches the regex `ids`."""
    match = re.search(r"^(\w\w):(\w\w)\.(\w) .*" + ids, out_of(vm, "lspci"), re.M)
    check(match, f"lspci does not list {what}", vm)
    return f"0000:{match.group(1)}:{match.group(2)}.{match.group(3)}"


def edu_address(vm):
    """The edu function's name in the device tree (0000:00:SS.F)."""
    match = re.search(r"^(\w\w):(\w\w)\.(\w) .*1234:11e8", out_of(vm, "lspci"), re.M)
    check(match, "lspci does not list the edu device (1234:11e8)", vm)
    return f"0000:{match.group(1)}:{match.group(2)}.{match.group(3)}", int(match.group(2), 16)


def counters(vm):
    """lsdev -s and mem as one dictionary of numbers."""
    text = out_of(vm, "lsdev -s") + out_of(vm, "mem")
    values = {}
    for name, value in re.findall(r"([a-z][a-z ]*?) (\d+)", text.replace(";", " ").replace(":", " ")):
        values[name.strip()] = int(value)
    return values


def boot_edu(cmdline="panic=-1", initrd=TEST_INITRAMFS):
    vm = boot(cmdline, initrd=initrd, devices=["edu"])
    return vm


def wait_log(vm, pattern, timeout=60):
    """The first match of `pattern` in the kernel log, waiting for it (the
    autoload thread runs beside the console: its lines may come before or
    after the prompt)."""
    deadline = time.monotonic() + timeout
    while True:
        match = re.search(pattern, out_of(vm, "dmesg"))
        if match:
            return match
        check(time.monotonic() < deadline, f"the log never said {pattern!r}", vm)
        time.sleep(0.5)


def wait_bound(vm, timeout=60):
    wait_log(vm, r"autoload: \S+ pci:v00001234d000011E8\S*: loaded edu_test", timeout)


def newc(entries):
    """A newc archive of regular files {path: bytes} (no directories: the
    archive is appended to one that has them)."""
    out = bytearray()
    for ino, (path, data) in enumerate(list(entries.items()) + [("TRAILER!!!", b"")], start=900):
        name = path.encode() + b"\0"
        mode = 0o100644 if path != "TRAILER!!!" else 0
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name), 0]
        out += b"070701" + b"".join(b"%08X" % field for field in fields) + name
        out += b"\0" * (-len(out) % 4) + data + b"\0" * (-(len(out) + len(data)) % 4)
    return bytes(out)


@case
def devices_lspci_lists_q35():
    with boot("panic=-1") as vm:
        out = out_of(vm, "lspci")
        for line in ("00:00.0 Host bridge [0600]: 8086:29c0", "00:01.0 VGA compatible controller [0300]: 1234:1111",
                     "Ethernet controller [0200]: 8086:10d3", "00:1f.0 ISA bridge [0601]: 8086:2918",
                     "00:1f.2 SATA controller [0106]: 8086:2922", "00:1f.3 SMBus [0c05]: 8086:2930"):
            check(line in out, f"lspci does not list '{line}':\n{out}", vm)
        check("Memory at fd000000 (32-bit, prefetchable) [size=16M]" in out, "the VGA BAR 0 is not decoded", vm)
        check(re.search(r"Region 2: I/O ports at [0-9a-f]+ \[size=32\]", out), "the NIC's I/O BAR is not decoded",
              vm)
        verbose = out_of(vm, "lspci -v")
        check(re.search(r"\[a0\] MSI-X: Enable- Count=5", verbose), "the NIC's MSI-X capability is not found", vm)
        tree = out_of(vm, "lsdev")
        # Linux's modalias for the q35 host bridge, byte for byte.
        check("pci:v00008086d000029C0sv00001AF4sd00001100bc06sc00i00" in tree, f"modalias differs:\n{tree}", vm)
        check(re.search(r"^pci0000:00 ", tree, re.M) and re.search(r"^  0000:00:1f\.2 +pci +present", tree, re.M),
              "the tree does not hang the functions under the host bridge", vm)
        log = out_of(vm, "dmesg")
        check("pci: segment 0000 buses 00-ff: ECAM at 0xb0000000" in log, "the ECAM window from MCFG is not used", vm)
        # The firmware placed every BAR and there is no device tree: no
        # windows, no placement, no of bus.
        for line in ("window:", "placed in the host bridge's windows", "of: "):
            check(line not in log, f"the log says '{line}' on q35", vm)
        check(not re.search(r"^platform", tree, re.M), "a platform root on q35", vm)


@case
def devices_edu_autoloads_and_works():
    with boot_edu() as vm:
        wait_bound(vm)
        address, _ = edu_address(vm)
        log = out_of(vm, "dmesg")
        check(re.search(address + r": id 0x[0-9a-f]+ed, 10! = 3628800, DMA round trip ok, \d+ MSI interrupt", log),
              "edu_test did not compute, DMA and get MSI interrupts", vm)
        check("Kernel driver in use: edu_test" in out_of(vm, "lspci -v"), "lspci does not name the driver", vm)
        check(re.search(r"\[40\] MSI: Enable\+", out_of(vm, "lspci -v")), "MSI is not enabled", vm)
        tree = out_of(vm, "lsdev")
        check(re.search(re.escape(address) + r" +pci +bound +edu_test +edu_test ", tree), f"lsdev:\n{tree}", vm)
        check(re.search(r"MSI +\S+ msi +\d+ irqs +0 unclaimed: " + re.escape(address), out_of(vm, "lsdev -i")),
              "lsdev -i does not show the MSI vector", vm)
        info = out_of(vm, "modinfo edu_test")
        check(f"alias:          {EDU_ALIAS}" in info, f"modinfo prints no Linux-format alias:\n{info}", vm)
        check(re.search(r"autoload: 7 driver module\(s\) indexed, 7 alias\(es\)\s", log),
              "the index is not as expected", vm)


@case
def devices_no_device_no_driver():
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        wait_log(vm, r"autoload: 7 driver module\(s\) indexed")
        check("edu_test" not in out_of(vm, "lsmod"), "edu_test loaded without an edu device", vm)
        # modprobe by alias loads it all the same; it binds to nothing.
        out = out_of(vm, "modprobe pci:v00001234d000011E8sv00001AF4sd00001100bc00scFFi00")
        check(out.strip() == "" or "loaded edu_test" in out, f"modprobe by alias failed: {out}", vm)
        check("edu_test" in out_of(vm, "lsmod"), "modprobe did not load edu_test", vm)
        check("driver edu_test (pci, module edu_test): 0 device(s)" in out_of(vm, "lsdev"), "edu_test bound?", vm)
        out = out_of(vm, "modprobe pci:v0000ABCDd00001234sv*")
        check("no module matches" in out and "ENOENT" in out, f"modprobe of an unknown alias: {out}", vm)


@case
def devices_modprobe_race_loads_once():
    """The console's modprobe and the autoload thread asking for one module
    at once: `modtest race` runs two modprobes in threads, the first
    preempted inside its load with the registry lock held (stress points),
    by name and by modalias in both orders. Both succeed and the module is
    loaded once (the check for a loaded module and the load are one step
    under that lock); without `unless_loaded` on either path one of them
    fails with EEXIST."""
    alias = "pci:v00001234d000011E8sv00001AF4sd00001100bc00scFFi00"
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        wait_log(vm, r"autoload: 7 driver module\(s\) indexed")
        for first, second in (("edu_test", alias), (alias, "edu_test"), ("edu_test", "edu_test")):
            out = out_of(vm, f"modtest race edu_test {first} {second}")
            check(re.search(r"at once \(overlapped\): edu_test loaded 1 time\(s\): PASS", out),
                  f"modtest race edu_test {first} {second}: {out}", vm)
            check("edu_test" not in out_of(vm, "lsmod"), "modtest race left edu_test loaded", vm)
        # A loader that fails is reported, and the test with it.
        out = out_of(vm, "modtest race edu_test nosuch edu_test")
        check("modprobe nosuch: nosuch: no nosuch.kmod" in out and "ENOENT" in out and out.rstrip().endswith("FAIL"),
              f"modtest race with a missing module: {out}", vm)


@case
def devices_unsigned_driver_refused_under_enforcement():
    with open(TEST_METADATA) as f:
        unsigned = json.load(f)["unsigned_drivers"]["edu_test.kmod"]
    with open(TEST_INITRAMFS, "rb") as f:
        archive = f.read()
    with open(unsigned, "rb") as f:
        overlay = newc({"lib/modules/edu_test.kmod": f.read()})
    with tempfile.NamedTemporaryFile(suffix=".cpio", delete=False) as image:
        image.write(archive + overlay)
    try:
        with boot_edu("panic=-1 module.sig_enforce=1", initrd=image.name) as vm:
            wait_log(vm, r"autoload: 7 driver module\(s\) indexed, 7 alias\(es\)\s")
            match = wait_log(vm, r"autoload: (\S+) pci:v00001234d000011E8\S+: driver module edu_test refused: "
                             r"[^\n]*unsigned module[^\n]*; the device stays unbound")
            tree = out_of(vm, "lsdev")
            check(re.search(re.escape(match.group(1)) + r" +pci +present +- ", tree), f"edu is bound:\n{tree}", vm)
            check("edu_test" not in out_of(vm, "lsmod"), "the unsigned driver was loaded", vm)
    finally:
        os.unlink(image.name)


@case
def devices_edu_intx_routing_and_storm_guard():
    with boot_edu() as vm:
        wait_bound(vm)
        address, slot = edu_address(vm)
        out_of(vm, "rmmod edu_test")
        out = out_of(vm, "insmod edu_test irq=intx transfers=0")
        check("1 INTx interrupt(s)" in out, f"no INTx: {out}", vm)
        check(re.search(r"10! = 3628800, DMA round trip skipped, \d+ INTx interrupt", out),
              f"the factorial interrupt did not arrive over INTx: {out}", vm)
        # q35: INTA of root-bus slot S < 0x18 is PIRQ E + (S & 3), GSI 20 + (S & 3).
        gsi = 20 + (slot & 3)
        check(re.search(rf"INTx +GSI {gsi} +\d+ irqs +0 unclaimed: " + re.escape(address), out_of(vm, "lsdev -i")),
              f"INTx is not on GSI {gsi}", vm)
        out_of(vm, "rmmod edu_test")
        out = out_of(vm, "insmod edu_test irq=intx storm=1 transfers=0")
        check(re.search(rf"irq: GSI {gsi} \(vector 0x[0-9a-f]+\): 1000 interrupts in a row that no handler claimed; "
                        r"line masked", out), f"the storm guard did not mask the line: {out}", vm)
        check("MASKED" in out_of(vm, "lsdev -i"), "lsdev -i does not show the line masked", vm)
        out_of(vm, "rmmod edu_test")
        stats = counters(vm)
        check(stats["irq vectors"] == 0 and stats["handlers"] == 0 and stats["resources"] == 0,
              f"resources left after rmmod: {stats}", vm)


@case
def devices_unbind_rebind_and_rmmod_insmod_cycles():
    with boot_edu() as vm:
        wait_bound(vm)
        address, _ = edu_address(vm)
        out_of(vm, "rmmod edu_test")
        baseline = counters(vm)
        pages = free_pages(vm)
        out_of(vm, "insmod edu_test transfers=0")
        out = out_of(vm, f"devtest cycles 100 {address}", timeout=240)
        check(f"devtest: 100 unbind/bind cycles of {address}: baseline kept: PASS" in out, f"devtest: {out}", vm)
        out_of(vm, "rmmod edu_test")
        out = out_of(vm, "modtest cycles 100 edu_test transfers=0", timeout=240)
        check(re.search(r"modtest: 100 cycles of edu_test .*: PASS", out), f"modtest: {out}", vm)
        # From the console's side too: every counter back where it was.
        after = counters(vm)
        for key in ("devices", "bound", "drivers", "resources", "pins", "irq vectors", "handlers", "mmio",
                    "dma buffers", "bytes", "mappings", "work", "vmalloc areas"):
            check(after.get(key) == baseline.get(key), f"{key}: {baseline.get(key)} -> {after.get(key)}", vm)
        check(free_pages(vm) == pages, f"free pages {pages} -> {free_pages(vm)}", vm)


@case
def devices_failing_probe_leaves_nothing():
    with boot_edu() as vm:
        wait_bound(vm)
        address, _ = edu_address(vm)
        out_of(vm, "rmmod edu_test")
        baseline = counters(vm)
        out = out_of(vm, "insmod /lib/test/edu_failprobe.kmod transfers=0")
        check("every resource acquired; failing on purpose" in out, f"the failing probe did not run: {out}", vm)
        check(f"edu_failprobe: probe of {address} failed with -5 (EIO)" in out, f"no failure reported: {out}", vm)
        check(re.search(r"edu_failprobe: \S+: resources released", out), "the binding's actions did not run", vm)
        stats = counters(vm)
        for key in ("bound", "resources", "irq vectors", "handlers", "mmio", "dma buffers", "bytes", "mappings",
                    "work"):
            check(stats.get(key) == baseline.get(key), f"after the failed probe {key}: {baseline.get(key)} -> "
                  f"{stats.get(key)}", vm)
        out_of(vm, "rmmod edu_failprobe")
        out = out_of(vm, "modtest cycles 20 /lib/test/edu_failprobe.kmod transfers=0", timeout=240)
        check(re.search(r"modtest: 20 cycles of /lib/test/edu_failprobe.kmod .*: PASS", out), f"modtest: {out}", vm)


@case
def devices_pin_makes_unbind_and_rmmod_busy():
    with boot_edu() as vm:
        wait_bound(vm)
        address, _ = edu_address(vm)
        check("pinned by fsck" in out_of(vm, f"devtest pin {address} fsck"), "the pin was refused", vm)
        out = out_of(vm, "rmmod edu_test")
        check(f"edu_test: in use by fsck (device {address}) (EBUSY)" in out, f"rmmod was not refused: {out}", vm)
        out = out_of(vm, f"unbind {address}")
        check(f"{address} is in use by fsck (EBUSY)" in out, f"unbind was not refused: {out}", vm)
        check("pins 1" in out_of(vm, "lsdev -s"), "lsdev does not count the pin", vm)
        check("1 pin(s) released" in out_of(vm, f"devtest unpin {address}"), "unpin", vm)
        out = out_of(vm, "rmmod edu_test")
        check("unbound from " + address in out and "unloaded" in out, f"rmmod after unpin: {out}", vm)
        out = out_of(vm, f"devtest pin {address} late")
        check("ENODEV" in out, f"an unbound device was pinned: {out}", vm)
        # bind by hand after modprobe by name.
        out_of(vm, "modprobe edu_test")
        check(re.search(re.escape(address) + " +pci +bound +edu_test", out_of(vm, "lsdev")), "no rebind on load", vm)
        out_of(vm, f"unbind {address}")
        out = out_of(vm, f"bind {address} edu_test")
        check("bound to " + address in out, f"bind: {out}", vm)


@case
def devices_edu_driver_in_rust():
    """tests/modules/edu_rs.rs, on keel::pci: the same device bound, used,
    unbound and unloaded from safe Rust; a handle kept past unbind is
    revoked; nothing is left behind."""
    with boot_edu() as vm:
        wait_bound(vm)
        address, _ = edu_address(vm)
        out_of(vm, "rmmod edu_test")
        baseline = counters(vm)
        pages = free_pages(vm)
        worked = re.escape(address) + r": id 0x[0-9a-f]*ed, 10! = 3628800, DMA round trip ok, [1-9]\d* MSI interrupt"
        out = out_of(vm, "insmod /lib/test/edu_rs.kmod")
        check(re.search("edu_rs: " + worked, out), f"edu_rs did not compute, DMA and get MSI interrupts: {out}", vm)
        check(re.search(re.escape(address) + r" +pci +bound +edu_rs +edu_rs ", out_of(vm, "lsdev")), "not bound", vm)
        check(EDU_ALIAS in out_of(vm, "modinfo /lib/test/edu_rs.kmod"), "modinfo has no alias for the Rust table", vm)
        out = out_of(vm, f"unbind {address}")
        check(re.search(r"edu_rs: " + re.escape(address) + r": removed after [1-9]\d* interrupt", out), out, vm)
        out = out_of(vm, f"bind {address} edu_rs")
        check(re.search("edu_rs: " + worked, out), f"rebinding did not probe again: {out}", vm)
        out = out_of(vm, "rmmod edu_rs")
        check("edu_rs: the kept register mapping is revoked after unbind" in out, f"not revoked: {out}", vm)
        after = counters(vm)
        for key in ("devices", "bound", "drivers", "resources", "pins", "irq vectors", "handlers", "mmio",
                    "dma buffers", "bytes", "mappings", "work", "vmalloc areas"):
            check(after.get(key) == baseline.get(key), f"{key}: {baseline.get(key)} -> {after.get(key)}", vm)
        check(free_pages(vm) == pages, f"free pages {pages} -> {free_pages(vm)}", vm)
        out = out_of(vm, "modtest cycles 20 /lib/test/edu_rs.kmod", timeout=240)
        check(re.search(r"modtest: 20 cycles of /lib/test/edu_rs.kmod .*: PASS", out), f"modtest: {out}", vm)
        # keel::symbol: a reference on provider_add taken in probe and
        # given back when unbind drops the device's data, counted as
        # edu_rs's both ways.
        out_of(vm, "modprobe provider")
        out = out_of(vm, "insmod /lib/test/edu_rs.kmod hold=1")
        check(re.search("edu_rs: " + worked, out) and refcount(vm, "provider") == 1, f"probe's reference: {out}", vm)
        check("EBUSY" in out_of(vm, "rmmod provider"), "provider unloaded under edu_rs's reference", vm)
        out = out_of(vm, f"unbind {address}")
        check("no reference held" not in out and refcount(vm, "provider") == 0, f"unbind's put: {out}", vm)
        out_of(vm, f"bind {address} edu_rs")
        check(refcount(vm, "provider") == 1, "a second probe's reference", vm)
        out = out_of(vm, "rmmod edu_rs")
        check("no reference held" not in out and "still held" not in out and refcount(vm, "provider") == 0,
              f"rmmod edu_rs: {out}", vm)
        out = out_of(vm, "rmmod provider")
        check("provider: unloaded" in out, f"rmmod provider: {out}", vm)
        out = out_of(vm, "insmod /lib/test/edu_rs.kmod hold=1")
        check("provider_add reference failed (ENOENT)" in out, f"probe without provider: {out}", vm)
        check(re.search(re.escape(address) + r" +pci +present +- ", out_of(vm, "lsdev")), "bound without its reference",
              vm)
        out_of(vm, "rmmod edu_rs")
        check(counters(vm) == after, f"the references' scenarios left something: {counters(vm)}", vm)
        # Powering off stops the bound device through the driver's shutdown.
        out_of(vm, "insmod /lib/test/edu_rs.kmod")
        vm.send("poweroff 7")
        status = vm.wait_exit(60)
        check(status == 7 and re.search(r"edu_rs: " + re.escape(address) + r": shut down\n(.|\n)*reboot: Power down",
                                        vm.output), f"poweroff: status {status}, edu_rs's shutdown not seen", vm)
