"""Python helpers shared by scripts/run, scripts/bench and the boot tests."""
