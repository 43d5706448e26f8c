"""Tests of ctbench.growth."""
