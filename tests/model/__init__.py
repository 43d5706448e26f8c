"""Tests of ctbench.model."""
