"""Golden files pin every text format of a hand-built ``benchmark`` run.

Regenerate after an intended change with ``CTBENCH_UPDATE_GOLDEN=1 pytest
tests/render/test_benchmark_formats.py`` and review the diff.
"""

import numpy as np
import pytest

from ctbench.render import render
from ctbench.report.commands.benchmark import locks_line, threads_note
from ctbench.results import BackendResult, PhaseResult, RunResult, dumps, loads
from tests.helpers.golden import GoldenFiles
from tests.helpers.run_factory import golden_environment, mask_bootstrap_digits

# Mean per-batch latency (us) and barrier-to-barrier time (ms) per backend.
SHAPES = {"single": (31.7, 1006.0), "per-zone": (24.1, 761.0)}


def hand_built_run(gil: bool = True, n_threads: int = 4) -> RunResult:
    rng = np.random.default_rng(7)
    results = []
    for backend, (mean, wall_ms) in SHAPES.items():
        samples = rng.normal(mean, mean * 0.1, 40).round(3).tolist()
        packets = n_threads * 1_000_000
        pps = packets / (wall_ms / 1e3)
        results.append(
            BackendResult(
                backend=backend,
                phases={
                    "ct_execute_batch": PhaseResult(
                        samples,
                        {
                            "lookups": packets,
                            "created": n_threads * 32,
                            "removed": 0,
                            "refused": 0,
                            "invalid": 0,
                        },
                    )
                },
                extra={
                    "wall_ms": wall_ms,
                    "packets": packets,
                    "pps": pps,
                    "pps_per_thread": pps / n_threads,
                    "thread_packets": [1_000_000] * n_threads,
                    "thread_batches": [31_250] * n_threads,
                    "thread_ms": [wall_ms - 1] * n_threads,
                    "connections": n_threads * 32,
                },
            )
        )
    return RunResult(
        command="benchmark",
        params={
            "n_threads": n_threads,
            "n_pkts": 1_000_000,
            "batch_size": 32,
            "change_conn": 1,
            "conn_limit": 3_000_000,
            "gc": "frozen",
            "backends": ["single", "per-zone"],
            "parallel": not gil,
        },
        environment=golden_environment(gil),
        started="2026-11-26T10:00:00+00:00",
        finished="2026-11-26T10:00:05+00:00",
        complete=True,
        harness={"timer": "time.perf_counter_ns", "timer_overhead_ns": 70.0},
        results=results,
        tool_version="0.1.0",
    )


@pytest.mark.parametrize("fmt", ["patch", "table", "markdown", "csv"])
def test_format_matches_golden_file(fmt: str, golden: GoldenFiles) -> None:
    golden.check(
        f"benchmark.{fmt}", mask_bootstrap_digits(render(hand_built_run(), fmt))
    )


def test_json_is_the_results_file() -> None:
    run = hand_built_run()
    assert dumps(loads(render(run, "json"))) == dumps(run)


def test_patch_has_ovstest_lines_and_throughput() -> None:
    text = render(hand_built_run(), "patch")
    assert "single: conntrack:   1006 ms" in text
    assert "per-zone: conntrack:    761 ms" in text
    assert "pkts/s/thread" in text
    assert "--ovs-stats" not in text  # benchmark has no such option


def test_parallelism_is_stated_plainly() -> None:
    under_gil = threads_note(hand_built_run(gil=True))
    assert "ran concurrently but not in parallel" in under_gil
    assert "GIL lets one thread execute Python at a time" in under_gil
    free = threads_note(hand_built_run(gil=False))
    assert "could run Python in parallel" in free and "GIL disabled" in free
    assert "lookups take no lock" in free
    one = threads_note(hand_built_run(n_threads=1))
    assert "1 thread, so nothing ran in parallel" in one


def test_the_report_names_each_backends_lock() -> None:
    """A finer scope is recorded as the backend's ``lock`` option; none
    means OVS's one ct_lock.  ovstest's own rows are left out."""
    run = hand_built_run()
    run.results[1].options = {"lock": "zone"}
    run.results[1].label = "per-zone:lock=zone"
    line = locks_line(run)
    assert line.startswith("Locks: single: ct_lock (global); per-zone:lock=zone: ")
    assert "a lock per zone, ct_lock briefly for the counts" in line
    assert line.endswith("; conn->lock: 1024 striped locks by handle.")
    assert line in render(run, "table")
    for result in run.results:
        result.extra["source"] = {"tool": "ovstest"}
    assert locks_line(run) == ""


def test_refused_commits_are_warned_about() -> None:
    run = hand_built_run()
    run.results[0].phases["ct_execute_batch"].counters["refused"] = 5
    assert "refused 5 commits on single" in render(run, "patch")


def test_one_cpu_and_one_refused_commit_read_in_the_singular() -> None:
    run = hand_built_run()
    run.environment["cpu_count"] = 1
    run.results[0].phases["ct_execute_batch"].counters["refused"] = 1
    text = render(run, "patch")
    assert "refused 1 commit on single" in text
    assert "together they used the one CPU." in text
    assert threads_note(hand_built_run(n_threads=1)).endswith("(2 CPUs, GIL enabled).")
    one = hand_built_run(n_threads=1)
    one.environment["cpu_count"] = 1
    assert "(1 CPU, GIL enabled)" in threads_note(one)
