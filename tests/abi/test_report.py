#!/usr/bin/env python3
"""scripts/abi-report's matrix has the cells the ABI policy promises:
in-tree and out-of-tree modules load on the built core; the 1.0-SDK probe
loads on every column (old binaries keep working); the 1.1 probe is refused
by a 1.0-only core naming keel_add_taint@KABI_CORE_1.1; broken and too-new
builds are refused for their reason everywhere."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    result = subprocess.run([os.path.join(ROOT, "scripts", "abi-report"), "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout + result.stderr)
        return 1
    report = json.loads(result.stdout)
    core = report["columns"][0]
    rows = {row["module"]: row for row in report["rows"]}
    failures = []

    def cell(module, column, expected):
        actual = rows[module]["cells"][column] if module in rows else "(missing row)"
        if not actual.startswith(expected):
            failures.append(f"{module} on {column}: '{actual}', want '{expected}...'")

    for name, row in rows.items():
        if row["kind"] in ("in-tree", "oot"):
            cell(name, core, "loads")
    for column in report["columns"]:
        cell("abi_probe-1.0.kmod", column, "loads")
        cell("abi_break-future-call.kmod", column, "refused: unknown keel_future_call@KABI_CORE_1.9")
        cell("abi_break-changed-parameter.kmod", column, "refused: hash keel_sleep_ns@KABI_CORE_1.0")
        cell("abi_break-reordered-field.kmod", column, "refused: hash keel_spin_")
    cell("abi_probe-1.1.kmod", core, "loads")
    cell("abi_probe-1.1.kmod", "KABI_CORE_1.0 only", "refused: needs keel_add_taint@KABI_CORE_1.1")
    cell("abi_probe-1.1.kmod", "KABI_CORE_1.1 only", "loads")
    cell("abi_break-future-node.kmod", core, "refused: needs keel_monotonic_ns@KABI_CORE_1.9")
    cell("virtio_rng-virtio-1.0.kmod", core, "loads")
    cell("edu_test-pci-1.0.kmod", core, "loads")
    cell("edu_test-pci-1.0.kmod", "every released node", "loads")
    cell("edu_test-pci-1.0.kmod", "KABI_CORE_1.1 only", "refused: unknown keel_")
    subprocess.run([os.path.join(ROOT, "scripts", "abi-report")])
    for failure in failures:
        print("FAIL:", failure)
    print(f"abi-report: {len(rows)} modules x {len(report['columns'])} cores, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
