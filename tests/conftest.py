"""Suite-wide settings and fixtures.

Every hypothesis test draws the same examples on every run (derandomize),
so the suite is deterministic, as a CI gate must be; bench/ holds the
longer, random explorations.  The fixtures give each test the suite's
files: golden files to compare with, and results files saved in its own
temporary folder.  The data folders are module constants in
tests/helpers/paths.py, since ``parametrize`` needs them at import time."""

from __future__ import annotations

import compileall
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from ctbench import environment
from tests.helpers.golden import GoldenFiles
from tests.helpers.paths import ROOT
from tests.helpers.run_factory import SavedRuns

settings.register_profile("ctbench", derandomize=True)
settings.load_profile("ctbench")


# Tests between two full collections of everything, frozen or not: what was
# frozen alive and died in a cycle since is held until then (see below).
# With 100 the whole suite peaked at 648 MB RSS, against 583 MB without the
# freeze and 885 MB never collecting (/usr/bin/time, 2026-12), when each
# run thawed everything and no collection was made between tests; 509 MB
# with the collection before each freeze and runs that leave it frozen.
TESTS_PER_COLLECTION = 100


# What the suite's processes of their own import from the working tree:
# ``python -m ctbench``, the bench/ scripts, the child of a counted run
# (under valgrind) and the scripts that import a helper (tests.helpers.probe).
IMPORTED_BY_PROCESSES = ("ctbench", "bench", "tests/helpers")


@pytest.fixture(scope="session", autouse=True)
def _bytecode_compiled() -> None:
    """The working tree's bytecode in its __pycache__ folders, before any
    test starts a process.  Where PYTHONDONTWRITEBYTECODE is set, every
    process would compile ctbench again, for itself: 0.15 s of each start
    of ``python -m ctbench`` (0.45 s against 0.30 s of CPU), and 3 s of
    each counted run's child, which compiles under valgrind.  Python reads
    bytecode it finds even when told not to write it, and checks it against
    the source's time and size, so an edited file is compiled afresh.  A
    folder that cannot be written is left as it is (compileall reports it,
    silenced here): the processes then compile, as before."""
    for folder in IMPORTED_BY_PROCESSES:
        compileall.compile_dir(ROOT / folder, quiet=2)


@pytest.fixture(scope="session", autouse=True)
def _tests_run() -> Iterator[list[int]]:
    gc.collect()
    yield [0]
    # What died frozen is collected within the session, so that a
    # finalizer's warning (an unclosed file) still fails the suite.
    if environment.gil_enabled():
        gc.unfreeze()
    gc.collect()


@pytest.fixture(autouse=True)
def _long_lived_objects_frozen(_tests_run: list[int]) -> None:
    """Keep what lives before a test (pytest's, hypothesis's, numpy's and
    matplotlib's objects, 100,000 and more) out of the cyclic collector's
    way.  A full collection walks every object that lives: 50-150 ms in
    this process, where ctbench's own take 10-30 ms, and ctbench collects
    at least twice a run (before its timed phases and after each backend)
    and three times a memory measurement: these walks were about a third of
    the suite's time.

    ``gc.freeze`` only moves lists, so it is made before every test, after
    a collection that walks only what the test before left (the rest is
    frozen): the cycles it left are freed, not frozen.  A run's
    ``gc_frozen`` leaves frozen what it found frozen, so a test's second
    run, and its memory measurements, walk only the test's own objects
    too: when each run thawed everything, these walks were 34 of the 76 s
    of CPU that tests/cli, tests/scenarios and tests/results took, and 2 s
    now.  What a test froze alive (a run freezes what lives when it
    starts) and that died in a cycle is held until every
    TESTS_PER_COLLECTION tests everything is thawed and collected.

    Only on a GIL build, where it was measured: on the free-threaded 3.13.15
    build, whose collector has no generations to move lists between, the
    suite with it stalled for over 7 minutes in tests/model/test_bulk.py
    (3 tests that take 38 s alone)."""
    if not environment.gil_enabled():
        return
    _tests_run[0] += 1
    if _tests_run[0] % TESTS_PER_COLLECTION == 0:
        gc.unfreeze()
    gc.collect()
    gc.freeze()


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
