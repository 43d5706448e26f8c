"""Run-time estimates: the work times measured costs, checked before a run."""

from __future__ import annotations

import pytest
from cli_helpers import run_cli

from ctbench.backends import BackendSpec
from ctbench.estimate import (
    QUIET_BELOW_S,
    REFUSE_ABOVE_S,
    Costs,
    Estimate,
    calibrate,
    estimate_threads,
    estimate_zones,
    zones_seconds,
)

BOTH = (BackendSpec("single"), BackendSpec("per-zone"))


def test_calibration_tells_a_scanning_design_from_an_indexed_one() -> None:
    single, per_zone = calibrate(BOTH[0]), calibrate(BOTH[1])
    assert single.scans_all and not per_zone.scans_all
    for costs in (single, per_zone):
        assert 0 < costs.lookup < costs.commit < 1e-3
        assert 0 < costs.visit < 1e-5


def test_the_work_counts_as_the_scenario_does() -> None:
    unit = Costs(
        commit=1, refused=0.5, lookup=0.25, visit=0.01, remove=0.125, scans_all=True
    )
    # 2 zones x 3 entries, a limit of 4: 4 commits and 2 refused; each round
    # commits, looks up and removes 3, and walks the 4 stored twice.
    assert zones_seconds(unit, 3, 2, 10, 4) == pytest.approx(
        4 + 1 + 10 * (3 * 1.375 + 0.08)
    )
    indexed = Costs(1, 0.5, 0.25, 0.01, 0.125, scans_all=False)
    assert zones_seconds(indexed, 3, 2, 10, 4) == pytest.approx(5 + 10 * (4.125 + 0.03))


def test_short_runs_are_not_calibrated() -> None:
    estimate = estimate_zones(BOTH, 1000, 10, 20, 3_000_000)
    assert not estimate.calibrated and estimate.seconds <= QUIET_BELOW_S
    assert not estimate_threads(BOTH, 2, 100, 32).calibrated


def test_long_runs_are() -> None:
    estimate = estimate_zones(BOTH, 10_000, 1000, 1000, 3_000_000)
    assert estimate.calibrated
    assert 60 < estimate.seconds < 3600  # the headline: 173 s measured


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(42, "about 0:42"), (19737, "about 5:28:57"), (3 * 86400, "about 3 days")]
    + [(1e30, "over 99 days"), (float("inf"), "over 99 days")],
)
def test_estimates_read_as_durations(seconds: float, words: str) -> None:
    assert Estimate(seconds, True).words == words


@pytest.mark.parametrize(
    "args",
    [
        # The connection limit caps the table, not the fill: 6.6e10 attempts,
        # a day here, and hours even on a machine many times faster (an
        # attempt costs 0.5-1 us here; 100000 60000 1 was estimated at only
        # 1:38-2:48, too close to the hour for a faster CI runner).
        ["1000000", "65534", "1"],
        ["10", "1", str(2**64)],  # ITERATIONS
        ["10", "1", "1", "--warmup", str(2**64)],
    ],
    ids=["huge-fill", "iterations", "warmup"],
)
def test_runs_over_an_hour_are_refused_in_one_line(args: list[str]) -> None:
    code, out, err = run_cli("benchmark-zones", *args, "-q")
    assert code == 2 and out == ""
    assert err.startswith("ctbench: error: this run would take ")
    assert "--force" in err and err.count("\n") == 1


def test_the_estimate_is_shown_over_a_minute_and_force_overrides_the_refusal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctbench.cli import zones

    def long(*args: object) -> Estimate:
        return Estimate(5 * 3600, calibrated=True)

    monkeypatch.setattr(zones, "estimate_zones", long)
    small = ["benchmark-zones", "20", "2", "2", "-q", "--memory-sample", "0"]
    assert run_cli(*small).code == 2
    code, _, err = run_cli(*small, "--force")
    assert code == 0
    assert "this run should take about 5:00:00" in err


def test_thread_starts_count() -> None:
    # 60,000 threads of one packet each: the batches are nothing, the
    # starts (1.7 ms each, measured) a minute and a half.
    assert estimate_threads(BOTH[:1], 60_000, 1, 1).seconds > 90


def test_a_grid_is_the_sum_of_its_points() -> None:
    from ctbench.estimate import estimate_zones_grid

    specs = (BackendSpec("single"), BackendSpec("per-zone"))
    points = [(100, 2), (300, 5)]
    grid = estimate_zones_grid(specs, points, 3, 0)
    alone = [estimate_zones(specs, e, z, 3, 0) for e, z in points]
    assert not grid.calibrated
    assert grid.seconds == pytest.approx(sum(a.seconds for a in alone))


@pytest.mark.parametrize("command", ["benchmark-zones", "benchmark", "replay", "sweep"])
def test_force_help_names_both_refusals_it_lifts(command: str) -> None:
    code, out, _ = run_cli(command, "--help")
    assert code == 0
    force = " ".join(out.split("--force", 1)[1].split("--", 1)[0].split())
    assert REFUSE_ABOVE_S == 3600  # what "an hour" in the help says
    assert "memory" in force and "over an hour" in force
