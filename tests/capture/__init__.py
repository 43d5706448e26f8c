"""Tests of ctbench.capture."""
