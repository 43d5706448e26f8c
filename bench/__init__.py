"""Measurements, CI tooling and the fuzzer: see bench/README.md."""
