"""Tests of ctbench.plot."""
