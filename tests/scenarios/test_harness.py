"""scenarios/harness.py: the section marks a counted run's scenarios read
instead of the clock (the counts themselves need valgrind:
tests/callgrind/test_counted_runs.py)."""

from __future__ import annotations

import gc
import os

import pytest

from ctbench.backends import BackendSpec
from ctbench.scenarios import benchmark_zones, replay
from ctbench.scenarios.benchmark_zones import ZoneConfig
from ctbench.scenarios.harness import (
    MARKS,
    ConfigError,
    SectionMarks,
    gc_frozen,
    section_clock,
)
from ctbench.scenarios.replay import ReplayConfig
from tests.helpers.paths import DATA


def test_the_closing_edge_reads_the_ordinal_in_thousandths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    yields: list[int] = []
    monkeypatch.setattr(os, "sched_yield", lambda: yields.append(1))
    marks = SectionMarks()
    readings = [marks.edge() for _ in range(6)]
    assert readings == [0, 0, 0, 1000, 0, 2000]
    assert marks.edges == 6 and len(yields) == 6


def test_time_reads_the_clock_and_counts_read_the_marks() -> None:
    assert section_clock("time").__name__ == "perf_counter_ns"
    assert section_clock("instructions") == MARKS.edge
    with pytest.raises(ConfigError, match="--measure must be one of"):
        ZoneConfig(entries=1, zones=1, iterations=1, measure="watts")


def test_each_kept_sample_is_its_sections_ordinal_warm_up_included() -> None:
    """Two warm-up rounds and three kept ones on each of two backends: the
    samples are the ordinals of the kept rounds' sections, in the order the
    rounds ran them (ovstest's phase order), and every section was marked."""
    config = ZoneConfig(
        entries=5,
        zones=2,
        iterations=3,
        warmup=2,
        memory_sample=0,
        backends=(BackendSpec("single"), BackendSpec("per-zone")),
        measure="instructions",
    )
    before = MARKS.edges
    run = benchmark_zones.run_zones(config)
    first = before // 2
    phases = [p.name for p in benchmark_zones.PHASES]
    for b, result in enumerate(run.results):
        for i, name in enumerate(phases):
            rounds = range(2 + b * 5, 5 + b * 5)  # kept rounds of this backend
            expected = [first + r * 4 + i for r in rounds]
            assert result.phases[name].samples == expected
    assert MARKS.edges - before == 2 * 2 * 5 * 4


def test_replay_marks_each_batch() -> None:
    config = ReplayConfig(
        files=(str(DATA / "captures" / "tcp.pcap"),),
        backends=(BackendSpec("single"),),
        measure="instructions",
    )
    capture = replay.load_captures([DATA / "captures" / "tcp.pcap"])
    before = MARKS.edges
    run = replay.run_replay(config, capture)
    samples = run.results[0].phases[replay.PHASE].samples
    assert samples == list(range(before // 2, before // 2 + len(samples)))
    assert MARKS.edges - before == 2 * len(samples)


def test_gc_frozen_thaws_only_when_it_froze_first() -> None:
    """``gc.unfreeze`` thaws everything: a caller's frozen objects (the
    suite's, here) stay frozen after a run; with none, nothing does."""
    caller_froze = gc.get_freeze_count() > 0
    try:
        gc.unfreeze()
        with gc_frozen():
            assert gc.get_freeze_count() > 0 and not gc.isenabled()
        assert gc.get_freeze_count() == 0 and gc.isenabled()
        gc.freeze()
        frozen = gc.get_freeze_count()
        with gc_frozen():
            assert not gc.isenabled()
        assert gc.get_freeze_count() >= frozen and gc.isenabled()
    finally:
        if not caller_froze:
            gc.unfreeze()
