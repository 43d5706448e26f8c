"""Tests of ctbench.ovstest."""
