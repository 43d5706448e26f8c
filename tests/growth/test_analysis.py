"""From points to fits: the designs' exponents come back, and what cannot
be trusted is said."""

from __future__ import annotations

import pytest

from ctbench.growth.analysis import SweepError, point_record
from ctbench.growth.build import build_sweep
from tests.helpers.sweep_factory import LAWS, grid_runs, zones_run


def test_the_designs_exponents_come_back_within_their_intervals() -> None:
    doc = build_sweep(grid_runs(), "min")
    assert len(doc.fits) == 8 and not doc.notes and not doc.warnings
    covered = 0
    for fit in doc.fits:
        want = LAWS[fit.backend][fit.phase]
        for exponent, value in zip(fit.fit.exponents, want, strict=True):
            assert exponent.value == pytest.approx(value, abs=0.1)
            covered += exponent.low < value < exponent.high
        assert fit.machines == 1 and not fit.fit.poor
    # 95% intervals: of 16, one or two may miss (binomial, p = 0.05).
    assert covered >= 14


def test_observations_use_the_statistic_and_the_stored_connections() -> None:
    run = zones_run(1000, 10, noise=0.5, iterations=9)
    for statistic in ("min", "median", "mean"):
        record = point_record("p.json", run, statistic)
        obs = record.observations[0]
        samples = run.results[0].phases[obs.phase].samples
        expected = {"min": min(samples), "median": sorted(samples)[4]}.get(
            statistic, sum(samples) / len(samples)
        )
        assert obs.cost_us == pytest.approx(expected)
        assert (obs.stored, obs.zone, obs.samples) == (10_000, 1000, 9)


def test_points_from_another_machine_are_flagged_as_compare_flags_them() -> None:
    named = grid_runs()
    named[4] = (named[4][0], zones_run(3000, 30, environment={"cpu_model": "Other"}))
    doc = build_sweep(named, "min")
    assert doc.warnings[0].startswith("the points come from 2 different machines")
    flagged = [p for p in doc.points if p.flags]
    assert [p.file for p in flagged] == ["p-3000-30.json"]
    assert flagged[0].flags == [
        "different environment: cpu_model is 'Test CPU @ 3.0GHz' in "
        "8 of the 9 points but 'Other' in p-3000-30.json"
    ]
    assert {f.machines for f in doc.fits} == {2}


def test_a_foreign_point_given_first_is_the_one_flagged() -> None:
    # It once was the yardstick: the 8 points of the common machine were
    # flagged and it was not.
    named = grid_runs()
    named[0] = (named[0][0], zones_run(1000, 10, environment={"cpu_model": "Other"}))
    doc = build_sweep(named, "min")
    assert [p.file for p in doc.points if p.flags] == ["p-1000-10.json"]
    assert doc.points[0].flags == [
        "different environment: cpu_model is 'Test CPU @ 3.0GHz' in "
        "8 of the 9 points but 'Other' in p-1000-10.json"
    ]
    assert doc.warnings[0] == (
        "the points come from 2 different machines or builds (8 points with "
        "cpu_model 'Test CPU @ 3.0GHz'; 1 point with cpu_model 'Other'; the "
        "others are flagged below): their timings are not comparable, and the "
        "fits mix them"
    )


def test_points_that_differ_only_in_ovs_stats_make_one_sweep() -> None:
    # --ovs-stats adds ovstest's estimators to the report: no timed work.
    named = grid_runs()
    named[3] = (named[3][0], zones_run(3000, 10, params={"ovs_stats": True}))
    doc = build_sweep(named, "min")
    assert len(doc.fits) == 8 and not doc.warnings
    # The grid's shared parameters do not claim the first point's value.
    assert "ovs_stats" not in doc.grid["params"]
    assert build_sweep(grid_runs(), "min").grid["params"]["ovs_stats"] is False


def test_a_missing_point_and_a_repeated_one_are_warned_about() -> None:
    named = grid_runs()
    del named[0]
    named.append(("again.json", zones_run(10000, 100, seed=1)))
    doc = build_sweep(named, "min")
    text = "\n".join(doc.warnings)
    assert "the grid lacks entries 1,000 x zones 10" in text
    assert (
        "entries 10,000 x zones 100 is in both p-10000-100.json and again.json" in text
    )
    assert all(f.fit.n == 9 for f in doc.fits)


def test_points_of_different_workloads_are_refused() -> None:
    named = grid_runs()
    named[2] = (named[2][0], zones_run(1000, 100, params={"conn_limit": 5}))
    with pytest.raises(SweepError, match="conn_limit is 5 but 3000000"):
        build_sweep(named, "min")


def test_too_few_points_give_notes_not_fits() -> None:
    doc = build_sweep(grid_runs()[:3], "min")
    assert doc.fits == [] and "needs at least 4" in doc.notes[0]
    # One ENTRIES value: zone size never varies apart from stored.
    named = [(f"{z}.json", zones_run(1000, z)) for z in (10, 30, 100, 300)]
    doc = build_sweep(named, "min")
    assert doc.fits == [] and "independently" in doc.notes[0]


def test_a_failed_backend_is_left_out_and_flagged() -> None:
    named = grid_runs()
    run = named[0][1]
    run.results[1].status = "failed"
    run.results[1].error = "MemoryError: x"
    doc = build_sweep(named, "min")
    assert any("backend per-zone is failed" in w for w in doc.warnings)
    per_zone = [f for f in doc.fits if f.backend == "per-zone"]
    assert {f.fit.n for f in per_zone} == {8}


def test_a_run_without_its_sizes_is_refused() -> None:
    named = grid_runs()
    del named[0][1].params["entries"]
    with pytest.raises(SweepError, match="no ENTRIES and ZONES"):
        build_sweep(named, "min")
