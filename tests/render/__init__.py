"""Tests of ctbench.render."""
