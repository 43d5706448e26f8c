"""compare on ovstest's summaries: ratios without a verdict, and, from 20
runs a side, each run's Min as a sample with the usual intervals."""

from __future__ import annotations

import numpy as np
import pytest

from ctbench.compare import CompareError, compare
from ctbench.results import BackendResult, PhaseResult, RunResult
from ctbench.stats import MIN_INTERVAL_SAMPLES, Summary

PHASE = "flush_full_zone"


def _ovstest_run(mins: list[float], label: str = "single") -> RunResult:
    """A run holding ``len(mins)`` runs of one ovstest binary."""
    run = RunResult("benchmark-zones", {"entries": 10}, {}, "", complete=True)
    for i, low in enumerate(mins, 1):
        summary = Summary.from_ovstest(low, low * 3, low * 2, low * 1.5, 100)
        run.results.append(
            BackendResult(
                backend="ovstest",
                label=f"ovstest:{label}#{i}" if len(mins) > 1 else f"ovstest:{label}",
                phases={PHASE: PhaseResult(summary=summary)},
                extra={"source": {"tool": "ovstest", "group": f"ovstest:{label}"}},
            )
        )
    return run


def _mins(center: float, n: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(x) for x in center * (1 + 0.02 * rng.standard_normal(n))]


def test_fewer_than_20_runs_give_ratios_of_the_summaries_only() -> None:
    c = compare(_ovstest_run(_mins(100, 3, 1)), _ovstest_run(_mins(200, 3, 2)))
    assert c.rows == []
    (row,) = c.summary_rows
    assert (row.backend, row.phase) == ("ovstest:single", PHASE)
    assert (row.baseline_runs, row.candidate_runs) == (3, 3)
    assert row.ratios["min"].ratio == pytest.approx(2, rel=0.1)
    assert np.isnan(row.ratios["min"].low)
    assert set(row.ratios) == {"min", "ovs_ewma", "ovs_p95"}
    assert c.exit_status() == 0 and c.outcome().startswith("NO VERDICT")
    assert any("no interval and no verdict" in n for n in c.notes)


@pytest.mark.parametrize(
    ("candidate_center", "expected"),
    [(200, "slower"), (50, "faster"), (100, "unchanged")],
)
def test_20_runs_a_side_make_each_min_a_sample(
    candidate_center: float, expected: str
) -> None:
    n = MIN_INTERVAL_SAMPLES
    c = compare(
        _ovstest_run(_mins(100, n, 1)), _ovstest_run(_mins(candidate_center, n, 2))
    )
    assert c.summary_rows == []
    (row,) = c.rows
    assert (row.backend, row.baseline_count, row.candidate_count) == (
        "ovstest:single",
        n,
        n,
    )
    assert row.verdict == expected
    assert not np.isnan(row.ratios["median"].low)
    assert any("each run's Min as one sample" in note for note in c.notes)
    assert c.exit_status() == (1 if expected == "slower" else 0)


def test_19_runs_on_one_side_give_no_interval() -> None:
    n = MIN_INTERVAL_SAMPLES
    c = compare(_ovstest_run(_mins(100, n - 1, 1)), _ovstest_run(_mins(200, n, 2)))
    assert c.rows == [] and len(c.summary_rows) == 1


def test_a_failed_binary_alone_is_nothing_to_compare() -> None:
    failed = RunResult("benchmark-zones", {}, {}, "", complete=False)
    failed.results.append(
        BackendResult("ovstest", label="ovstest:single", status="failed")
    )
    with pytest.raises(CompareError, match="no backend and phase"):
        compare(failed, failed)
