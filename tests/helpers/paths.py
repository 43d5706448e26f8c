"""Where the suite's files are: one definition for every test module.

Module constants rather than fixtures alone because ``parametrize`` lists
are built at import time; conftest.py serves the same paths as fixtures."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
DATA = TESTS / "data"
CAPTURES = DATA / "captures"
OVSTEST_DATA = DATA / "ovstest"
GOLDEN = TESTS / "golden"
