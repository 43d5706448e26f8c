"""Run-time estimates: the work times measured costs, checked before a run."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ctbench import environment, estimate
from ctbench.backends import BackendSpec
from ctbench.estimate import (
    CALIBRATION_FRAMES,
    CALLGRIND_EDGE_S,
    CALLGRIND_SLOWDOWN,
    CALLGRIND_START_S,
    FIXED_S,
    QUIET_BELOW_S,
    REFUSE_ABOVE_S,
    REPORT_S_PER_SAMPLE,
    THREAD_START_S,
    Costs,
    Estimate,
    bound_seconds,
    calibrate,
    counted_estimate,
    estimate_create_rate,
    estimate_threads,
    estimate_zones,
    estimate_zones_grid,
    zones_seconds,
)
from ctbench.scenarios import create_rate
from ctbench.scenarios.benchmark import (
    ESTIMATE_BYTES_PER_BATCH,
    ESTIMATE_BYTES_PER_EARLIER_BATCH,
    ThreadsConfig,
)
from ctbench.scenarios.benchmark import ESTIMATE_FIXED_BYTES as THREADS_FIXED_BYTES
from ctbench.scenarios.benchmark_zones import (
    ESTIMATE_BYTES_PER_EARLIER_ROUND,
    ESTIMATE_BYTES_PER_ROUND,
    PHASES,
    ZoneConfig,
)
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.paths import CAPTURES

BOTH = (BackendSpec("single"), BackendSpec("per-zone"))


def test_calibration_tells_a_scanning_design_from_an_indexed_one() -> None:
    single, per_zone = (calibrate(spec, 1000, 10_000) for spec in BOTH)
    assert single.scans_all and not per_zone.scans_all
    assert single.visit > 0 and per_zone.visit == 0
    for costs in (single, per_zone):
        assert costs.frames == 1000
        assert 0 < costs.refused < 1e-3 and 0 < costs.commit < 1e-3
        assert 0 < costs.round < 1  # a round of 1,000 frames, harness included


def test_calibration_runs_at_the_runs_execute_size_up_to_4096_frames() -> None:
    assert calibrate(BOTH[1], 1, 2).frames == 1
    assert calibrate(BOTH[1], 10**6, 10**6).frames == CALIBRATION_FRAMES


# Fixed calibration inputs: the structure of the estimate, not timings.
UNIT = Costs(
    frames=3,
    generate=0.0,
    commit=1,
    refused=0.5,
    visit=0.01,
    scans_all=True,
    round=2,
)


def test_the_work_counts_as_the_scenario_does() -> None:
    report = len(PHASES) * REPORT_S_PER_SAMPLE
    # 2 zones x 3 entries, a limit of 4: 4 commits and 2 refused; each round
    # costs its calibrated 2 s for 3 frames, walks the 4 stored twice, and
    # leaves 4 samples for the report.
    assert zones_seconds(UNIT, 3, 2, 10, 4) == pytest.approx(
        4 + 1 + 10 * (2 + 0.08 + report)
    )
    indexed = replace(UNIT, scans_all=False)
    assert zones_seconds(indexed, 3, 2, 10, 4) == pytest.approx(5 + 10 * (2 + report))
    # Past the calibration's execute size, a round grows with ENTRIES.
    assert zones_seconds(indexed, 6, 1, 10, 0) == pytest.approx(6 + 10 * (4 + report))


def test_a_round_costs_its_own_time_however_few_its_frames() -> None:
    # ENTRIES 1: one frame a phase, yet each round costs what the calibration
    # measured for a whole round (35 us is this machine's, measured).
    one = Costs(1, 0.0, 5e-6, 4e-6, 17e-9, scans_all=True, round=35e-6)
    rounds = 30_000_000
    seconds = zones_seconds(one, 1, 2, rounds, 3_000_000)
    assert seconds > rounds * 35e-6  # 17.5 minutes at least
    assert zones_seconds(one, 1, 2, 2 * rounds, 3_000_000) == pytest.approx(
        2 * seconds, rel=1e-6
    )
    # The bound that decides whether to calibrate is above it.
    assert bound_seconds(1, 2, rounds, 3_000_000) > seconds > QUIET_BELOW_S


def test_a_sweep_calibrates_once_per_backend_and_execute_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, int, int]] = []

    def fixed(spec: BackendSpec, entries: int, stored: int) -> Costs:
        calls.append((spec.label, min(entries, CALIBRATION_FRAMES), stored))
        return replace(UNIT, frames=min(entries, CALIBRATION_FRAMES))

    monkeypatch.setattr(estimate, "calibrate", fixed)
    points = [(1000, 2), (1000, 3), (5000, 2), (9000, 2)]
    grid = estimate_zones_grid(BOTH, points, 10, 0, calibrate_above=0)
    # 1000 once per backend; 5000 and 9000 both execute 4,096 at most; each
    # on the largest table of its points.
    assert sorted(calls) == sorted(
        (spec.label, n, stored)
        for spec in BOTH
        for n, stored in ((1000, 3000), (4096, 18000))
    )
    expected = sum(
        len(BOTH) * FIXED_S
        + zones_seconds(replace(UNIT, frames=min(e, 4096)), e, z, 10, 0) * len(BOTH)
        for e, z in points
    )
    assert grid.calibrated and grid.seconds == pytest.approx(expected)


def test_many_rounds_of_one_entry_are_refused_for_their_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctbench import preflight

    monkeypatch.setattr(preflight, "available_memory", lambda: 16 * 2**30)
    result = run_cli("benchmark-zones", "1", "2", "30000000", "-b", "single")
    err = assert_one_line_error(result)
    assert result.out == "" and err.startswith("ctbench: error: this run needs about ")
    assert "but only 16.0 GiB is available" in err


def test_memory_counts_every_kept_round_and_the_earlier_backends_samples() -> None:
    def config(iterations: int, backends: int) -> ZoneConfig:
        specs = (BackendSpec("single"),) * backends
        return ZoneConfig(entries=1, zones=2, iterations=iterations, backends=specs)

    one, more = config(1000, 1), config(2000, 1)
    assert more.estimated_bytes() - one.estimated_bytes() == 1000 * (
        ESTIMATE_BYTES_PER_ROUND
    )
    two, three = config(1000, 2), config(1000, 3)
    step = ESTIMATE_BYTES_PER_EARLIER_ROUND * 1000
    assert two.estimated_bytes() - one.estimated_bytes() == step
    assert three.estimated_bytes() - two.estimated_bytes() == step
    # 30 M rounds of one entry: tens of GB, whatever the table.
    assert config(30_000_000, 1).estimated_bytes() > 40e9


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
    ("args", "refusal"),
    [
        # The connection limit caps the table, not the fill: 6.6e10 attempts,
        # a day here, and hours even on a machine many times faster (an
        # attempt costs 0.5-1 us here; 100000 60000 1 was estimated at only
        # 1:38-2:48, too close to the hour for a faster CI runner).
        (["1000000", "65534", "1"], "this run would take "),
        # Kept rounds are held in memory, which runs out first.
        (["10", "1", str(2**64)], "this run needs about "),  # ITERATIONS
        # Warm-up rounds are not kept: only their time counts.
        (["10", "1", "1", "--warmup", str(2**64)], "this run would take "),
    ],
    ids=["huge-fill", "iterations", "warmup"],
)
def test_runs_over_an_hour_or_the_memory_are_refused_in_one_line(
    args: list[str], refusal: str
) -> None:
    result = run_cli("benchmark-zones", *args, "-q")
    err = assert_one_line_error(result)
    assert result.out == "" and err.startswith(f"ctbench: error: {refusal}")
    assert "--force" in err


def test_the_estimate_is_shown_over_a_minute_and_force_overrides_the_refusal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctbench import commands

    def long(*args: object, **kwargs: object) -> Estimate:
        return Estimate(5 * 3600, calibrated=True)

    monkeypatch.setattr(commands, "estimate_zones", long)
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
    specs = (BackendSpec("single"), BackendSpec("per-zone"))
    points = [(100, 2), (300, 5)]
    grid = estimate_zones_grid(specs, points, 3, 0)
    alone = [estimate_zones(specs, e, z, 3, 0) for e, z in points]
    assert not grid.calibrated
    assert grid.seconds == pytest.approx(sum(a.seconds for a in alone))


@pytest.mark.parametrize(
    "command", ["benchmark-zones", "benchmark", "create-rate", "replay", "sweep"]
)
def test_force_help_names_both_refusals_it_lifts(command: str) -> None:
    code, out, _ = run_cli(command, "--help")
    assert code == 0
    force = " ".join(out.split("--force", 1)[1].split("--", 1)[0].split())
    assert REFUSE_ABOVE_S == 3600  # what "an hour" in the help says
    assert "memory" in force and "over an hour" in force


def test_a_replay_of_many_repetitions_is_refused_for_its_samples_memory() -> None:
    capture = CAPTURES / "mixed.pcap"
    result = run_cli("replay", capture, "--repeat", "1000000000", "-q")
    err = assert_one_line_error(result)
    assert result.out == "" and err.startswith("ctbench: error: this run needs about ")


def test_benchmark_memory_counts_the_earlier_backends_samples() -> None:
    def config(backends: int) -> ThreadsConfig:
        specs = (BackendSpec("single"),) * backends
        return ThreadsConfig(n_threads=2, n_pkts=1000, batch_size=10, backends=specs)

    batches = 2 * 100
    assert config(1).estimated_bytes() == (
        batches * ESTIMATE_BYTES_PER_BATCH + THREADS_FIXED_BYTES
    )
    assert config(3).estimated_bytes() - config(2).estimated_bytes() == (
        batches * ESTIMATE_BYTES_PER_EARLIER_BATCH
    )


def test_create_rate_memory_counts_connections_batches_and_earlier_backends() -> None:
    def size(n_conns: int, batch_size: int, backends: int = 1) -> int:
        return create_rate.CreateRateConfig(
            n_threads=2,
            n_conns=n_conns,
            batch_size=batch_size,
            backends=(BackendSpec("single"),) * backends,
        ).estimated_bytes()

    assert size(1000, 10) == (
        create_rate.ESTIMATE_FIXED_BYTES
        + 2000 * create_rate.ESTIMATE_BYTES_PER_CONN
        + 200 * create_rate.ESTIMATE_BYTES_PER_BATCH
    )
    assert size(1000, 10, 2) - size(1000, 10) == (
        200 * create_rate.ESTIMATE_BYTES_PER_EARLIER_BATCH
    )


def test_create_rate_is_calibrated_only_when_the_bound_is_long() -> None:
    assert not estimate_create_rate(BOTH, 2, 1000, 32).calibrated
    measured = estimate_create_rate(BOTH, 2, 1000, 32, calibrate_above=0)
    assert measured.calibrated and measured.seconds > 2 * FIXED_S


# A machine: whether the GIL is on, and the CPUs the process may use.
MACHINES = {
    "gil, 2 CPUs": (True, 2),
    "free, 2 CPUs": (False, 2),
    "free, 8 CPUs": (False, 8),
}


def on_machine(monkeypatch: pytest.MonkeyPatch, machine: str) -> None:
    gil, cpus = MACHINES[machine]
    monkeypatch.setattr(environment, "gil_enabled", lambda: gil)
    monkeypatch.setattr(environment, "usable_cpus", lambda: cpus)


@pytest.mark.parametrize(
    ("machine", "n_threads", "at_once"),
    [
        ("gil, 2 CPUs", 4, 1),  # they take turns: their work adds up
        ("free, 2 CPUs", 1, 1),
        ("free, 2 CPUs", 4, 2),  # no more at once than the CPUs
        ("free, 8 CPUs", 4, 4),  # no more than the threads
    ],
)
def test_threads_work_at_once_only_without_the_gil_and_up_to_the_cpus(
    monkeypatch: pytest.MonkeyPatch, machine: str, n_threads: int, at_once: int
) -> None:
    on_machine(monkeypatch, machine)
    assert estimate.threads_at_once(n_threads) == at_once


@pytest.mark.parametrize("machine", MACHINES)
def test_threaded_estimates_divide_the_threads_own_work_among_those_at_once(
    monkeypatch: pytest.MonkeyPatch, machine: str
) -> None:
    """Fixed calibrations: 100 us a benchmark batch (per-zone 200 us); 3 us
    to build a create-rate frame and 7 us to create its connection
    (per-zone 17 us).  Only the threads' own work is divided: their
    starts, the report and the fixed part are the main thread's, and
    create-rate's creations wait for ct_lock."""
    on_machine(monkeypatch, machine)
    at_once = {"gil, 2 CPUs": 1, "free, 2 CPUs": 2, "free, 8 CPUs": 4}[machine]
    per_batch = {"single": 100e-6, "per-zone": 200e-6}
    monkeypatch.setattr(
        estimate, "calibrate_batch", lambda spec, size: per_batch[spec.name]
    )
    monkeypatch.setattr(
        estimate, "calibrate_creations", lambda specs, n, size: (3e-6, [7e-6, 17e-6])
    )
    threads, batches, conns = 4, 1_000_000, 2_000_000
    fixed = FIXED_S + threads * THREAD_START_S
    bench = estimate_threads(BOTH, threads, batches, 32)
    samples = threads * batches * REPORT_S_PER_SAMPLE
    work = threads * batches * (100e-6 + 200e-6)
    assert bench.calibrated
    assert bench.seconds == pytest.approx(2 * (fixed + samples) + work / at_once)
    create = estimate_create_rate(BOTH, threads, conns, 32)
    samples = threads * (conns // 32) * REPORT_S_PER_SAMPLE
    built = threads * conns * 2 * 3e-6
    created = threads * conns * (7e-6 + 17e-6)
    assert create.calibrated
    assert create.seconds == pytest.approx(
        2 * (fixed + samples) + built / at_once + created
    )


def test_a_counted_run_is_its_time_run_slowed_down_plus_its_dumps() -> None:
    """Under callgrind the run's estimate is calibrated once its slowed-down
    bound could pass a minute, then slowed down; the start and two dumps per
    section come on top.  Time runs are estimated as before."""
    asked: list[float] = []

    def estimate(*, calibrate_above: float) -> Estimate:
        asked.append(calibrate_above)
        return Estimate(2.0, calibrated=True)

    assert counted_estimate("time", 100, estimate) == Estimate(2.0, True)
    counted = counted_estimate("instructions", 100, estimate)
    slowdown = CALLGRIND_SLOWDOWN["instructions"]
    assert asked == [QUIET_BELOW_S, QUIET_BELOW_S / slowdown]
    assert counted.seconds == pytest.approx(
        2.0 * slowdown
        + CALLGRIND_START_S["instructions"]
        + 200 * CALLGRIND_EDGE_S["instructions"]
    )
    # A million one-batch sections: over an hour, which the CLI refuses.
    tiny = counted_estimate(
        "instructions", 10**6, lambda *, calibrate_above: Estimate(0.1, False)
    )
    assert tiny.seconds > REFUSE_ABOVE_S
