"""Boot Keel or Linux under the same QEMU and collect figures from either.

A benchmark compares Keel with Linux only when both run in the same run, on
the same QEMU command line (machine.qemu_command: q35, TCG, -cpu max, serial
on stdio) with the same devices. This module is the harness both sides share:

- LinuxAssets.fetch() finds Debian's `linux-image-cloud-amd64`, follows the
  metapackage to the real `linux-image-*-cloud-amd64` package and downloads
  it and `busybox-static` with `apt-get download` into a cache outside the
  source tree (KEEL_CACHE, default ~/.cache/keel); vmlinuz and single
  modules are extracted from the cached package with dpkg-deb when needed.
- LinuxGuest boots that kernel with a busybox initramfs whose /init reports
  the boot, mounts proc, sysfs, devtmpfs and tracefs, and then runs one shell
  command per console line: `run(command)` returns what it printed, and
  `trace(functions, command)` times kernel functions with ftrace's
  function_graph tracer while the command runs.
- KeelGuest is the same interface over machine.Machine: `run` is a console
  command at the `keel> ` prompt.

The kernel is amd64's unless LinuxAssets.fetch(arch="arm64") asks for
Debian's arm64 kernel (scripts/bench --arch aarch64): apt then reads the
arm64 package lists from a private state directory in the cache, so the
machine's own apt configuration (its dpkg architectures) stays as it is. A
busybox of a foreign architecture cannot list its applets on the host: its
initramfs links only the applets /init needs before its first line, and
/init has busybox install the others.

Both take extra QEMU arguments (a virtio disk, a netdev) in start(), so a
benchmark adds a guest command and a parser, not a harness
(docs/performance.md, "Adding a benchmark"). Every failure raises PeerError
(or machine.Timeout): a figure is never made up.
"""

import functools
import gzip
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from . import machine

