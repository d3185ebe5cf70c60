"""Reading QEMU's TCG logs for the profilers (scripts/tb-profile.py,
scripts/exec-profile.py): the blocks QEMU translated (`-d in_asm`), the
blocks it entered (`-d exec` with `nochain`, so that every entry goes
through QEMU's loop and is logged), and the kernel's code symbols to
attribute them to."""

import collections
import re
import subprocess

from keel import elf

BLOCK = re.compile(r"^IN:")
INSTRUCTION = re.compile(r"^(?:0x)?([0-9a-f]{8,16}):")
EXECUTION = re.compile(r"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")


def log_events(log_path):
    """The log's blocks and block entries in order: ("translated", start,
    guest instructions) once a block's listing (`-d in_asm`) ends, and
    ("entered", start) for each entry (`-d exec`)."""
    start, count, listing = None, 0, False
    with open(log_path, errors="replace") as log:
        for line in log:
            block, entry = BLOCK.match(line), EXECUTION.match(line)
            if block or entry:
                if start is not None:
                    yield "translated", start, count
                start, count, listing = None, 0, bool(block)
                if entry:
                    yield "entered", int(entry.group(1), 16)
                continue
            match = INSTRUCTION.match(line)
            if match and listing:
                if start is None:
                    start = int(match.group(1), 16)
                count += 1
    if start is not None:
        yield "translated", start, count


def translated_blocks(log_path):
    """[(start address, guest instructions)] in the order QEMU translated them."""
    return [event[1:] for event in log_events(log_path) if event[0] == "translated"]


def kernel_code(elf_path):
    """The kernel's code symbols, sorted by address ([(address, mangled
    name)]), and the address ranges holding its code: its text, and the
    page of its 32-bit boot stub where the linker script has one (x86_64's
    PVH entry). Read with the project's ELF reader (scripts/keel/elf.py);
    the linker script's own markers (`__...`) are left out."""
    with open(elf_path, "rb") as handle:
        image = elf.Elf(handle.read(), elf_path)
    symbols = [symbol for symbol in image.symbols(image.section_of_type(elf.SHT_SYMTAB))
               if symbol.defined and symbol.name]
    named = {symbol.name: symbol.value for symbol in symbols}
    ranges = [(named["__text_start"], named["__text_end"])]
    if "__kernel_phys_start" in named:
        ranges.append((named["__kernel_phys_start"], named["__kernel_phys_start"] + 4096))
    code = sorted((symbol.value, symbol.name) for symbol in symbols
                  if not symbol.name.startswith("__") and any(start <= symbol.value < end for start, end in ranges))
    return code, ranges


def demangled(names):
    """C++ names made readable (llvm-cxxfilt), in the same order."""
    output = subprocess.run(["llvm-cxxfilt"], input="\n".join(names) + "\n", capture_output=True, text=True,
                            check=True).stdout
    return output.splitlines()


def executed_instructions(log_path):
    """{block start: guest instructions executed there} from a log of
    `-d in_asm,nochain,exec`: each entry of a block counts the
    instructions of its translation at that point of the log (a block
    translated again, its page having been written, counts its new size
    from then on; one translated before the log began counts 1 an entry)."""
    sizes = {}
    executed = collections.Counter()
    for event in log_events(log_path):
        if event[0] == "translated":
            sizes[event[1]] = event[2]
        else:
            executed[event[1]] += sizes.get(event[1], 1)
    return dict(executed)


def code_symbols(elf_path, base=0):
    """Every named function and object of an ELF file's symbol table,
    [(address + base, name)] sorted (a module's `.kmod.debug`, placed
    where `lsmod` says it was loaded)."""
    with open(elf_path, "rb") as handle:
        image = elf.Elf(handle.read(), elf_path)
    return sorted((symbol.value + base, symbol.name) for symbol in image.symbols(image.section_of_type(elf.SHT_SYMTAB))
                  if symbol.defined and symbol.name and symbol.value and not symbol.name.startswith("$"))
