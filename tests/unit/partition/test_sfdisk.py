#!/usr/bin/env python3
"""Partition tables made by util-linux's sfdisk, read by the kernel's
reader (partition-dump) and compared with what sfdisk reads back
(sfdisk --json): numbers, starts, sizes, types, UUIDs, names. Also the
backup GPT after the primary is wiped.

  test_sfdisk.py PARTITION_DUMP SFDISK SCRATCH_DIR
Exits 77 (skipped) when sfdisk is not installed.
"""

import json
import os
import re
import subprocess
import sys

DUMP, SFDISK, SCRATCH = sys.argv[1], sys.argv[2], sys.argv[3]
if not SFDISK or not os.path.exists(SFDISK):
    print("sfdisk is not installed (Debian package fdisk): skipped")
    sys.exit(77)

MIB = 1024 * 1024
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def make_image(name, size, script):
    path = os.path.join(SCRATCH, name)
    with open(path, "wb") as image:
        image.truncate(size)
    subprocess.run([SFDISK, "--no-reread", "--no-tell-kernel", "-q", path], input=script, text=True, check=True,
                   capture_output=True)
    return path


def sfdisk_view(path):
    table = json.loads(subprocess.run([SFDISK, "--json", path], capture_output=True, text=True,
                                      check=True).stdout)["partitiontable"]
    parts = {}
    for part in table.get("partitions", []):
        number = int(re.search(r"(\d+)$", part["node"]).group(1))
        parts[number] = part
    return table, parts


def keel_view(path):
    out = json.loads(subprocess.run([DUMP, path], capture_output=True, text=True, check=True).stdout)
    return out, {part["number"]: part for part in out.get("partitions", [])}


def compare(path, label):
    table, theirs = sfdisk_view(path)
    ours_table, ours = keel_view(path)
    check("error" not in ours_table, f"{label}: {ours_table.get('message')}")
    check(ours_table.get("scheme") == table["label"], f"{label}: scheme {ours_table.get('scheme')} vs {table['label']}")
    check(sorted(ours) == sorted(theirs), f"{label}: partition numbers {sorted(ours)} vs {sorted(theirs)}")
    for number, part in theirs.items():
        mine = ours.get(number)
        if mine is None:
            continue
        what = f"{label} partition {number}"
        check(mine["start"] == part["start"], f"{what}: start {mine['start']} vs {part['start']}")
        if mine["kind"] == "extended":
            # Linux (and this reader) list an extended partition as a stub.
            check(mine["size"] == 2, f"{what}: extended stub of {mine['size']} sectors")
        else:
            check(mine["size"] == part["size"], f"{what}: size {mine['size']} vs {part['size']}")
        if table["label"] == "dos":
            check(mine["mbr_type"] == int(part["type"], 16), f"{what}: type {mine['mbr_type']:x} vs {part['type']}")
            check(mine["bootable"] == part.get("bootable", False), f"{what}: bootable")
        else:
            check(mine["type"] == part["type"].lower(), f"{what}: type {mine['type']} vs {part['type']}")
            check(mine["uuid"] == part["uuid"].lower(), f"{what}: uuid {mine['uuid']} vs {part['uuid']}")
            check(mine["name"] == part.get("name", ""), f"{what}: name {mine['name']!r} vs {part.get('name')!r}")
    if table["label"] == "gpt":
        check(ours_table["disk_guid"] == table["id"].lower(), f"{label}: disk GUID")
    else:
        check(ours_table["mbr_signature"] == int(table["id"], 16), f"{label}: disk identifier")
    return ours_table


# MBR: two primaries, an extended partition with three logical ones.
mbr = make_image("mbr.img", 64 * MIB, """label: dos
label-id: 0x1234abcd
start=2048, size=8192, type=83, bootable
start=10240, size=4096, type=82
start=16384, size=100000, type=5
start=18432, size=8192, type=83
start=28672, size=2048, type=c
start=32768, size=20000, type=8e
""")
compare(mbr, "MBR")
ours, parts = keel_view(mbr)
check([p["number"] for p in parts.values()] == [1, 2, 3, 5, 6, 7], "MBR numbering")

# GPT: names (one not ASCII), types, fixed UUIDs, attributes.
ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
LINUX = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
SWAP = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"
gpt_script = "\n".join([
    "label: gpt",
    "label-id: 01234567-89AB-CDEF-0123-456789ABCDEF",
    "first-lba: 2048",
    f'start=2048, size=4096, type={ESP}, uuid=A0A0A0A0-B1B1-C2C2-D3D3-E4E4E4E4E4E4, name="EFI System"',
    f'start=6144, size=20480, type={LINUX}, uuid=11111111-2222-3333-4444-555555555555, name="Données", '
    'attrs="LegacyBIOSBootable"',
    f'start=30720, size=8192, type={SWAP}, uuid=66666666-7777-8888-9999-AAAAAAAAAAAA, name="swap"',
]) + "\n"
gpt = make_image("gpt.img", 64 * MIB, gpt_script)
ours = compare(gpt, "GPT")
check(not ours["from_backup"], "GPT read from its primary")
check(ours["partitions"][1]["attributes"] == 4, "GPT attributes (LegacyBIOSBootable is bit 2)")

# The primary header wiped: the backup has the same table.
with open(gpt, "r+b") as image:
    image.seek(512)
    image.write(bytes(512))
wiped = compare(gpt, "GPT from its backup")
check(wiped["from_backup"], "GPT from its backup: from_backup")
check(wiped["primary_problem"].startswith("primary GPT at LBA 1: bad signature"), "GPT from its backup: why")

# Both copies damaged: refused with both reasons.
with open(gpt, "r+b") as image:
    image.seek(64 * MIB - 512)
    image.write(bytes(512))
both, _ = keel_view(gpt)
check(both.get("error") == "EINVAL", "GPT with both copies damaged is refused")
check(both.get("message", "").startswith("GPT: neither copy is valid"), f"GPT: {both.get('message')}")

if failures:
    print(f"{len(failures)} failures")
    sys.exit(1)
print("sfdisk and the kernel's reader agree")
