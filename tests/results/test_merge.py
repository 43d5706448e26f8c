"""pool_runs on real runs of each command: every figure of the pooled run
is checked against the runs it pools, so that none is one run's value
passed off as the pool's."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ctbench import registry, results
from ctbench.backends import BackendSpec
from ctbench.capture import read_capture
from ctbench.disturbance import RECORD_KEY, pool_records
from ctbench.report.build import build_report
from ctbench.results import (
    BackendResult,
    Fill,
    Memory,
    PhaseResult,
    ResultsError,
    RunResult,
)
from ctbench.scenarios import benchmark, benchmark_zones, replay
from tests.helpers.paths import CAPTURES
from tests.helpers.run_factory import make_run

CAPTURE = CAPTURES / "mixed.pcap"
BOTH = (BackendSpec("single"), BackendSpec("per-zone"))


def _lines(run: RunResult) -> list[str]:
    report = build_report(run)
    return [*report.lead, *report.summary]


def _timed(run: RunResult, started: str, finished: str, overhead: float) -> RunResult:
    """The run as if it ran at these times, with this clock overhead: the
    second run given started first, so the first run's start is not the
    pool's."""
    run.started, run.finished = started, finished
    run.harness["timer_overhead_ns"] = overhead
    return run


def _phases(parts: list[BackendResult]) -> dict[str, PhaseResult]:
    """The runs' samples one after the other, their counters summed."""
    out = {}
    for name in parts[0].phases:
        counters: dict[str, int] = {}
        for part in parts:
            for key, value in part.phases[name].counters.items():
                counters[key] = counters.get(key, 0) + value
        samples = [s for part in parts for s in part.phases[name].samples]
        out[name] = PhaseResult(samples, counters)
    return out


def _pooled_header(a: RunResult, b: RunResult, params: dict[str, object]) -> RunResult:
    """What every command's pool of a and b (b started first) must say."""
    return RunResult(
        command=a.command,
        params=params,
        # The hostname differs: no one value is the pool's.
        environment={k: v for k, v in a.environment.items() if k != "hostname"},
        started=b.started,
        finished=a.finished,
        complete=True,
        # Each run's measure of one clock: their mean.
        harness={**a.harness, "timer_overhead_ns": (40.0 + 60.0) / 2},
        tool_version=a.tool_version,
        stopped_by=None,
        source={"pooled": ["a.json", "b.json"]},
    )


def _two(a: RunResult, b: RunResult) -> tuple[RunResult, RunResult]:
    _timed(a, "2026-01-01T10:00:00+00:00", "2026-01-01T10:05:00+00:00", 40.0)
    _timed(b, "2026-01-01T09:00:00+00:00", "2026-01-01T09:01:00+00:00", 60.0)
    b.environment["hostname"] = "another-name"
    return a, b


