"""ctbench.history: a scenario's runs, their order, trends and steps.

The done-when cases of issue 24 run on real results files
(tests/data/history/README.md): a step of 10% or less put in at run 13 is
found within one run of it, and 22 unmodified runs give none.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ctbench import registry
from ctbench.history.analysis import History, build_history
from ctbench.history.runs import HistoryError, NamedRun, files_of, ordered
from tests.helpers.paths import ROOT
from tests.helpers.run_factory import make_run

DATA = ROOT / "tests/data/history"
STEP_AT = 13  # the first run whose lookups probe again (1-based)
LOOKUP_PHASES = ("ct_execute_commit", "ct_execute_no_commit")


def _history(directory: Path, **options: object) -> History:
    named = [NamedRun(p.name, registry.load(p)) for p in files_of([directory])]
    return build_history(named, key="run", **options)  # type: ignore[arg-type]


def test_a_step_of_ten_percent_or_less_is_found_within_one_run_of_it() -> None:
    history = _history(DATA / "step")
    (scenario,) = history.scenarios
    assert len(scenario.runs) >= 20
    by_phase = {t.phase: t for t in scenario.trends}
    for phase in LOOKUP_PHASES:
        (step,) = by_phase[phase].steps
        assert abs(step.index + 1 - STEP_AT) <= 1
        assert 0 < step.change <= 0.10
        assert 0 < step.low <= step.change <= step.high
        assert step.p_value <= 0.01
    # The flushes do no lookup: the extra probes did not change them.
    for phase in ("flush_full_zone", "flush_empty_zone"):
        assert by_phase[phase].steps == ()
    assert history.regressed


def test_twenty_unmodified_runs_have_no_step() -> None:
    history = _history(DATA / "steady")
    (scenario,) = history.scenarios
    assert len(scenario.runs) >= 20
    assert all(t.steps == () for t in scenario.trends)
    assert all(t.rejected is not None and t.rejected[1] > 0.01 for t in scenario.trends)
    assert not history.regressed


def test_the_minimum_finds_the_step_too() -> None:
    (scenario,) = _history(DATA / "step", statistic="min").scenarios
    by_phase = {t.phase: t for t in scenario.trends}
    (step,) = by_phase["ct_execute_no_commit"].steps
    assert abs(step.index + 1 - STEP_AT) <= 1


def test_a_faster_step_at_the_end_is_no_regression() -> None:
    """The same runs backwards: the step is a speed-up."""
    named = [NamedRun(p.name, registry.load(p)) for p in files_of([DATA / "step"])]
    for n in named:
        n.run.tags["back"] = str(100 - int(n.run.tags["run"]))
    history = build_history(named, key="back")
    (scenario,) = history.scenarios
    steps = [s for t in scenario.trends for s in t.steps]
    assert steps and all(not s.slower for s in steps)
    assert not history.regressed


def _named(name: str, **changes: object) -> NamedRun:
    return NamedRun(name, replace(make_run(n=5), **changes))  # type: ignore[arg-type]


def test_runs_of_another_scenario_are_refused_or_grouped() -> None:
    a = _named("a.json")
    b = _named("b.json", params={**a.run.params, "entries": 5000})
    with pytest.raises(HistoryError, match="runs of 2 scenarios.*give --group"):
        build_history([a, b])
    assert len(build_history([a, b], grouped=True).scenarios) == 2


def test_rounds_and_backends_may_differ_within_a_scenario() -> None:
    a = _named("a.json")
    b = _named("b.json", params={**a.run.params, "iterations": 7, "backends": []})
    assert len(build_history([a, b]).scenarios) == 1


def test_runs_are_ordered_by_start_or_by_a_tag() -> None:
    early = _named("early.json", started="2026-01-01T00:00:00+00:00", tags={"n": "10"})
    late = _named("late.json", started="2026-01-02T00:00:00+00:00", tags={"n": "9"})
    assert [n.name for n in ordered([late, early], None)] == ["early.json", "late.json"]
    # Integers as numbers: 9 before 10.
    assert [n.name for n in ordered([early, late], "n")] == ["late.json", "early.json"]
    with pytest.raises(HistoryError, match="--key commit: early.json has no tag"):
        ordered([early, late], "commit")
    with pytest.raises(HistoryError, match="records no start time"):
        ordered([_named("x.json", started="")], None)


def test_a_run_from_another_machine_is_flagged_as_compare_flags_it() -> None:
    runs = [
        _named(f"r{i}.json", started=f"2026-01-0{i + 1}T00:00:00+00:00")
        for i in range(3)
    ]
    runs[2].run.environment["cpu_model"] = "Other CPU"
    (scenario,) = build_history(runs).scenarios
    assert scenario.runs[0].flags == scenario.runs[1].flags == ()
    (flag,) = scenario.runs[2].flags
    assert flag == (
        "different environment: cpu_model is 'Test CPU @ 3.0GHz' in r1.json "
        "but 'Other CPU' in r2.json"
    )


def test_too_few_runs_have_no_step_and_no_split_tested() -> None:
    runs = [_named(f"r{i}.json", tags={"i": str(i)}) for i in range(4)]
    (scenario,) = build_history(runs, key="i").scenarios
    assert all(t.steps == () and t.rejected is None for t in scenario.trends)
