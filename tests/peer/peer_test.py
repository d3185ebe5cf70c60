#!/usr/bin/env python3
"""The benchmark harness still boots both kernels and parses their figures
(scripts/keel/peer.py, scripts/keel/modloads.py), with a few loads only:
scripts/bench does the real measuring. Fetches Debian's cloud kernel and
busybox-static for the build's architecture on first use (apt-get, into
KEEL_CACHE); never skips. On aarch64 Linux also boots through both U-Boots
(the project's and Debian's) and a FIT signed with the boot key, as
scripts/bench --arch aarch64 boots it."""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from keel import machine, modloads, peer  # noqa: E402

LOADS = 3

# function_graph output as Linux 6.1 prints it with funcgraph-tail, with
# every duration marker and a context switch in between.
SAMPLE_TRACE = """# tracer: function_graph
#
# CPU  DURATION                  FUNCTION CALLS
# |     |   |                     |   |   |   |
 0)               |  __x64_sys_finit_module() {
 0) # 1306.235 us |    module_sig_check();
 0) # 2757.171 us |  } /* __x64_sys_finit_module */
 ------------------------------------------
 0)   insmod-88    =>    rmmod-89
 ------------------------------------------

 0) * 33338.54 us |  __x64_sys_delete_module();
 0)               |  __x64_sys_finit_module() {
 0) + 56.936 us   |    module_sig_check();
 0) @ 116147.1 us |  } /* __x64_sys_finit_module */
 0)   7.453 us    |  __x64_sys_delete_module();
 0) $ 1234567 us  |  __x64_sys_delete_module();
"""


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def test_parsers():
    durations = peer.parse_funcgraph(SAMPLE_TRACE)
    expected = {"__x64_sys_finit_module": [2757.171, 116147.1], "module_sig_check": [1306.235, 56.936],
                "__x64_sys_delete_module": [33338.54, 7.453, 1234567.0]}
    check(durations == expected, f"parse_funcgraph: {durations}")

    elf = b"\x7fELF" + bytes(range(200))
    trailer = b"S" * 300 + struct.pack(">BBBBBBBBI", 0, 0, 2, 0, 0, 0, 0, 0, 300) + modloads.SIGNATURE_MARKER
    check(modloads.strip_module_signature(elf + trailer) == elf, "strip_module_signature")
    try:
        modloads.strip_module_signature(elf)
        raise Failure("strip_module_signature accepted an unsigned module")
    except peer.PeerError:
        pass


def test_keel():
    with peer.KeelGuest() as guest:
        guest.start()
        check(0 < guest.boot_wall < 60, f"Keel boot wall {guest.boot_wall}")
        check(guest.boot_guest and 0 < guest.boot_guest < guest.boot_wall, f"Keel guest boot {guest.boot_guest}")
        check("hello" in guest.run("modinfo hello"), "Keel: modinfo hello")


def test_linux_uboot(assets):
    # Through the project's U-Boot and Debian's, as Keel boots.
    for firmware in ("keel", "debian"):
        with peer.LinuxGuest(assets, uboot=firmware) as guest:
            guest.start()
            check(0 < guest.uboot_start < guest.uboot_wall < guest.boot_wall < 120,
                  f"Linux through {firmware}'s U-Boot: reading the FIT at {guest.uboot_start} s, 'Starting kernel' "
                  f"at {guest.uboot_wall} s, /init at {guest.boot_wall} s")
            check("sha256,rsa2048:keel-boot+ OK" in guest.vm.output,
                  f"{firmware}'s U-Boot did not verify Linux's FIT with the boot key")
            check(("U-Boot 2023.01-keel" in guest.vm.output) == (firmware == "keel"), f"not {firmware}'s U-Boot")
            check(guest.run("uname -r").strip() == assets.release, f"Linux through {firmware}'s U-Boot: uname -r")


def test_linux(assets):
    check(assets.kernel_config("FUNCTION_GRAPH_TRACER") == "y", "the cloud kernel has no function_graph tracer")
    with peer.LinuxGuest(assets, files={"/etc/peer-test": b"from the host\n"}) as guest:
        guest.start()
        check(0 < guest.boot_guest < guest.boot_wall < 120,
              f"Linux boot: wall {guest.boot_wall} s, guest {guest.boot_guest} s")
        check(guest.run("uname -r").strip() == assets.release, "Linux: uname -r")
        check(guest.run("cat /etc/peer-test") == "from the host\n", "Linux: files in the initramfs")
        for bad in (lambda: guest.run("exit 3"), lambda: guest.trace(["no_such_function_here"], "true")):
            try:
                bad()
                raise Failure("a failing guest command did not raise PeerError")
            except peer.PeerError:
                pass
        check(guest.run("echo still here") == "still here\n", "Linux: the shell survives a failing command")

    figures = modloads.linux_module_loads(assets, LOADS)
    check(set(figures) == set(modloads.LINUX_MODULES), f"Linux module loads: {sorted(figures)}")
    for key, values in figures.items():
        load, sig_check, unload = (values[function] for function in modloads.TRACED)
        check(0 < sig_check < load < 1e6 and 0 < unload < 1e6, f"Linux {key}: {values}")
    check(figures["fat"]["size"] > 100 * 1024, f"fat.ko is {figures['fat']['size']} bytes")
    check(figures["crc_itu_t unsigned"]["size"] < figures["crc_itu_t"]["size"], "the unsigned module kept a signature")
    # A signed load checks an RSA signature; an unsigned one only looks for the marker.
    check(figures["crc_itu_t unsigned"][modloads.SIG_CHECK] * 10 < figures["crc_itu_t"][modloads.SIG_CHECK],
          f"Linux signature checks: {figures}")
    for key, values in figures.items():
        print(f"  {key:<20} " + "  ".join(f"{function} {values[function]:.0f} us" for function in modloads.TRACED))


def main():
    try:
        test_parsers()
        test_keel()
        assets = peer.LinuxAssets.fetch(log=print, arch=peer.DEBIAN_ARCH[machine.ARCH])
        test_linux(assets)
        if assets.arch == "arm64":
            test_linux_uboot(assets)
    except (Failure, peer.PeerError) as failure:
        print(f"FAIL peer-linux: {failure}")
        return 1
    print("PASS peer-linux")
    return 0


if __name__ == "__main__":
    sys.exit(main())
