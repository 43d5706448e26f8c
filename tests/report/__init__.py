"""Tests of ctbench.report."""
