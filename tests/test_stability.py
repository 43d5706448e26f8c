"""stability.py: each check fires on seeded samples built to show its
problem, stays quiet on steady ones, and quotes its figure."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ctbench import registry
from ctbench.report.build import build_report
from ctbench.stability import clock_bound, stability_findings
from tests.helpers.paths import ROOT
from tests.helpers.run_factory import make_run


def steady(seed: int = 0, n: int = 1000) -> list[float]:
    """Right-skewed like timings: a floor plus a gamma, 3% spread."""
    rng = np.random.default_rng(seed)
    return [float(x) for x in 100 + rng.gamma(2, 1.5, n)]


def kinds(samples: list[float]) -> list[str]:
    return [finding.split(":")[0] for finding in stability_findings(samples)]


@pytest.mark.parametrize("seed", range(5))
def test_steady_samples_raise_nothing(seed: int) -> None:
    assert stability_findings(steady(seed)) == []


def test_a_wide_spread_is_warned_with_its_relative_mad() -> None:
    rng = np.random.default_rng(1)
    samples = rng.normal(100, 20, 1000).tolist()
    (finding,) = stability_findings(samples)
    assert finding.startswith("wide spread: relative MAD 2")
    assert "(warned at 10%)" in finding


def test_two_modes_are_warned_with_where_they_are() -> None:
    rng = np.random.default_rng(2)
    samples = rng.permutation(
        np.r_[rng.normal(100, 2, 700), rng.normal(160, 3, 300)]
    ).tolist()
    found = [f for f in stability_findings(samples) if f.startswith("bimodal")]
    assert len(found) == 1
    assert "modes near 99.9 and 160 us" in found[0]
    assert "30% of the samples" in found[0]


def test_a_long_tail_is_not_called_a_second_mode() -> None:
    rng = np.random.default_rng(3)
    samples = (100 * (1 + rng.pareto(4, 1000) * 0.05)).tolist()
    assert "bimodal" not in kinds(samples)


def test_a_drift_compares_the_last_tenth_with_the_first() -> None:
    samples = [100 + 0.03 * i for i in range(1000)]  # +30% over the run
    found = [f for f in stability_findings(samples) if f.startswith("drift")]
    assert found == [
        "drift: the last tenth's median is 27% above the first tenth's (warned at 10%)"
    ]


def test_slow_first_rounds_are_a_warm_up_not_a_drift() -> None:
    samples = [130.0] * 100 + steady(4, 900)
    found = kinds(samples)
    assert "warm-up not reached" in found
    assert "drift" not in found


def test_a_tail_that_moves_the_mean_is_warned() -> None:
    samples = [100.0] * 900 + [1000.0] * 100
    found = [f for f in stability_findings(samples) if f.startswith("far tail")]
    assert found == ["far tail: the mean is 90% above the median (warned at 50%)"]


def test_few_samples_raise_no_mixture_or_order_warning() -> None:
    rng = np.random.default_rng(5)
    samples = rng.permutation(np.r_[rng.normal(100, 2, 20), rng.normal(160, 3, 20)])
    assert kinds(samples.tolist()) == ["wide spread"]


def clock_noise(seed: int = 6, n: int = 1000) -> list[float]:
    """An empty flush's shape at 0.6 us: a wide spread (relative MAD about
    20%) and slow first rounds, as a clock pair around a short call has."""
    rng = np.random.default_rng(seed)
    samples = 0.6 * np.exp(rng.normal(0, 0.15, n))
    samples[: n // 10] *= 1.3
    return [float(s) for s in samples]


def test_a_clock_bound_phase_is_not_judged() -> None:
    samples = clock_noise()
    # Unjudged, the noise is warned of; within 100 reads of a 50 ns clock
    # (5 us) the phase is clock-bound and nothing is.
    assert kinds(samples) == ["wide spread", "warm-up not reached"]
    assert stability_findings(samples, clock_read_ns=50) == []
    # The same shape well above 100 reads is the code's: judged.
    slower = [100 * s for s in samples]
    assert stability_findings(slower, clock_read_ns=50) == stability_findings(samples)


def test_clock_bound_means_a_median_under_a_hundred_clock_reads() -> None:
    assert clock_bound(4.99, 50)
    assert not clock_bound(5.0, 50)
    assert not clock_bound(0.01, 0)  # no clock (a run of counts)


def test_a_clock_bound_phase_gets_its_note_and_no_warning() -> None:
    run = make_run(backends=("single",))
    samples = run.results[0].phases["flush_full_zone"].samples
    samples[:] = clock_noise(n=200)  # clock read: 80 ns, so below 8 us
    report = build_report(run)
    assert [w for w in report.warnings if "flush full zone" in w] == [
        "NOTE: flush full zone on single: median 0.62 us is within 100x of one "
        "clock read (80 ns); treat it as an upper bound (its spread is not judged)"
    ]


def test_the_report_puts_each_finding_on_a_warning_line() -> None:
    run = make_run(backends=("single",))
    samples = run.results[0].phases["flush_full_zone"].samples
    samples[:] = ([100.0] * 9 + [1000.0]) * 20  # a tail, in every round
    expected = tuple(
        f"WARNING: flush full zone on single: {finding}"
        for finding in stability_findings(samples)
    )
    assert any("far tail: the mean is 90% above" in line for line in expected)
    assert build_report(run).warnings == expected


def test_the_old_baseline_shows_its_second_mode() -> None:
    """The example baseline of 26 November (kept in tests/data/results when
    results/baseline-zones-small.json was recorded again) was taken while
    something slowed single's phases two-fold for the middle of its run
    (70-96% of the samples of the 4th to 6th tenths are in the slow mode):
    the bimodality check names it; spread, tail and warm-up stay quiet on
    every phase but per-zone's flush of the empty zone (median 6 us, a
    clock-bound phase)."""
    old = ROOT / "tests" / "data" / "results" / "baseline-zones-2026-11-26-schema1.json"
    data = json.loads(old.read_text())
    found = {
        (r["backend"], phase): kinds(p["samples_us"])
        for r in data["results"]
        for phase, p in r["phases"].items()
    }
    single = [v for (b, _), v in found.items() if b == "single"]
    assert single == [["bimodal"]] * 4
    per_zone = {ph: v for (b, ph), v in found.items() if b == "per-zone"}
    assert per_zone.pop("flush_empty_zone") == ["wide spread", "drift"]
    assert all(v == [] for v in per_zone.values())


def test_the_committed_baseline_raises_no_warning() -> None:
    """Issue 23's requirement: the example baseline's report warns of
    nothing (a clock-bound phase has its NOTE, not a warning)."""
    run = registry.load(ROOT / "results" / "baseline-zones-small.json")
    assert [w for w in build_report(run).warnings if w.startswith("WARNING")] == []


def test_compare_leaves_a_clock_bound_phase_unjudged() -> None:
    from ctbench.compare import compare

    base, cand = make_run(), make_run(seed=1)
    cand.results[0].phases["flush_full_zone"].samples[:] = clock_noise(n=200)
    warnings = compare(base, cand, names=("a.json", "b.json")).warnings
    assert not [w for w in warnings if "flush_full_zone on single" in w]


def test_compare_warns_of_each_sides_unstable_phases() -> None:
    from ctbench.compare import compare

    base, cand = make_run(), make_run(seed=1)
    samples = cand.results[0].phases["flush_full_zone"].samples
    samples[:] = ([100.0] * 9 + [1000.0]) * 20
    warnings = compare(base, cand, names=("a.json", "b.json")).warnings
    assert [w for w in warnings if "on single" in w] == [
        f"b.json: flush_full_zone on single: {finding}"
        for finding in stability_findings(samples)
    ]
