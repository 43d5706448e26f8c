"""Tests of ctbench.results."""