def test_pooled_benchmark_zones_runs_hold_the_pool_of_every_figure() -> None:
    def run(iterations: int, memory_sample: int = 200) -> RunResult:
        config = benchmark_zones.ZoneConfig(
            entries=40,
            zones=3,
            iterations=iterations,
            warmup=1,
            backends=BOTH,
            memory_sample=memory_sample,
        )
        return benchmark_zones.run_zones(config)

    a, b = _two(run(4), run(2))
    pooled = registry.pool([("a.json", a), ("b.json", b)])

    expected = _pooled_header(a, b, {**a.params, "iterations": 6})
    for ra, rb in zip(a.results, b.results, strict=True):
        ea, eb = ra.extra, rb.extra
        # Rounds run, warm-up included: the weight of a per-round average.
        ran_a, ran_b = ea["rounds"] + 1, eb["rounds"] + 1
        expected.results.append(
            BackendResult(
                backend=ra.backend,
                options=ra.options,
                label=ra.label,
                fill=replace(
                    ra.fill,
                    generate_us=(ra.fill.generate_us + rb.fill.generate_us) / 2,
                    insert_us=(ra.fill.insert_us + rb.fill.insert_us) / 2,
                ),
                memory=replace(
                    ra.memory,
                    bytes_per_conn=(ra.memory.bytes_per_conn + rb.memory.bytes_per_conn)
                    / 2,
                    fixed_bytes=round(
                        (ra.memory.fixed_bytes + rb.memory.fixed_bytes) / 2
                    ),
                ),
                phases=_phases([ra, rb]),
                extra={
                    "wall_s": ea["wall_s"] + eb["wall_s"],
                    "stored_at_end": ea["stored_at_end"],
                    "swept": ea["swept"] + eb["swept"],
                    "rounds": 6,
                    "harness_untimed_us_per_round": (
                        ea["harness_untimed_us_per_round"] * ran_a
                        + eb["harness_untimed_us_per_round"] * ran_b
                    )
                    / (ran_a + ran_b),
                    RECORD_KEY: pool_records([ea[RECORD_KEY], eb[RECORD_KEY]]),
                },
            )
        )
    assert pooled == expected
    assert pooled.started < pooled.finished
    assert results.loads(results.dumps(pooled)) == pooled
    lines = _lines(pooled)
    assert any("(means of 2 pooled runs)" in line for line in lines)
    assert any("sample; mean of 2 pooled runs)" in line for line in lines)
    assert any("total run time" in ln and "over 2 pooled runs" in ln for ln in lines)

    # Memory samples of different sizes do not average: no memory figure.
    other = registry.pool([("a.json", a), ("c.json", run(2, memory_sample=100))])
    assert {r.memory == Memory() for r in other.results} == {True}


def test_pooled_benchmark_runs_list_each_barrier_to_barrier_time() -> None:
    config = benchmark.ThreadsConfig(
        n_threads=2, n_pkts=160, batch_size=8, backends=BOTH
    )
    a, b = _two(benchmark.run_threads(config), benchmark.run_threads(config))
    pooled = registry.pool([("a.json", a), ("b.json", b)])

    expected = _pooled_header(a, b, dict(a.params))
    for ra, rb in zip(a.results, b.results, strict=True):
        ea, eb = ra.extra, rb.extra
        packets = ea["packets"] + eb["packets"]
        pps = packets / ((ea["wall_ms"] + eb["wall_ms"]) / 1e3)
        expected.results.append(
            BackendResult(
                backend=ra.backend,
                options=ra.options,
                label=ra.label,
                fill=ra.fill,
                memory=ra.memory,
                phases=_phases([ra, rb]),
                extra={
                    # No single barrier-to-barrier time: each run's.
                    "wall_ms_per_run": [ea["wall_ms"], eb["wall_ms"]],
                    "packets": packets,
                    "thread_packets": [
                        x + y
                        for x, y in zip(
                            ea["thread_packets"], eb["thread_packets"], strict=True
                        )
                    ],
                    "thread_batches": [
                        x + y
                        for x, y in zip(
                            ea["thread_batches"], eb["thread_batches"], strict=True
                        )
                    ],
                    "thread_ms": [
                        x + y
                        for x, y in zip(ea["thread_ms"], eb["thread_ms"], strict=True)
                    ],
                    "connections": ea["connections"],
                    "pps": pps,
                    "pps_per_thread": pps / 2,
                    RECORD_KEY: pool_records([ea[RECORD_KEY], eb[RECORD_KEY]]),
                },
            )
        )
    assert pooled == expected
    assert results.loads(results.dumps(pooled)) == pooled
    single = pooled.results[0].extra
    lead = build_report(pooled).lead
    # ovstest's line once per run, each with that run's time; none with
    # a sum that no run took.
    assert lead[:2] == (
        f"single: conntrack:  {round(single['wall_ms_per_run'][0]):5d} ms  "
        "(pooled run 1 of 2)",
        f"single: conntrack:  {round(single['wall_ms_per_run'][1]):5d} ms  "
        "(pooled run 2 of 2)",
    )
    summary = build_report(pooled).summary[0]
    assert summary.startswith("single: 640 packets in 2 pooled runs (")
    assert "packets/s over their sum" in summary


