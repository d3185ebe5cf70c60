#!/usr/bin/env python3
"""U-Boot FIT images for Keel on AArch64 (docs/aarch64.md, "U-Boot").

  make-fit.py ensure-key DIR
      make the boot key once: DIR/keel-boot.key (RSA-2048) and keel-boot.crt
  make-fit.py fit --kernel IMAGE --initramfs CPIO --key-dir DIR --output OUT.itb
      [--unsigned] [--tamper kernel|initramfs]
      a FIT holding the kernel and the initramfs whose one configuration is
      signed with the boot key (sha256,rsa2048), which U-Boot must verify;
      --unsigned leaves the signature out, --tamper changes one byte of the
      kernel or the initramfs after signing (each must be refused)
  make-fit.py dtb --dtb IN.dtb --key-dir DIR --output OUT.dtb
      QEMU's device tree with the boot key's public half in /signature,
      marked required: the control tree U-Boot verifies with

The boot key is not a module key: U-Boot checks the kernel and initramfs
with it; the kernel then checks every module with its own built-in keys.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

KEY_NAME = "keel-boot"
# Where the kernel is copied and entered: a 2 MiB boundary above U-Boot's
# own data at the bottom of RAM (QEMU virt's RAM starts at 1 GiB).
KERNEL_LOAD = 0x40200000

ITS = """/dts-v1/;
/ {{
    description = "Keel for QEMU virt";
    #address-cells = <1>;
    images {{
        kernel {{
            description = "Keel";
            data = /incbin/("{kernel}");
            type = "kernel";
            arch = "arm64";
            os = "linux";
            compression = "none";
            load = <{load:#x}>;
            entry = <{load:#x}>;
            hash-1 {{ algo = "sha256"; }};
        }};
        ramdisk {{
            description = "initramfs";
            data = /incbin/("{initramfs}");
            type = "ramdisk";
            arch = "arm64";
            os = "linux";
            compression = "none";
            hash-1 {{ algo = "sha256"; }};
        }};
    }};
    configurations {{
        default = "conf-1";
        conf-1 {{
            description = "Keel with its initramfs";
            kernel = "kernel";
            ramdisk = "ramdisk";
{signature}        }};
    }};
}};
"""

SIGNATURE = """            signature-1 {
                algo = "sha256,rsa2048";
                key-name-hint = "keel-boot";
                sign-images = "kernel", "ramdisk";
            };
"""


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("make-fit: " + " ".join(command) + "\n" + result.stdout + result.stderr)
    return result.stdout


def ensure_key(directory):
    key = os.path.join(directory, KEY_NAME + ".key")
    certificate = os.path.join(directory, KEY_NAME + ".crt")
    if os.path.exists(key) and os.path.exists(certificate):
        return
    os.makedirs(directory, exist_ok=True)
    run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key])
    os.chmod(key, 0o600)
    run(["openssl", "req", "-batch", "-new", "-x509", "-key", key, "-out", certificate, "-days", "36500",
         "-subj", "/CN=Keel boot key"])
    print(f"made the boot key {key} (kept for later builds)")


def make_fit(kernel, initramfs, key_dir, output, unsigned=False, tamper=False):
    with tempfile.TemporaryDirectory() as scratch:
        its = os.path.join(scratch, "keel.its")
        with open(its, "w") as handle:
            handle.write(ITS.format(kernel=os.path.abspath(kernel), initramfs=os.path.abspath(initramfs),
                                    load=KERNEL_LOAD, signature="" if unsigned else SIGNATURE))
        staged = os.path.join(scratch, "keel.itb")
        command = ["mkimage", "-f", its]
        if not unsigned:
            command += ["-k", key_dir, "-r"]
        run(command + [staged])
        if tamper:
            image = kernel if tamper == "kernel" else initramfs
            with open(image, "rb") as handle:
                probe = handle.read(4096)
            with open(staged, "r+b") as handle:
                data = handle.read()
                at = data.find(probe[64:])
                if len(probe) <= 64 or at < 0:
                    sys.exit(f"make-fit: the {tamper}'s bytes are not in the FIT")
                handle.seek(at + 16)
                handle.write(bytes([data[at + 16] ^ 0xff]))
        shutil.move(staged, output)


def key_into_dtb(dtb, key_dir, output):
    # mkimage writes the public key while signing: sign a throwaway FIT.
    with tempfile.TemporaryDirectory() as scratch:
        payload = os.path.join(scratch, "payload")
        with open(payload, "wb") as handle:
            handle.write(b"\0" * 64)
        fit = os.path.join(scratch, "key.itb")
        make_fit(payload, payload, key_dir, fit)
        shutil.copy(dtb, output)
        run(["mkimage", "-F", "-k", key_dir, "-K", output, "-r", fit])


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    ensure = commands.add_parser("ensure-key")
    ensure.add_argument("directory")
    fit = commands.add_parser("fit")
    fit.add_argument("--kernel", required=True)
    fit.add_argument("--initramfs", required=True)
    fit.add_argument("--key-dir", required=True)
    fit.add_argument("--output", required=True)
    fit.add_argument("--unsigned", action="store_true")
    fit.add_argument("--tamper", choices=("kernel", "initramfs"))
    dtb = commands.add_parser("dtb")
    dtb.add_argument("--dtb", required=True)
    dtb.add_argument("--key-dir", required=True)
    dtb.add_argument("--output", required=True)
    options = parser.parse_args()
    if options.command == "ensure-key":
        ensure_key(options.directory)
    elif options.command == "fit":
        make_fit(options.kernel, options.initramfs, options.key_dir, options.output, options.unsigned,
                 options.tamper)
    else:
        key_into_dtb(options.dtb, options.key_dir, options.output)


if __name__ == "__main__":
    main()
