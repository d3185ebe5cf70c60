"""Keel ABI description tooling: model (load, validate, layout, hashes) and
the generators scripts/abi/keel-abi.py runs. Standard library only."""
