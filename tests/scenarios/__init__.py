"""Tests of ctbench.scenarios."""
