"""disturbance.py: what a run records about the machine, when a phase
counts as disturbed, and where the reports say so."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ctbench.backends import BackendSpec
from ctbench.compare import compare
from ctbench.disturbance import (
    PER_THREAD,
    RECORD_KEY,
    RUN_CPU,
    SWITCHED_ROUNDS,
    Disturbance,
    disturbed_findings,
    involuntary_switches,
    pool_records,
)
from ctbench.report.build import build_report
from ctbench.results.files import loads
from ctbench.results.schema import ResultsError, run_from_json, run_to_json
from ctbench.scenarios.benchmark_zones import ZoneConfig, run_zones
from tests.helpers.paths import ROOT
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
    text = (ROOT / "results" / "baseline-zones-small.json").read_text()
    run = loads(text)
    assert not any("disturbed" in w for w in build_report(run).warnings)
