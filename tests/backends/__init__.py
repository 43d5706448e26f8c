"""Tests of ctbench.backends."""
