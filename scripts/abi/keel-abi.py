#!/usr/bin/env python3
"""Generate Keel's ABI artefacts from the description (abi/keel.toml).

Usage:
    keel-abi.py KIND --description abi/keel.toml --output FILE [--node-limit NODE ...]

KIND is one of:
    header          keel/keel.h, the C header modules include
    impl-header     kabi_impl.h, kernel-only prototypes of every implementation
    rust-sys        lib.rs of the keel_sys crate
    kernel-errno    lib/errno_table.h, the core's keel::Error from the errno table
    version-script  keel.map, the GNU version script of the core's nodes
    stub-c          C source of the stub libkeel.so
    symvers         keel.symvers: "0x<hash> <name> <node>" per export
    exports         C++ export table compiled into the kernel
    exports-host    the same with null addresses, for host unit tests
    baseline        golden-file dump of nodes, constants, errnos, symbols, hashes and layouts
    canonical       "<hash> <name>@<node> <canonical declaration>" per export
    manifest        the ABI part of the core's manifest (nodes, released or not, hashes);
                    --released-dir names abi/baseline/
    header-check    a C file that compiles only when the hand-written header named by
                    --include declares what the description says (a module's
                    interface whose header is written by hand)
    check           validate only (--output is touched)

--node-limit NODE keeps NODE's interface only up to NODE: the SDK as it was
when NODE was the newest (e.g. the KABI_CORE_1.0 SDK). docs/abi.md explains
the description format and the hash.
"""

from __future__ import annotations

import argparse
import os
import sys

# In the source tree keelabi/ sits beside this file; in the SDK (bin/keel-abi)
# it is in share/keel-sdk/abi/.
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "share", "keel-sdk", "abi"))

from keelabi import gen_c, gen_kernel, gen_link, gen_manifest, gen_rust  # noqa: E402
from keelabi.model import AbiError, load  # noqa: E402

GENERATORS = {
    "header": gen_c.generate_header,
    "impl-header": gen_c.generate_impl_header,
    "rust-sys": gen_rust.generate_sys,
    "kernel-errno": gen_kernel.generate_kernel_errno,
    "version-script": gen_link.generate_version_script,
    "stub-c": gen_link.generate_stub,
    "symvers": gen_link.generate_symvers,
    "exports": gen_kernel.generate_exports,
    "exports-host": lambda abi: gen_kernel.generate_exports(abi, host_test=True),
    "baseline": gen_kernel.generate_baseline,
    "canonical": lambda abi: "".join(
        f"0x{f.hash:016x} {f.versioned_name} {f.canonical}\n" for f in abi.exports_sorted()
    ),
    "check": lambda abi: "",
    "manifest": None,
    "header-check": None,
}
# Kinds that take --released-dir.
RELEASED_DIR_KINDS = {"manifest"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=sorted(GENERATORS))
    parser.add_argument("--description", required=True, help="the ABI description (abi/keel.toml)")
    parser.add_argument("--output", required=True, help="file to write ('-' for stdout)")
    parser.add_argument("--keep-if-same", action="store_true",
                        help="leave an output that would not change alone, its time too (for configure_file: "
                             "not for a build step, which ninja would then find out of date for good)")
    parser.add_argument(
        "--node-limit", action="append", default=[], metavar="NODE", help="newest node to keep for its interface"
    )
    parser.add_argument("--released-dir", metavar="DIR",
                        help="manifest: the baseline directory (NODE.abi per released node)")
    parser.add_argument("--include", metavar="HEADER", help="header-check: the header, as #include names it")
    args = parser.parse_args()
    if args.kind == "header-check" and not args.include:
        parser.error("header-check needs --include HEADER")
    try:
        abi = load(args.description, args.node_limit)
        if args.kind == "manifest":
            text = gen_manifest.generate_manifest(abi, args.released_dir)
        elif args.kind == "header-check":
            text = gen_c.generate_header_check(abi, args.include)
        else:
            text = GENERATORS[args.kind](abi)
    except AbiError as error:
        print(f"keel-abi: {error}", file=sys.stderr)
        return 1
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    # The errno table is made at every configure: a new time on a header
    # every file includes rebuilt the whole tree after any reconfigure (a
    # boot case added, say).
    if args.keep_if_same and os.path.exists(args.output):
        with open(args.output, encoding="utf-8") as file:
            if file.read() == text:
                return 0
    # Write through a temporary file so an interrupted run never leaves a
    # half-written output that looks up to date.
    temporary = args.output + ".tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
