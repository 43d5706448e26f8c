"""Suite-wide settings and fixtures.

Every hypothesis test draws the same examples on every run (derandomize),
so the suite is deterministic, as a CI gate must be; bench/ holds the
longer, random explorations.  The fixtures give each test the suite's
files: golden files to compare with, and results files saved in its own
temporary folder.  The data folders are module constants in
tests/helpers/paths.py, since ``parametrize`` needs them at import time."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from tests.helpers.golden import GoldenFiles
from tests.helpers.run_factory import SavedRuns

settings.register_profile("ctbench", derandomize=True)
settings.load_profile("ctbench")


@pytest.fixture
def golden() -> GoldenFiles:
    """tests/golden: ``golden.check(name, text)``; CTBENCH_UPDATE_GOLDEN=1
    rewrites the files instead."""
    return GoldenFiles()


@pytest.fixture
def saved_runs(tmp_path: Path) -> SavedRuns:
    """``saved_runs.save(name, run)`` or ``saved_runs.save(name, **make_run)``:
    a results file in this test's temporary folder."""
    return SavedRuns(tmp_path)