CACHE = os.environ.get("KEEL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "keel")
METAPACKAGE = "linux-image-cloud-amd64"
KERNEL_PACKAGE = re.compile(r"^linux-image-\d\S*-cloud-amd64$")
BUSYBOX_PACKAGE = "busybox-static"
# Debian's architecture names for each of machine.MACHINES, and the serial
# console Linux finds there (the 16550 on q35, the PL011 on virt).
DEBIAN_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
CONSOLE = {"amd64": "ttyS0", "arm64": "ttyAMA0"}
GEN_INIT_CPIO = os.path.join(machine.BUILD, "scripts", "tools", "gen_init_cpio")

# The console's line discipline echoes and maps CR to NL (machine.Machine
# sends CR); `quiet` is Linux's loglevel=4, as Keel boots with loglevel=4.
LINUX_CMDLINE = "console=ttyS0 quiet panic=-1"
INIT_LINE = re.compile(r"peer: init (\d+) ns\n")
READY = "peer: ready\n"
DONE = re.compile(r"peer: done (\d+)\n")
TRACEFS = "/sys/kernel/tracing"

# /init: the first line it prints is "the first /init line" of the boot
# figure, carrying the guest's monotonic clock (ns since boot, from
# /proc/timer_list, read without forking). Each command runs in a subshell
# with stdin from /dev/null, so a failing or reading command cannot end init
# or eat the next command.
INIT_SCRIPT = """#!/bin/sh
# The Linux peer's /init (scripts/keel/peer.py).
export PATH=/bin
mount -t proc proc /proc
while read -r first second now rest; do
    [ "$first $second" = "now at" ] && break
done < /proc/timer_list
echo "peer: init $now ns"
[ -e /bin/stty ] || busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tracefs tracefs /sys/kernel/tracing
stty -echo
echo "peer: ready"
while IFS= read -r line; do
    (eval "$line") < /dev/null
    echo "peer: done $?"
done
poweroff -f
"""


class PeerError(Exception):
    """The peer could not be fetched, booted or measured."""


def _sudo():
    return [] if os.geteuid() == 0 else ["sudo"]


def _run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        said = (result.stderr or result.stdout)[-2000:]
        raise PeerError(f"{' '.join(command)} failed ({result.returncode}):\n{said}")
    return result.stdout


@functools.lru_cache(maxsize=None)
def _host_arch():
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()


def _apt_options(arch):
    """apt's options for Debian architecture `arch`: none for the host's;
    for another, package lists of that architecture alone, kept in a state
    and cache directory of their own (CACHE/linux-peer/ARCH/apt), so the
    machine's apt configuration and package lists stay untouched."""
    if arch is None or arch == _host_arch():
        return []
    state = os.path.join(CACHE, "linux-peer", arch, "apt")
    for directory in ("state/lists/partial", "cache/archives/partial"):
        os.makedirs(os.path.join(state, directory), exist_ok=True)
    return ["-o", f"Dir::State={state}/state", "-o", f"Dir::Cache={state}/cache", "-o", f"APT::Architecture={arch}",
            "-o", f"APT::Architectures::={arch}"]


def _apt_update(log, arch=None):
    options = _apt_options(arch)
    log("peer: apt-get update" + (f" (the {arch} package lists, kept apart)" if options else ""))
    sandbox = ["-o", "APT::Sandbox::User=root"] if options and os.geteuid() == 0 else []
    _run(([] if options else _sudo()) + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update", "-qq"] +
         options + sandbox)


def _candidate(package, arch=None):
    """(package, version) apt would install for `package`, or None."""
    result = subprocess.run(["apt-cache"] + _apt_options(arch) + ["show", "--no-all-versions", package],
                            capture_output=True, text=True)
    match = re.search(r"^Version: (\S+)$", result.stdout, re.M) if result.returncode == 0 else None
    return (package, match.group(1)) if match else None


def _kernel_package(arch=None):
    """The real kernel package the cloud metapackage depends on."""
    metapackage, kernel_package = METAPACKAGE, KERNEL_PACKAGE
    if arch:
        metapackage = f"linux-image-cloud-{arch}"
        kernel_package = re.compile(rf"^linux-image-\d\S*-cloud-{re.escape(arch)}$")
    result = subprocess.run(["apt-cache"] + _apt_options(arch) + ["depends", metapackage], capture_output=True,
                            text=True)
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "Depends:" and kernel_package.match(fields[1]):
            return _candidate(fields[1], arch)
    return None


def _resolve(find, what, log, arch=None):
    found = find()
    if found is None:       # a fresh machine: no package lists yet, or old ones
        _apt_update(log, arch)
        found = find()
    if found is None:
        raise PeerError(f"apt cannot find {what} (is Debian's archive in the apt sources?)")
    return found


def _download(package, version, directory, log, arch=None):
    """apt-get download into `directory`; returns the .deb's path."""
    def attempt():
        # As root, apt drops to its _apt user for downloads, finds it cannot
        # write to the root-owned cache and warns before downloading as root.
        sandbox = ["-o", "APT::Sandbox::User=root"] if os.geteuid() == 0 else []
        result = subprocess.run(["apt-get", "download", "-q"] + _apt_options(arch) + sandbox + [f"{package}={version}"],
                                cwd=directory, capture_output=True, text=True)
        debs = [name for name in os.listdir(directory) if name.endswith(".deb")]
        return (os.path.join(directory, debs[0]) if result.returncode == 0 and len(debs) == 1 else None), result

    log(f"peer: apt-get download {package}={version}")
    deb, result = attempt()
    if deb is None:         # old package lists name a version the archive no longer has
        _apt_update(log, arch)
        deb, result = attempt()
    if deb is None:
        raise PeerError(f"apt-get download {package}={version} failed:\n{(result.stderr or result.stdout)[-2000:]}")
    return deb


def _fetch_package(package, version, log, arch=None):
    """The cache directory holding `package`'s .deb and its file list,
    downloaded once; a half-written directory is never taken for a whole one.
    A foreign architecture's packages have a directory of their own."""
    top = os.path.join(CACHE, "linux-peer", *([arch] if _apt_options(arch) else []))
    directory = os.path.join(top, f"{package}_{version.replace(':', '%3a')}")
    if os.path.exists(os.path.join(directory, "complete")):
        return directory
    os.makedirs(os.path.dirname(directory), exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=".fetch-", dir=os.path.dirname(directory))
    os.chmod(scratch, 0o755)
    try:
        deb = _download(package, version, scratch, log, arch)
        os.rename(deb, os.path.join(scratch, "package.deb"))
        listing = _list_package(os.path.join(scratch, "package.deb"))
        with open(os.path.join(scratch, "contents"), "w") as out:
            out.write("\n".join(listing) + "\n")
        with open(os.path.join(scratch, "complete"), "w") as out:
            out.write(f"{package} {version}\n")
        if os.path.exists(directory):
            shutil.rmtree(directory)
        os.rename(scratch, directory)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    # Older versions of the same package are of no further use.
    for name in os.listdir(os.path.dirname(directory)):
        if name.startswith(package + "_") and name != os.path.basename(directory):
            shutil.rmtree(os.path.join(os.path.dirname(directory), name), ignore_errors=True)
    return directory


def _list_package(deb):
    """Regular files in a .deb, as './path' names."""
    return [line.split()[-1] for line in _run(["dpkg-deb", "--contents", deb]).splitlines() if line.startswith("-")]


def _extract(deb, member, target):
    """Copy one file out of a .deb to `target`."""
    with tempfile.TemporaryDirectory(dir=os.path.dirname(target)) as scratch:
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
        extract = subprocess.run(["tar", "-x", "-C", scratch, member], stdin=tar.stdout, capture_output=True, text=True)
        tar.stdout.close()
        if tar.wait() != 0 or extract.returncode != 0:
            raise PeerError(f"cannot extract {member} from {deb}: {extract.stderr.strip()}")
        os.rename(os.path.join(scratch, member), target)


def _decompress(path):
    """Modules may ship compressed (.ko.xz, .ko.zst, .ko.gz): finit_module
    would decompress them in the kernel and Keel's modules are not
    compressed, so the initramfs gets them decompressed on the host."""
    if path.endswith(".xz"):
        with lzma.open(path) as source:
            return source.read()
    if path.endswith(".gz"):
        with gzip.open(path) as source:
            return source.read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
    with open(path, "rb") as source:
        return source.read()


class LinuxAssets:
    """Debian's cloud kernel and a static busybox, from the cache."""

    def __init__(self, kernel_dir, busybox_dir, arch="amd64"):
        self.arch = arch            # Debian's name: amd64, arm64
        self.kernel_dir = kernel_dir
        self.busybox_dir = busybox_dir
        with open(os.path.join(kernel_dir, "complete")) as marker:
            self.package, self.version = marker.read().split()
        with open(os.path.join(kernel_dir, "contents")) as listing:
            self.contents = listing.read().split()
        vmlinuz = [name for name in self.contents if re.match(r"\./boot/vmlinuz-", name)]
        if len(vmlinuz) != 1:
            raise PeerError(f"{self.package} holds {len(vmlinuz)} vmlinuz files")
        self.release = vmlinuz[0][len("./boot/vmlinuz-"):]

    @classmethod
    def fetch(cls, log=None, arch=None):
        """Download (once) and return the assets; raises PeerError. arch:
        Debian's architecture (amd64 when None)."""
        log = log or (lambda message: None)
        metapackage = f"linux-image-cloud-{arch}" if arch else METAPACKAGE
        package, version = _resolve(lambda: _kernel_package(arch), f"{metapackage}'s kernel package", log, arch)
        kernel_dir = _fetch_package(package, version, log, arch)
        busybox, version = _resolve(lambda: _candidate(BUSYBOX_PACKAGE, arch), BUSYBOX_PACKAGE, log, arch)
        return cls(kernel_dir, _fetch_package(busybox, version, log, arch), arch or "amd64")

    @property
    def foreign(self):
        """True when the kernel and busybox are not the host's architecture."""
        return bool(_apt_options(self.arch))

    def _file(self, directory, member, name):
        target = os.path.join(directory, "files", name)
        if not os.path.exists(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            _extract(os.path.join(directory, "package.deb"), member, target)
        return target

    @property
    def vmlinuz(self):
        return self._file(self.kernel_dir, f"./boot/vmlinuz-{self.release}", "vmlinuz")

    @property
    def config(self):
        return self._file(self.kernel_dir, f"./boot/config-{self.release}", "config")

    @property
    def busybox(self):
        path = self._file(self.busybox_dir, "./bin/busybox", "busybox")
        os.chmod(path, 0o755)
        return path

    def module(self, name):
        """Host path of module `name` ('crc-itu-t' or 'crc_itu_t'),
        decompressed when the package ships it compressed."""
        name = self.module_file_name(name)
        pattern = re.compile(rf"^\./lib/modules/{re.escape(self.release)}/kernel/.*/{re.escape(name)}"
                             r"\.ko(\.xz|\.gz|\.zst)?$")
        members = [member for member in self.contents if pattern.match(member)]
        if len(members) != 1:
            raise PeerError(f"{self.package} holds {len(members)} modules named {name}")
        if members[0].endswith(".ko"):
            return self._file(self.kernel_dir, members[0], f"modules/{name}.ko")
        target = os.path.join(self.kernel_dir, "files", "modules", name + ".ko")
        if not os.path.exists(target):
            data = _decompress(self._file(self.kernel_dir, members[0], "packed/" + os.path.basename(members[0])))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target + ".tmp", "wb") as out:
                out.write(data)
            os.rename(target + ".tmp", target)
        return target

    def module_dependencies(self, name):
        """Modules `name` needs loaded first (its modinfo `depends=`), in
        load order, each before the modules that need it."""
        order = []

        def visit(module):
            with open(self.module(module), "rb") as source:
                match = re.search(rb"\0depends=([^\0]*)\0", source.read())
            for dependency in filter(None, (match.group(1).decode().split(",") if match else [])):
                file_name = self.module_file_name(dependency)
                if file_name not in order:
                    visit(file_name)
                    order.append(file_name)

        visit(name)
        return order

    def module_stack(self, names):
        """The modules to load for `names`, each once, every one after the
        modules it needs."""
        modules = []
        for name in names:
            for module in self.module_dependencies(name) + [name]:
                if module not in modules:
                    modules.append(module)
        return modules

    def module_file_name(self, module_name):
        """A module's file name (crc_itu_t -> crc-itu-t): Linux treats - and _ alike."""
        wanted = module_name.replace("-", "_")
        for member in self.contents:
            base, dot_ko, _ = os.path.basename(member).partition(".ko")
            if dot_ko and member.startswith(f"./lib/modules/{self.release}/") and base.replace("-", "_") == wanted:
                return base
        raise PeerError(f"{self.package} has no module {module_name}")

    def kernel_config(self, option):
        """The value of CONFIG_`option` in the kernel's config, or None."""
        with open(self.config) as config:
            match = re.search(rf"^CONFIG_{option}=(.*)$", config.read(), re.M)
        return match.group(1) if match else None


def linux_initramfs(assets, files, scratch):
    """A cpio archive (built with Keel's gen_init_cpio) holding busybox with
    a link per applet, /init and `files` ({guest path: host path or bytes});
    returns its path, in `scratch`."""
    if not os.path.exists(GEN_INIT_CPIO):
        raise PeerError(f"{GEN_INIT_CPIO} is missing: build Keel first (scripts/build)")
    # A foreign busybox: the applets /init runs before its first line; it
    # installs the rest itself.
    applets = ["sh", "mount"] if assets.foreign else _run([assets.busybox, "--list"]).split()
    directories = {"/bin", "/dev", "/proc", "/sys", "/tmp"}
    lines = ["nod /dev/console 0600 0 0 c 5 1", f"file /bin/busybox {assets.busybox} 0755 0 0"]
    lines += [f"slink /bin/{applet} busybox 0777 0 0" for applet in applets if applet != "busybox"]
    contents = dict(files, **{"/init": INIT_SCRIPT.encode()})
    for number, (guest_path, source) in enumerate(sorted(contents.items())):
        if not guest_path.startswith("/") or any(c.isspace() for c in guest_path):
            raise PeerError(f"bad guest path {guest_path!r}")
        if isinstance(source, bytes):
            path = os.path.join(scratch, f"content{number}")
            with open(path, "wb") as out:
                out.write(source)
            source = path
        mode = "0755" if guest_path == "/init" or os.access(source, os.X_OK) else "0644"
        lines.append(f"file {guest_path} {source} {mode} 0 0")
        parent = os.path.dirname(guest_path)
        while parent != "/":
            directories.add(parent)
            parent = os.path.dirname(parent)
    spec = os.path.join(scratch, "initramfs.spec")
    with open(spec, "w") as out:
        out.write("\n".join([f"dir {d} 0755 0 0" for d in sorted(directories)] + lines) + "\n")
    archive = os.path.join(scratch, "initramfs.cpio")
    _run([GEN_INIT_CPIO, "-o", archive, spec])
    return archive


# function_graph lines (with funcgraph-tail): a call with nothing traced
# inside it is "  0) + 56.936 us   |    module_sig_check();", one with traced
# calls inside ends with "  0) # 2757.171 us |  } /* __x64_sys_finit_module */".
# The duration carries a marker for its size (+ ! # * @ $) that we ignore.
FUNCGRAPH_LEAF = re.compile(r"(\d+(?:\.\d+)?) us\s+\|\s+([\w.]+)\(\);")
FUNCGRAPH_CLOSE = re.compile(r"(\d+(?:\.\d+)?) us\s+\|\s+\} /\* ([\w.]+) \*/")


def parse_funcgraph(text):
    """{function: [durations in us, in call order]} from function_graph output."""
    durations = {}
    for line in text.splitlines():
        match = FUNCGRAPH_LEAF.search(line) or FUNCGRAPH_CLOSE.search(line)
        if match:
            durations.setdefault(match.group(2), []).append(float(match.group(1)))
    return durations


def interleave(name, runs, keel_round, linux_round=None):
    """Call keel_round() and linux_round() (when given) `runs` times each,
    alternating which goes first so drift on a shared host cancels; returns
    (Keel's results, Linux's results) in call order."""
    keel, linux = [], []
    for run in range(runs):
        print(f"{name}: run {run + 1} of {runs}", file=sys.stderr, flush=True)
        sides = [lambda: keel.append(keel_round())]
        if linux_round:
            sides.append(lambda: linux.append(linux_round()))
        for side in (sides if run % 2 == 0 else reversed(sides)):
            side()
    return keel, linux


def ratio_row(label, keel, linux, unit, target, linux_over_keel=True, digits=1):
    """One line of a benchmark's table: Keel's figure, Linux's (None when
    the peer did not run), their ratio, and whether it meets `target`
    (Linux over Keel for times and sizes, Keel over Linux for rates)."""
    text = f"  {label:<52}{keel:10.{digits}f} {unit:<5}"
    if linux is not None:
        ratio = linux / keel if linux_over_keel else keel / linux
        text += (f"{linux:10.{digits}f} {unit:<5}{ratio:8.2f} x   target {target} x: "
                 f"{'met' if ratio >= target else 'NOT MET'}")
    return text


def host_wait_share(pid):
    """The share of its runnable time process `pid` (all its threads) has
    spent waiting for a host CPU so far, from the scheduler's statistics; or
    None. Guest clocks under TCG follow the host's clock, so a guest interval
    longer than a host time slice (a few ms) grows with this wait, while a
    much shorter one is mostly measured between two waits."""
    run = wait = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as stats:
                fields = stats.read().split()
            run, wait = run + int(fields[0]), wait + int(fields[1])
    except (OSError, ValueError, IndexError):
        return None
    return wait / (run + wait) if run + wait else None


class Guest:
    """One boot of a kernel under machine.qemu_command. After start():
    boot_wall is the host's time from QEMU's start to the kernel being ready
    (Keel's prompt, Linux's first /init line) and boot_guest the guest's own
    clock at that point (seconds, or None). After stop(): host_wait, the
    share of QEMU's runnable time spent waiting for a host CPU (a busy host
    inflates long guest intervals most: host_wait_share)."""

    name = "guest"

    def __init__(self):
        self.vm = None
        self.boot_wall = None
        self.boot_guest = None
        self.host_wait = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, devices=(), timeout=120):
        raise NotImplementedError

    def run(self, command, timeout=60):
        """Run one command in the guest and return what it printed."""
        raise NotImplementedError

    def stop(self):
        """Power off (kill QEMU). Sets host_wait first."""
        if self.vm and self.vm.process and self.vm.process.poll() is None:
            self.host_wait = host_wait_share(self.vm.process.pid)
        if self.vm:
            self.vm.kill()

    def _boot(self, vm, ready, timeout):
        self.vm = vm
        vm.start()
        match = vm.expect(ready, timeout)
        self.boot_wall = time.monotonic() - vm.started_at
        return match


