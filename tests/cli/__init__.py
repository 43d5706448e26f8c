"""Tests of ctbench.cli."""
