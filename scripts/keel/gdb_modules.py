"""GDB support for Keel's modules: their symbols follow them in and out.

Sourced by scripts/gdb (`source scripts/keel/gdb_modules.py` inside GDB, with
the kernel's keel.elf loaded as the main symbol file). It

  * keeps a breakpoint on `keel_gdb_modules_changed`, which the loader calls
    after every change to its module list (loader/registry.cpp); the
    breakpoint never stops: it walks the list through `keel_gdb_modules` and
    runs `add-symbol-file FILE -o BASE` for each module that appeared (a
    module is linked at 0, so BASE, its load address, is the offset of every
    section) and `remove-symbol-file FILE` for each module that went;
  * finds a module's file by the module's name: the `.kmod` files in the
    search directories are indexed by the `name=` entry of their modinfo
    notes (docs/module-format.md), falling back to the file stem; the symbols
    come from NAME.kmod.debug beside it when there is one (the unstripped
    image of a module shipped without debug information). A file whose
    size differs from the copy the kernel holds is stale; then, as for a
    module found nowhere, the kernel's own copy is read out of guest memory
    into a temporary file and used instead;
  * adds commands: `keel-attach` (run after `target remote`: lets a kernel
    that QEMU holds at reset (-S) run to `kernel_main`, then installs the
    breakpoint and reads the modules already loaded), `keel-modules` (what
    GDB knows), `keel-modules-sync` (walk the list again), `keel-modules-path
    DIR...` (directories to search, first match wins).

Everything read from the guest is checked: a corrupt list or a module that
names a bad address gives a warning, never an exception that would leave GDB
stopped in the middle of a continue. See docs/debugging.md.
"""

import contextlib
import os
import sys
import tempfile

import gdb

# GDB sources this file as a script: make its package (scripts/keel) importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from keel import elf  # noqa: E402

KERNEL_BASE = 0xFFFFFFFF80000000  # the kernel runs in the higher half (arch/x86_64)
HOOK = "keel_gdb_modules_changed"
LIST = "keel_gdb_modules"
LIST_FALLBACK = "'keel::(anonymous namespace)::g_modules'"
MAX_MODULES = 4096          # a longer walk means a corrupt (cyclic) list
MAX_GUEST_FILE = 64 << 20   # refuse to copy a larger "module file" out of the guest


def warn(message):
    gdb.write(f"keel: {message}\n", gdb.STDERR)


def info(message):
    if State.verbose:
        gdb.write(f"keel: {message}\n")


def modinfo_name(path):
    """The `name=` entry of a .kmod's Keel modinfo notes, or None.

    The notes are read through the program headers (PT_NOTE), as the loader
    reads them; a file that is not a readable module just has no name.
    """
    try:
        notes = elf.read(path).segment_notes()
    except (OSError, elf.ElfError):
        return None
    for name, note_type, text in notes:
        if note_type == 1 and name == b"Keel\0":
            text = text.split(b"\0")[0]
            if text.startswith(b"name="):
                return text[5:].decode("ascii", "replace")
    return None


class ModuleFiles:
    """Module name -> .kmod path, over the search directories."""

    def __init__(self):
        self.directories = []
        self.index = None

    def set_directories(self, directories):
        self.directories = [os.path.abspath(os.path.expanduser(d)) for d in directories]
        self.index = None

    def _build(self):
        index = {}
        for directory in self.directories:
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                continue
            for entry in names:
                if not entry.endswith(".kmod"):
                    continue
                path = os.path.join(directory, entry)
                # The first directory that has a module wins; the modinfo name
                # before the stem (a vendor's foo-1.2.kmod holds module "foo").
                for name in (modinfo_name(path), entry[:-len(".kmod")]):
                    if name and name not in index:
                        index[name] = path
        self.index = index

    def find(self, name):
        if self.index is None or name not in self.index:
            self._build()  # a module built since the last look
        return self.index.get(name)


class LoadedModule:
    def __init__(self, name, base, span, file_address, file_size):
        self.name = name
        self.base = base
        self.span = span
        self.file_address = file_address
        self.file_size = file_size
        self.symbol_file = None     # what add-symbol-file was given
        self.from_guest = False     # symbol_file is a copy read out of the guest

    @property
    def key(self):
        return (self.name, self.base)


class State:
    verbose = True
    files = ModuleFiles()
    loaded = {}                     # key -> LoadedModule with symbols added
    temporary = None                # TemporaryDirectory for copies out of the guest
    breakpoint = None