def test_pooled_replay_runs_count_the_repetitions_and_keep_the_capture() -> None:
    capture = read_capture(CAPTURE)

    def run(repeat: int) -> RunResult:
        config = replay.ReplayConfig(
            files=(str(CAPTURE),), repeat=repeat, backends=BOTH
        )
        return replay.run_replay(config, capture)

    a, b = _two(run(3), run(2))
    pooled = registry.pool([("a.json", a), ("b.json", b)])

    expected = _pooled_header(a, b, {**a.params, "repeat": 5})
    batches = a.params["batches"]
    rates = {}
    for ra, rb in zip(a.results, b.results, strict=True):
        ea = ra.extra
        assert ea["packets"] == len(capture) == rb.extra["packets"]
        # The rate over the whole repetitions' timed executes, as one run's.
        timed_us = sum(
            sum(r.phases[replay.PHASE].samples[: r.extra["repetitions"] * batches])
            for r in (ra, rb)
        )
        rates[ra.label] = len(capture) * 5 / (timed_us / 1e6)
        expected.results.append(
            BackendResult(
                backend=ra.backend,
                options=ra.options,
                label=ra.label,
                fill=ra.fill,
                memory=ra.memory,
                phases=_phases([ra, rb]),
                extra={
                    "packets": len(capture),  # one repetition's, as in a run
                    "repetitions": 5,
                    "states": ea["states"],
                    "invalid_reasons": ea["invalid_reasons"],
                    "stored_at_end": ea["stored_at_end"],
                    RECORD_KEY: pool_records([ea[RECORD_KEY], rb.extra[RECORD_KEY]]),
                },
            )
        )
    pps = {r.label: r.extra.pop("pps") for r in pooled.results}
    assert pps == pytest.approx(rates, rel=1e-9)
    assert pooled == expected
    for result in pooled.results:
        result.extra["pps"] = pps[result.label]
    assert results.loads(results.dumps(pooled)) == pooled
    lines = _lines(pooled)
    assert "zone 0, played 5 times over 2 pooled runs" in lines[0]
    work = [line for line in lines if "work over" in line]
    assert work[0].startswith("single: work over 5 repetitions: 260 packets")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("gil_enabled", False),
        ("cpu_model", "Another CPU"),
        ("python_version", "3.13.1"),
    ],
)
def test_runs_from_different_machines_or_builds_are_refused(
    field: str, value: object
) -> None:
    other = make_run(n=5, environment={field: value})
    with pytest.raises(ResultsError) as info:
        registry.pool([("a.json", make_run(n=5)), ("b.json", other)])
    assert str(info.value).startswith(
        "cannot pool runs from different machines or builds: different "
        f"environment: {field} is "
    )


def test_runs_whose_fills_differ_are_refused() -> None:
    cut = make_run(n=5)
    cut.results[1].fill = Fill(20_000, 9_000, 0, 1.0, 2.0, 9_000)
    with pytest.raises(ResultsError, match="per-zone stored 20,000 of 20,000 in a"):
        registry.pool([("a.json", make_run(n=5)), ("b.json", cut)])


def test_side_by_side_each_file_says_whether_its_figures_are_means() -> None:
    pooled = ("p.json", registry.pool([("a", make_run(n=5)), ("b", make_run(n=5))]))
    single = ("one.json", make_run(n=5))
    for named in ([pooled, single], [single, pooled]):
        lines = build_report(results.merge_runs(named)).summary
        fills = [line for line in lines if "packet generation" in line]
        assert len(fills) == 4
        for line in fills:
            assert ("(means of 2 pooled runs)" in line) == line.startswith("p.json:")


def test_a_hand_edited_side_by_side_record_is_ignored() -> None:
    run = make_run(n=5)
    run.source = {"side_by_side": [{"file": 1}], "pooled": "x"}
    report = build_report(results.loads(results.dumps(run)))
    assert len(report.comparisons) == 2  # per-zone against single, two phases
    assert not any("pooled" in line for line in report.summary)
