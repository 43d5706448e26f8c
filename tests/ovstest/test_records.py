"""ovstest's figures as results: summary-only backends, through the file."""

from __future__ import annotations

import pytest

from ctbench import results
from ctbench.ovstest.parse import parse
from ctbench.ovstest.records import OvstestImportError, import_run
from ctbench.results import ResultsError
from tests.helpers.paths import OVSTEST_DATA


def test_a_benchmark_time_round_trips_with_min_and_max_only() -> None:
    text = (OVSTEST_DATA / "xeon-benchmark-2-1000000-32.before.txt").read_text()
    run = import_run(parse(text), "b.txt", args=(2, 1000000, 32))
    again = results.loads(results.dumps(run))
    (phase,) = again.results[0].phases.values()
    assert phase.summary is not None
    assert (phase.summary.min, phase.summary.max) == (65000, 65000)
    assert phase.summary.ovs_ewma is None and phase.summary.ovs_p95 is None
    assert again.params == {
        "n_threads": 2,
        "n_pkts": 1000000,
        "batch_size": 32,
        "change_conn": 0,
    }


def test_a_summary_only_phase_needs_its_min() -> None:
    text = (OVSTEST_DATA / "xeon-benchmark-2-1000000-32.before.txt").read_text()
    run = import_run(parse(text), "b.txt", args=(2, 1000000, 32))
    doc = results.dumps(run).replace('"min":65000.0,', "")
    with pytest.raises(ResultsError, match="'stats.min' missing"):
        results.loads(doc)


def test_the_patch_rows_name_the_builds() -> None:
    run = import_run(
        parse((OVSTEST_DATA / "conntrack-key-by-zone.patch.txt").read_text()),
        "patch",
        table=2,
    )
    assert [r.label for r in run.results] == ["per-zone", "single"]
    assert run.params["conn_limit"] == 3_000_000 and run.params["batch_size"] == 1


def test_two_unnamed_tables_are_numbered() -> None:
    one = (OVSTEST_DATA / "xeon-benchmark-zones-1000-100-200.before.txt").read_text()
    two = (OVSTEST_DATA / "xeon-benchmark-zones-1000-100-200.after.txt").read_text()
    run = import_run(parse(one + two), "x", args=(1000, 100, 200))
    assert [r.label for r in run.results] == ["ovstest#1", "ovstest#2"]


def test_nothing_to_import_is_an_error() -> None:
    with pytest.raises(OvstestImportError, match="no ovstest output found"):
        import_run([], "empty.txt")
