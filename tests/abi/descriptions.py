"""Test-only ABI descriptions derived from the real one (abi/keel.toml), so
they follow it as it grows: a newer SDK with a node this core lacks (and an
errno not yet released), and deliberate breaks of symbols, types and errnos. Each edit checks that it changed
something, so a reworded description fails loudly here instead of testing nothing."""

import re

NEWER_NODE = "KABI_CORE_1.9"
NEWER_ERRNO = ("EHWPOISON", 133)


def _replace(text, old, new, what):
    if old not in text:
        raise SystemExit(f"descriptions.py: cannot make '{what}': {old!r} is not in the description")
    return text.replace(old, new, 1)


def _function_entry(text, name, node="KABI_CORE_1.0"):
    match = re.search(rf'\[\[functions\]\]\nname = "{name}"\nnode = "{node}"\n.*?(?=\n\n|\n#|\Z)', text, re.S)
    if not match:
        raise SystemExit(f"descriptions.py: no [[functions]] entry {name}@{node}")
    return match


def newer(text):
    """A core ABI one node ahead: KABI_CORE_1.9 adds keel_future_call and
    re-declares keel_monotonic_ns (the 1.0 entry becomes a compat one); the
    errno table gains an entry."""
    entry = _function_entry(text, "keel_monotonic_ns")
    text = text[:entry.end()] + '\nimpl = "keel_monotonic_ns_v1_0"' + text[entry.end():]
    return text + f'''
[[nodes]]
name = "{NEWER_NODE}"
interface = "core"
doc = "Test only: a node newer than any core."

[[functions]]
name = "keel_future_call"
node = "{NEWER_NODE}"
group = "time"
returns = "uint64_t"
params = [{{ name = "value", type = "uint64_t" }}]
doc = "Test only: a function no core has."

[[functions]]
name = "keel_monotonic_ns"
node = "{NEWER_NODE}"
group = "time"
returns = "uint64_t"
params = []
doc = "Test only: the same clock at a newer node."

[[errors]]
name = "{NEWER_ERRNO[0]}"
value = {NEWER_ERRNO[1]}
doc = "Test only: an errno no core has released."
'''


def changed_parameter(text):
    entry = _function_entry(text, "keel_sleep_ns").group(0)
    return _replace(text, entry, entry.replace('type = "uint64_t"', 'type = "uint32_t"'), "changed parameter")


def reordered_field(text):
    locked = re.search(r'    \{ name = "locked", type = "uint32_t".*\n', text).group(0)
    reserved = re.search(r'    \{ name = "reserved", type = "uint32_t".*\n', text).group(0)
    return _replace(text, locked + reserved, reserved + locked, "reordered field")


def removed_symbol(text):
    entry = _function_entry(text, "keel_thread_yield").group(0)
    return _replace(text, entry, "", "removed symbol")


def changed_errno(text):
    """A released errno with another number: every module built so far
    returns -22 for EINVAL."""
    return _replace(text, 'name = "EINVAL"\nvalue = 22\n', 'name = "EINVAL"\nvalue = 222\n', "changed errno")


def renamed_errno(text):
    """A released number under another name: modules using the old name no
    longer compile against the new SDK."""
    return _replace(text, 'name = "ENOTSUP"\nvalue = 95\n', 'name = "EOPNOTSUPP"\nvalue = 95\n', "renamed errno")


BREAKS = {
    "changed-parameter": changed_parameter,
    "reordered-field": reordered_field,
    "removed-symbol": removed_symbol,
    "changed-errno": changed_errno,
    "renamed-errno": renamed_errno,
}