def read_module_list():
    """The modules in the kernel's list, as LoadedModule objects."""
    try:
        head = gdb.parse_and_eval(LIST).dereference()
    except gdb.error:
        head = gdb.parse_and_eval(LIST_FALLBACK)
    module_type = gdb.lookup_type("keel::Module")
    node_offset = next(field.bitpos // 8 for field in module_type.fields() if field.name == "node")
    sentinel = head["m_sentinel"].address
    node = head["m_sentinel"]["m_next"]
    modules = []
    for _ in range(MAX_MODULES):
        if node == sentinel:
            return modules
        if int(node) == 0:
            raise gdb.error("a null link in the module list")
        address = int(node) - node_offset
        module = gdb.Value(address).cast(module_type.pointer()).dereference()
        name_field = module["name"]
        name = bytes(gdb.selected_inferior().read_memory(name_field.address, name_field.type.sizeof)).split(b"\0")[0]
        modules.append(LoadedModule(name.decode("ascii", "replace"), int(module["base"]), int(module["span"]),
                                    int(module["file"]), int(module["file_size"])))
        node = node["m_next"]
    raise gdb.error(f"the module list has more than {MAX_MODULES} entries (corrupt?)")


def copy_from_guest(module):
    if module.file_address == 0 or not 0 < module.file_size <= MAX_GUEST_FILE:
        warn(f"{module.name}: the kernel holds no usable copy of the file "
             f"(file=0x{module.file_address:x} file_size={module.file_size})")
        return None
    if State.temporary is None:
        State.temporary = tempfile.TemporaryDirectory(prefix="keel-gdb-")
    path = os.path.join(State.temporary.name, f"{module.name}@{module.base:x}.kmod")
    try:
        data = gdb.selected_inferior().read_memory(module.file_address, module.file_size)
        with open(path, "wb") as file:
            file.write(bytes(data))
    except (gdb.MemoryError, OSError) as error:
        warn(f"{module.name}: cannot copy the module file out of the guest: {error}")
        return None
    return path


def choose_symbol_file(module):
    path = State.files.find(module.name)
    if path:
        try:
            size = os.path.getsize(path)
        except OSError:
            size = None
        if size == module.file_size:
            # The build ships modules stripped and keeps their debug
            # information beside them (NAME.kmod.debug).
            debug = path + ".debug"
            return (debug if os.path.exists(debug) else path), False
        warn(f"{module.name}: {path} has {size} bytes but the loaded file had {module.file_size} "
             f"(stale build?); using the kernel's copy")
    else:
        info(f"{module.name}: no {module.name}.kmod in {', '.join(State.files.directories) or '(no directories)'}; "
             f"using the kernel's copy")
    guest = copy_from_guest(module)
    return guest, guest is not None


def add_symbols(module):
    path, from_guest = choose_symbol_file(module)
    if not path:
        return
    try:
        gdb.execute(f"add-symbol-file {quote(path)} -o 0x{module.base:x}", to_string=True)
    except gdb.error as error:
        warn(f"{module.name}: add-symbol-file {path} failed: {error}")
        return
    module.symbol_file, module.from_guest = path, from_guest
    State.loaded[module.key] = module
    info(f"{module.name}: symbols from {path} at 0x{module.base:x}")


def remove_symbols(module):
    State.loaded.pop(module.key, None)
    try:
        gdb.execute(f"remove-symbol-file {quote(module.symbol_file)}", to_string=True)
    except gdb.error as error:
        warn(f"{module.name}: remove-symbol-file {module.symbol_file} failed: {error}")
    if module.from_guest:
        try:
            os.remove(module.symbol_file)
        except OSError:
            pass
    info(f"{module.name}: symbols removed")


def quote(path):
    # GDB splits add-symbol-file's arguments like a shell (gdb_buildargv).
    return "'" + path.replace("'", "'\\''") + "'" if any(c in path for c in " '\"\\\t") else path


def sync():
    """Make GDB's module symbol files match the kernel's list."""
    try:
        current = read_module_list()
    except (gdb.error, gdb.MemoryError, StopIteration) as error:
        warn(f"cannot read the module list: {error}")
        return
    with unconfirmed():
        present = {module.key for module in current}
        for key in [key for key in State.loaded if key not in present]:
            remove_symbols(State.loaded[key])
        for module in current:
            if module.key not in State.loaded and module.base:
                add_symbols(module)


@contextlib.contextmanager
def unconfirmed():
    """add-/remove-symbol-file ask "(y or n)" in an interactive session."""
    confirm = gdb.parameter("confirm")
    gdb.execute("set confirm off", to_string=True)
    try:
        yield
    finally:
        gdb.execute(f"set confirm {'on' if confirm else 'off'}", to_string=True)


class ModulesChangedBreakpoint(gdb.Breakpoint):
    """At the loader's hook: sync, then carry on without stopping."""

    def __init__(self):
        super().__init__(HOOK, type=gdb.BP_BREAKPOINT, internal=True)
        self.silent = True

    def stop(self):
        # An exception escaping here would stop the kernel at the hook.
        try:
            sync()
        except Exception as error:  # noqa: BLE001 (anything: keep the kernel running)
            warn(f"module symbols not updated: {error!r}")
        return False


def install():
    if State.breakpoint is None or not State.breakpoint.is_valid():
        if gdb.lookup_global_symbol(HOOK) is None and gdb.lookup_static_symbol(HOOK) is None:
            warn(f"the kernel has no {HOOK}: module symbols will not follow loads "
                 f"(run keel-modules-sync after each)")
        else:
            State.breakpoint = ModulesChangedBreakpoint()
    sync()


def default_directories():
    """BUILD/modules and BUILD/tests/modules, BUILD being keel.elf's ../.."""
    kernel = gdb.current_progspace().filename
    if not kernel:
        return []
    build = os.path.dirname(os.path.dirname(os.path.abspath(kernel)))
    return [os.path.join(build, "modules"), os.path.join(build, "tests", "modules")]


class KeelAttach(gdb.Command):
    """Get an attached kernel ready for module debugging.

Run after `target remote`. When QEMU holds the CPU before the kernel runs
(scripts/run --gdb), continue to kernel_main with a hardware breakpoint (a
software one cannot be planted in the higher half before paging is on).
Then install the module-list breakpoint and add the symbols of every module
already loaded."""

    def __init__(self):
        super().__init__("keel-attach", gdb.COMMAND_USER)

    def invoke(self, argument, from_tty):
        if State.files.index is None and not State.files.directories:
            State.files.set_directories(default_directories())
        pc = int(gdb.parse_and_eval("$pc"))
        if pc < KERNEL_BASE:
            gdb.write("keel: the kernel has not started; running it to kernel_main\n")
            gdb.execute("thbreak kernel_main", to_string=True)
            gdb.execute("continue")
        install()
        gdb.write(f"keel: {len(State.loaded)} module(s) with symbols; more follow as they load\n")


class KeelModules(gdb.Command):
    """List the modules whose symbols GDB has: name, load address, file."""

    def __init__(self):
        super().__init__("keel-modules", gdb.COMMAND_USER)

    def invoke(self, argument, from_tty):
        if not State.loaded:
            gdb.write("keel: no module symbols loaded\n")
        for module in sorted(State.loaded.values(), key=lambda m: m.base):
            origin = " (copied from the guest)" if module.from_guest else ""
            gdb.write(f"{module.name:<20} 0x{module.base:016x} {module.span:>8} {module.symbol_file}{origin}\n")


class KeelModulesSync(gdb.Command):
    """Walk the kernel's module list again and add or drop symbol files."""

    def __init__(self):
        super().__init__("keel-modules-sync", gdb.COMMAND_USER)

    def invoke(self, argument, from_tty):
        sync()


class KeelModulesPath(gdb.Command):
    """keel-modules-path DIR... : where to look for NAME.kmod (in order).
Without arguments, print the directories. Default: BUILD/modules and
BUILD/tests/modules next to the kernel's keel.elf."""

    def __init__(self):
        super().__init__("keel-modules-path", gdb.COMMAND_USER, gdb.COMPLETE_FILENAME)

    def invoke(self, argument, from_tty):
        directories = gdb.string_to_argv(argument)
        if directories:
            missing = [d for d in directories if not os.path.isdir(os.path.expanduser(d))]
            if missing:
                raise gdb.GdbError(f"keel-modules-path: not a directory: {', '.join(missing)}")
            State.files.set_directories(directories)
        for directory in State.files.directories or default_directories():
            gdb.write(f"{directory}\n")


class KeelVerbose(gdb.Parameter):
    """Whether keel prints each module symbol file it adds or removes."""

    set_doc = "Set whether module symbol changes are reported."
    show_doc = "Show whether module symbol changes are reported."

    def __init__(self):
        super().__init__("keel-verbose", gdb.COMMAND_DATA, gdb.PARAM_BOOLEAN)
        self.value = State.verbose

    def get_set_string(self):
        State.verbose = bool(self.value)
        return ""


def on_exit(event):
    # The target is gone, and its modules with it: a new session starts
    # from the kernel's symbols alone.
    with unconfirmed():
        for module in list(State.loaded.values()):
            remove_symbols(module)


KeelAttach()
KeelModules()
KeelModulesSync()
KeelModulesPath()
KeelVerbose()
gdb.events.exited.connect(on_exit)
