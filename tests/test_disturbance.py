"""disturbance.py: what a run records about the machine, when a phase
counts as disturbed, and where the reports say so."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ctbench import disturbance
from ctbench.backends import BackendSpec
from ctbench.compare import compare
from ctbench.disturbance import (
    PER_THREAD,
    RECORD_KEY,
    RUN_CPU,
    SWITCHED_ROUNDS,
    Disturbance,
    PhaseSwitches,
    ThreadSection,
    disturbed_findings,
    involuntary_switches,
    pool_records,
    run_cpu_share,
)
from ctbench.report.build import build_report
from ctbench.results.files import loads
from ctbench.results.schema import ResultsError, run_from_json, run_to_json
from ctbench.scenarios.benchmark_zones import ZoneConfig, run_zones
from tests.helpers.cli import run_cli
from tests.helpers.paths import CAPTURES, ROOT
from tests.helpers.run_factory import make_run


def record(switched: int = 0, rounds: int = 100, cpu_s: float = 1.0) -> dict[str, Any]:
    return {
        "per_thread": True,
        "wall_s": 1.0,
        "cpu_s": cpu_s,
        "others_cpu_s": 0.5,
        "steal_s": 0.0,
        "load_before": [0.5, 0.4, 0.3],
        "load_after": [1.5, 0.6, 0.4],
        "phases": {
            "flush_full_zone": {
                "rounds": rounds,
                "rounds_switched": switched,
                "involuntary_switches": switched,
            },
            "ct_execute_commit": {
                "rounds": rounds,
                "rounds_switched": 0,
                "involuntary_switches": 0,
            },
        },
    }


def test_a_quiet_record_is_not_disturbed() -> None:
    assert disturbed_findings(record(switched=2)) == {}
    assert disturbed_findings({}) == {}  # an older file has none


def test_switched_rounds_past_the_bound_disturb_that_phase_only() -> None:
    found = disturbed_findings(record(switched=int(SWITCHED_ROUNDS * 100)))
    assert list(found) == ["flush_full_zone"]
    assert found["flush_full_zone"] == (
        "disturbed: 10% of rounds had an involuntary context switch (warned at "
        "10%); the run had the CPU 100% of its wall time (warned under 90%); "
        "other processes used 0.50 cores, steal 0.00; load 0.50 before, 1.50 after"
    )


def test_a_thread_kept_off_its_core_disturbs_every_phase() -> None:
    found = disturbed_findings(record(cpu_s=RUN_CPU - 0.01))
    assert set(found) == {"flush_full_zone", "ct_execute_commit"}
    assert "the run had the CPU 89% of its wall time" in found["ct_execute_commit"]


def test_pooled_records_sum_as_one_long_run() -> None:
    pooled = pool_records([record(switched=5), record(switched=20)])
    assert pooled["wall_s"] == 2.0 and pooled["others_cpu_s"] == 1.0
    assert pooled["phases"]["flush_full_zone"] == {
        "rounds": 200,
        "rounds_switched": 25,
        "involuntary_switches": 25,
    }
    assert pooled["load_after"] == [1.5, 0.6, 0.4]
    assert list(disturbed_findings(pooled)) == ["flush_full_zone"]  # 12.5%


def test_a_switch_count_is_this_threads() -> None:
    before = involuntary_switches()
    assert involuntary_switches() >= before >= 0
    assert PER_THREAD == sys.platform.startswith("linux")


def test_a_record_without_proc_stat_keeps_the_rest() -> None:
    done = Disturbance().finish()
    assert {"per_thread", "wall_s", "cpu_s", "phases"} <= set(done)
    if Path("/proc/stat").exists():
        assert done["others_cpu_s"] >= 0 and done["steal_s"] >= 0


def test_benchmark_zones_records_each_phase_per_kept_round() -> None:
    config = ZoneConfig(
        entries=50,
        zones=2,
        iterations=7,
        warmup=2,
        backends=(BackendSpec("single"),),
        memory_sample=0,
    )
    run = run_zones(config)
    kept = run.results[0].extra[RECORD_KEY]
    assert set(kept["phases"]) == set(run.results[0].phases)
    assert all(p["rounds"] == 7 for p in kept["phases"].values())
    assert 0 < kept["cpu_s"] <= kept["wall_s"] * 1.05
    # The results file keeps it, and reads it back.
    again = run_from_json(json.loads(json.dumps(run_to_json(run))))
    assert again.results[0].extra[RECORD_KEY] == kept


def test_a_malformed_record_is_refused_in_one_line() -> None:
    data = run_to_json(make_run())
    data["results"][0]["extra"][RECORD_KEY] = {"phases": {"x": {"rounds": "7"}}}
    with pytest.raises(ResultsError, match="'extra.disturbance' has the wrong type"):
        loads(json.dumps(data))


def test_the_report_and_compare_name_a_disturbed_phase() -> None:
    base, cand = make_run(), make_run(seed=1)
    cand.results[0].extra[RECORD_KEY] = record(switched=30)
    lines = [w for w in build_report(cand).warnings if "disturbed" in w]
    assert lines == [
        "WARNING: flush full zone on single: "
        + disturbed_findings(record(switched=30))["flush_full_zone"]
    ]
    warnings = compare(base, cand, names=("a.json", "b.json")).warnings
    (line,) = [w for w in warnings if "disturbed" in w]
    assert line.startswith(
        "the verdict on flush_full_zone on single (unchanged) rests on a "
        "disturbed run: b.json: disturbed: 30% of rounds"
    )


def test_an_older_file_reads_and_warns_of_no_disturbance() -> None:
    old = ROOT / "tests" / "data" / "results" / "baseline-zones-2026-11-26-schema1.json"
    text = old.read_text()
    run = loads(text)
    assert not any("disturbed" in w for w in build_report(run).warnings)


# -- commands whose counts span many samples: replay, benchmark, create-rate --


def threaded_record(
    switches: int = 2, samples: int = 100, cpu_s: float = 1.9
) -> dict[str, Any]:
    """Four threads ready to run for two seconds in all, of one second's
    wall time."""
    return {
        "per_thread": True,
        "wall_s": 1.0,
        "cpu_s": cpu_s,
        "counted_over": "thread",
        "threads": 4,
        "ready_s": 2.0,
        "others_cpu_s": 0.25,
        "steal_s": 0.0,
        "phases": {
            "ct_execute_batch": {
                "rounds": samples,
                "rounds_switched": min(switches, samples),
                "involuntary_switches": switches,
            }
        },
    }


def test_a_count_over_many_samples_bounds_those_switched() -> None:
    tally = PhaseSwitches()
    tally.add_many(50, 3)
    tally.add_many(50, 80)  # more switches than samples: each hit one at most
    assert (tally.rounds, tally.rounds_switched, tally.switches) == (100, 53, 83)


def test_a_threaded_runs_cpu_is_a_share_of_the_time_it_was_ready_to_run() -> None:
    assert run_cpu_share(threaded_record()) == pytest.approx(0.95)
    assert disturbed_findings(threaded_record()) == {}
    found = disturbed_findings(threaded_record(cpu_s=1.7))["ct_execute_batch"]
    assert found == (
        "disturbed: at most 2% of samples had an involuntary context switch "
        "(2 switches, counted per thread; warned at 10%); the run's 4 threads "
        "had a CPU 85% of the time they were ready to run (warned under 90%); "
        "other processes used 0.25 cores, steal 0.00"
    )
    # Without the run-queue wait, no share: its wall time is not the time
    # its threads wanted a CPU.
    unread = {k: v for k, v in threaded_record(cpu_s=0.1).items() if k != "ready_s"}
    assert run_cpu_share(unread) is None and disturbed_findings(unread) == {}


def test_switches_counted_per_thread_warn_at_the_same_share() -> None:
    found = disturbed_findings(threaded_record(switches=int(SWITCHED_ROUNDS * 100)))
    assert found["ct_execute_batch"].startswith(
        "disturbed: at most 10% of samples had an involuntary context switch "
        "(10 switches, counted per thread; warned at 10%)"
    )
    assert disturbed_findings(threaded_record(switches=9)) == {}


def test_pooled_threaded_records_keep_how_they_were_counted() -> None:
    pooled = pool_records([threaded_record(), threaded_record(cpu_s=1.5)])
    assert pooled["ready_s"] == 4.0 and pooled["cpu_s"] == 3.4
    assert (pooled["counted_over"], pooled["threads"]) == ("thread", 4)
    assert list(disturbed_findings(pooled)) == ["ct_execute_batch"]  # 85%
    mixed = pool_records([threaded_record(), {**threaded_record(), "threads": 2}])
    assert "threads" not in mixed and mixed["counted_over"] == "thread"


def test_threads_each_count_their_own_section(monkeypatch: pytest.MonkeyPatch) -> None:
    sections = [
        ThreadSection(switches=s, cpu_ns=10**9, waited_ns=w)
        for s, w in ((1, 0), (4, 10**9))
    ]
    record = Disturbance(counted_over="thread")
    record.add_threads("p", sections, [10, 2])
    record.add_threads("p", sections, [10, 2])  # a second call replaces the first
    done = record.finish(sections)
    assert done["phases"]["p"] == {
        "rounds": 12,
        "rounds_switched": 3,
        "involuntary_switches": 5,
    }
    assert (done["threads"], done["cpu_s"], done["ready_s"]) == (2, 2.0, 3.0)
    # A wait that could not be read leaves no ready time.
    assert "ready_s" not in record.finish([*sections, ThreadSection()])
    # Where a count is the process's, each thread's holds the others': the
    # largest stands for them all.
    monkeypatch.setattr(disturbance, "PER_THREAD", False)
    record.add_threads("p", sections, [10, 2])
    assert record.phases["p"] == PhaseSwitches(12, 4, 4)


def test_a_section_reads_its_own_thread() -> None:
    section = ThreadSection()
    section.begin()
    sum(range(10_000))
    section.end()
    assert section.switches >= 0 and 0 < section.cpu_ns
    if Path("/proc/thread-self/schedstat").exists():
        assert section.waited_ns is not None and section.waited_ns >= 0


@pytest.mark.parametrize(
    ("args", "phase", "counted_over", "threads"),
    [
        (("benchmark", 2, 64, 8), "ct_execute_batch", "thread", 2),
        (("create-rate", 2, 40, 8, "--flusher"), "ct_execute_batch", "thread", 3),
        (
            ("replay", CAPTURES / "mixed.pcap", "--repeat", 2),
            "execute_batch",
            "repetition",
            None,
        ),
    ],
)
def test_each_commands_results_file_has_the_record(
    tmp_path: Path,
    args: tuple[object, ...],
    phase: str,
    counted_over: str,
    threads: int | None,
) -> None:
    out = tmp_path / "run.json"
    code, _, err = run_cli(*args, "-b", "single", "-q", "-o", out)
    assert code == 0, err
    run = loads(out.read_text())
    (result,) = run.results
    kept = result.extra[RECORD_KEY]
    assert kept["counted_over"] == counted_over
    assert kept["phases"][phase]["rounds"] == len(result.phases[phase].samples)
    assert 0 < kept["cpu_s"]
    if threads is None:  # one thread: its CPU against its wall time
        assert "threads" not in kept and "ready_s" not in kept
    else:  # the workers, and create-rate's flusher
        assert kept["threads"] == threads
        if Path("/proc/thread-self/schedstat").exists():
            assert kept["ready_s"] >= kept["cpu_s"]
    # The report reads it: a disturbed copy warns with the phase's label.
    result.extra[RECORD_KEY] = {**kept, "cpu_s": 0.0, "ready_s": 1.0}
    (line,) = [w for w in build_report(run).warnings if "disturbed" in w]
    assert line.startswith("WARNING: ct execute") and " 0% of " in line


def test_compare_names_a_threaded_verdict_resting_on_a_disturbed_run() -> None:
    base = make_run(command="benchmark", backends=("single",))
    cand = make_run(command="benchmark", backends=("single",), seed=1)
    for run in (base, cand):
        run.results[0].phases = {"ct_execute_batch": run.results[0].phases.popitem()[1]}
    cand.results[0].extra[RECORD_KEY] = threaded_record(cpu_s=1.0)
    warnings = compare(base, cand, names=("a.json", "b.json")).warnings
    (line,) = [w for w in warnings if "disturbed" in w]
    assert line.startswith(
        "the verdict on ct_execute_batch on single (unchanged) rests on a "
        "disturbed run: b.json: disturbed: at most 2% of samples"
    )
    assert "the run's 4 threads had a CPU 50% of the time they were ready" in line


def test_one_thread_is_named_in_the_singular() -> None:
    record = {**threaded_record(cpu_s=0.5), "threads": 1, "ready_s": 1.0}
    found = disturbed_findings(record)["ct_execute_batch"]
    assert "the run's thread had a CPU 50% of the time it was ready to run" in found
