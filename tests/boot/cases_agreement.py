"""Pre-flight equals the loader (issue 17): for every module of the test
corpus (the in-tree modules in /lib/modules, tests/modules' modules and the
deliberately broken variants in /lib/test: missing license, hidden entry
point, wrong hash, unknown key, too-new node, tampered signatures, bad ELF
...), `kmodinfo --check-against` on the host and `insmod` on the booted
core give the same verdict, and a refusal the same words: the host's first
refusal is in the loader's message. Both run the same checks
(core/lib/kabi/module_check.h) under module.sig_enforce=1."""

import os
import re
import subprocess

from harness import BUILD, TEST_INITRAMFS, boot, case, check
from cases_modules import lsmod_names

KMODINFO = os.path.join(BUILD, "scripts", "tools", "kmodinfo")
CORE = os.path.join(BUILD, "core", "keel.elf")
SPEC = os.path.join(BUILD, "tests", "modules", "work", "test.spec")
# Host directories holding what /lib/modules has (dependencies by name).
MODULE_DIRECTORIES = [os.path.join(BUILD, "tests", "modules"), os.path.join(BUILD, "modules")]


def corpus():
    """(guest path, host path) of every module in the test initramfs."""
    modules = []
    with open(SPEC) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 3 and fields[0] == "file" and fields[1].endswith(".kmod") \
                    and fields[1].startswith(("/lib/modules/", "/lib/test/")):
                modules.append((fields[1], os.path.expandvars(fields[2])))
    return sorted(modules)


def host_verdict(guest, host):
    """None when kmodinfo says it loads, else its first refusal, with the
    host path written as the guest's."""
    command = [KMODINFO, "--check-against", CORE, "--sig-enforce"]
    for directory in MODULE_DIRECTORIES:
        command += ["-L", directory]
    result = subprocess.run(command + [host], capture_output=True, text=True)
    if result.returncode == 0:
        return None
    for line in result.stdout.splitlines():
        if line.startswith("refused  "):
            return line[len("refused  "):].replace(host, guest)
    return (result.stderr.strip() or result.stdout.strip()).replace(host, guest)


@case
def kmodinfo_agrees_with_the_loader():
    modules = corpus()
    check(len(modules) >= 30, f"the test corpus has only {len(modules)} modules")
    compared = 0
    with boot("panic=-1 module.sig_enforce=1", initrd=TEST_INITRAMFS) as vm:
        before = lsmod_names(vm)
        for guest, host in modules:
            name = os.path.basename(guest)[: -len(".kmod")]
            if name in before or name in ("tmpfs", "nullfs"):
                continue  # loaded at boot: "already loaded" is the registry's business
            expected = host_verdict(guest, host)
            if name == "tmpfs-unknown-key":
                # The boot's tmpfs image signed by an unknown key: both sides
                # trust it by its digest; the loader then finds tmpfs loaded.
                check(expected is None, f"{guest}: the host refused the core's own tmpfs image: {expected}", vm)
                out = vm.command_output(f"insmod {guest}", 60)
                check("a module of that name is already loaded" in out, f"{guest}: {out}", vm)
                compared += 1
                continue
            out = vm.command_output(f"insmod {guest}", 60)
            error = re.search(r"insmod: ERROR: could not insert '[^']*': (.*)", out)
            if error and "keel_module_init failed" in error.group(1):
                # Its init ran and failed: past every check both make.
                check(expected is None, f"{guest}: the host refused what the loader ran: {expected}", vm)
            elif expected is None:
                check(not error, f"{guest}: kmodinfo says it loads, the loader refused: {out}", vm)
            else:
                check(error, f"{guest}: kmodinfo refused ({expected}), the loader loaded it: {out}", vm)
                # A missing module is looked for in different places on
                # each side: the words agree up to where they list them.
                expected = re.sub(r"(: no \w+\.kmod in ).*", r"\1", expected)
                check(expected in error.group(1),
                      f"{guest}: different words:\n  host:  {expected}\n  guest: {error.group(1)}", vm)
            compared += 1
            for _ in range(4):  # users first: a dependency refuses rmmod while needed
                for left in [n for n in lsmod_names(vm) if n not in before]:
                    vm.command_output(f"rmmod {left}")
            check(lsmod_names(vm) == before, f"{guest}: modules left behind: {lsmod_names(vm)}", vm)
    check(compared >= 30, f"only {compared} modules compared")
    print(f"kmodinfo-agrees-with-the-loader: {compared} modules, host verdict = guest verdict")
