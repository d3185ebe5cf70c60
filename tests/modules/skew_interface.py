#!/usr/bin/env python3
"""A provider's interface as a module built against a different version of
it would have seen it: copies PROVIDER.kmod into DIR and writes beside it
the symvers of PROVIDER's description with one function's parameter type
changed (OLD to NEW in FUNCTION's params). A module linked with --needs
DIR/PROVIDER.kmod then records that function's hash as the changed
declaration has it, and the loader must refuse it against the real
provider, naming the symbol (tests/boot/cases_net.py).

  skew_interface.py --keel-abi keel-abi.py --description inet.toml --provider inet.kmod
                    --function keel_inet_is_local --old uint32_t --new uint64_t --output DIR/inet.kmod
"""

import argparse
import os
import shutil
import subprocess
import sys
import tomllib


def main():
    parser = argparse.ArgumentParser()
    for name in ("--keel-abi", "--description", "--provider", "--function", "--old", "--new", "--output"):
        parser.add_argument(name, required=True)
    options = parser.parse_args()
    with open(options.description, "rb") as file:
        description = tomllib.load(file)
    changed = 0
    for function in description.get("functions", []):
        if function["name"] == options.function:
            for param in function["params"]:
                if param["type"] == options.old:
                    param["type"] = options.new
                    changed += 1
    if not changed:
        sys.exit(f"skew_interface: {options.function} has no parameter of type {options.old}")
    directory = os.path.dirname(os.path.abspath(options.output))
    os.makedirs(directory, exist_ok=True)
    skewed = os.path.join(directory, "skewed.toml")
    with open(skewed, "w", encoding="utf-8") as file:
        file.write(to_toml(description))
    symvers = os.path.splitext(options.output)[0] + ".symvers"
    subprocess.run([sys.executable, options.keel_abi, "symvers", "--description", skewed, "--output", symvers],
                   check=True)
    shutil.copyfile(options.provider, options.output)


def value(item):
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, str):
        return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(item, list):
        return "[" + ", ".join(value(element) for element in item) + "]"
    if isinstance(item, dict):
        return "{ " + ", ".join(f"{key} = {value(element)}" for key, element in item.items()) + " }"
    raise TypeError(f"cannot write {item!r}")


def to_toml(description):
    """The description back as TOML: [abi], then an array of tables per key."""
    lines = ["[abi]"] + [f"{key} = {value(item)}" for key, item in description["abi"].items()]
    for key, tables in description.items():
        if key == "abi":
            continue
        for table in tables:
            lines += ["", f"[[{key}]]"] + [f"{name} = {value(item)}" for name, item in table.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