class KeelGuest(Guest):
    """Keel at its console prompt; run() is a console command. The boot log
    (dmesg) is kept in boot_log."""

    name = "Keel"

    def __init__(self, cmdline="loglevel=4", initrd=machine.DEFAULT, memory="256M", kernel=machine.KERNEL):
        super().__init__()
        self.options = dict(cmdline=cmdline, initrd=initrd, memory=memory, kernel=kernel)
        self.boot_log = ""

    def start(self, devices=(), timeout=60):
        self._boot(machine.Machine(extra=devices, **self.options), machine.PROMPT, timeout)
        self.boot_log = self.run("dmesg")
        match = re.search(r"boot: core up in (\d+) us", self.boot_log)
        self.boot_guest = int(match.group(1)) / 1e6 if match else None
        return self

    def run(self, command, timeout=60):
        return self.vm.command_output(command, timeout)


class LinuxGuest(Guest):
    """Debian's cloud kernel with a busybox initramfs holding `files`
    ({guest path: host path or bytes}); run() is a busybox shell command,
    whose non-zero exit status raises PeerError unless check=False.

    uboot (arm64) boots it as Keel boots through U-Boot: the kernel and the
    initramfs in one FIT signed with the same boot key (scripts/make-fit.py),
    verified and started by the same U-Boot with the same boot command
    (machine.Machine(uboot=...)): "keel" (or True) the project's U-Boot,
    "debian" Debian's; the host's time to U-Boot's "Starting kernel" is
    then uboot_wall, and to its "## Loading kernel" (where it starts
    reading the FIT) uboot_start."""

    def __init__(self, assets, files=None, memory="256M", cmdline="", uboot=False):
        super().__init__()
        self.assets = assets
        self.name = f"Linux {assets.release}"
        self.files = dict(files or {})
        self.memory = memory
        console = CONSOLE.get(assets.arch, "ttyS0")
        self.cmdline = f"{LINUX_CMDLINE.replace('ttyS0', console)} {cmdline}".strip()
        self.uboot = ("keel" if uboot is True else uboot) or None
        self.uboot_wall = None
        self.uboot_start = None
        self.scratch = None

    def start(self, devices=(), timeout=120):
        self.scratch = tempfile.mkdtemp(prefix="keel-peer-")
        initrd = linux_initramfs(self.assets, self.files, self.scratch)
        arch = {debian: ours for ours, debian in DEBIAN_ARCH.items()}.get(self.assets.arch, machine.ARCH)
        if self.uboot:
            fit = os.path.join(self.scratch, "linux.itb")
            _run([sys.executable, os.path.join(machine.ROOT, "scripts", "make-fit.py"), "fit", "--kernel",
                  self.assets.vmlinuz, "--initramfs", initrd, "--key-dir", machine.uboot_settings()["key_dir"],
                  "--output", fit])
            vm = machine.Machine(uboot=fit, cmdline=self.cmdline, memory=self.memory, extra=devices, arch=arch,
                                 uboot_firmware=self.uboot)
        else:
            vm = machine.Machine(kernel=self.assets.vmlinuz, initrd=initrd, cmdline=self.cmdline,
                                 memory=self.memory, extra=devices, arch=arch)
        try:
            if self.uboot:
                self.vm = vm
                vm.start()
                vm.expect(machine.UBOOT_READS_FIT, timeout)
                self.uboot_start = time.monotonic() - vm.started_at
                vm.expect("Starting kernel", timeout)
                self.uboot_wall = time.monotonic() - vm.started_at
                match = vm.expect(INIT_LINE, timeout)
                self.boot_wall = time.monotonic() - vm.started_at
            else:
                match = self._boot(vm, INIT_LINE, timeout)
            self.boot_guest = int(match.group(1)) / 1e9
            vm.expect(READY, 30)
        except machine.Timeout as error:
            self.stop()
            raise PeerError(f"Linux did not reach its /init: {error}") from None
        return self

    def run(self, command, timeout=60, check=True):
        if "\n" in command or "\r" in command:
            raise PeerError("one command line at a time")
        self.vm.send(command)
        start = self.vm.cursor
        try:
            match = self.vm.expect(DONE, timeout)
        except machine.Timeout as error:
            raise PeerError(f"Linux guest: {command!r}: {error}") from None
        output = self.vm.output[start:match.start()]
        if check and match.group(1) != "0":
            raise PeerError(f"Linux guest: {command!r} exited with {match.group(1)}:\n{output[-2000:]}")
        return output

    def trace(self, functions, command, timeout=600, sleep_time=True):
        """Run `command` with function_graph timing `functions` (and nothing
        else); returns parse_funcgraph's {function: [us, ...]}. Durations
        run from entry to return on the trace clock; with sleep_time=False
        they leave out the time the task was scheduled out (a wait for an
        RCU grace period, for I/O)."""
        names = " ".join(functions)
        self.run(f"cd {TRACEFS} && echo 0 > tracing_on && echo nop > current_tracer && echo > set_ftrace_filter && "
                 f"for f in {names}; do echo $f >> set_ftrace_filter || "
                 "{ echo \"peer: $f cannot be traced\"; exit 1; }; done && "
                 f"echo {int(sleep_time)} > options/sleep-time && echo function_graph > current_tracer && "
                 "echo 1 > options/funcgraph-tail && echo > trace && echo 1 > tracing_on")
        try:
            self.run(command, timeout)
        finally:
            self.run(f"echo 0 > {TRACEFS}/tracing_on")
        text = self.run(f"cat {TRACEFS}/trace && echo nop > {TRACEFS}/current_tracer", timeout=120)
        return parse_funcgraph(text)

    def stop(self):
        super().stop()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
