"""Golden files pin every output format for a hand-built run.

Regenerate after an intended change with ``CTBENCH_UPDATE_GOLDEN=1 pytest
tests/render/test_run_formats.py`` and review the diff.
"""

import re

import numpy as np
import pytest

from ctbench.compare import compare
from ctbench.growth.build import build_sweep
from ctbench.render import FORMATS, render, rich_view
from ctbench.render.comparison import render as render_comparison
from ctbench.render.format import cell
from ctbench.render.growth import render as render_growth
from ctbench.report.build import build_report
from ctbench.results import (
    BackendResult,
    Fill,
    Memory,
    PhaseResult,
    RunResult,
)
from ctbench.scenarios.benchmark_zones import PHASE_ORDER
from tests.helpers.golden import GoldenFiles
from tests.helpers.run_factory import golden_environment, mask_bootstrap_digits
from tests.helpers.sweep_factory import grid_runs

# Means in microseconds per phase, roughly the shape of the reference table.
SHAPES = {
    "single": (9758, 3045, 127374, 120627),
    "per-zone": (4874, 966, 2212, 2.5),
}


def hand_built_run(ovs_stats: bool = False, refused: int = 7_000_000) -> RunResult:
    rng = np.random.default_rng(42)
    results = []
    for backend, means in SHAPES.items():
        phases = {}
        for name, mean in zip(PHASE_ORDER, means, strict=True):
            samples = rng.normal(mean, mean * 0.05, 20).round(3).tolist()
            phases[name] = PhaseResult(samples, {"visited": 10, "removed": 10})
        results.append(
            BackendResult(
                backend=backend,
                fill=Fill(10_000_000, 3_000_000, refused, 12_345.0, 5_400_000.0),
                memory=Memory(
                    371.5, 4_790_007 if backend == "per-zone" else 153_202, 50_000
                ),
                phases=phases,
                extra={"wall_s": 32.3, "stored_at_end": 3_000_000, "swept": 0},
            )
        )
    return RunResult(
        command="benchmark-zones",
        params={
            "entries": 10000,
            "zones": 1000,
            "iterations": 20,
            "batch_size": 1,
            "conn_limit": 3_000_000,
            "warmup": 0,
            "gc": "frozen",
            "sweep_every": None,
            "ovs_stats": ovs_stats,
            "backends": ["single", "per-zone"],
        },
        environment=golden_environment(),
        started="2026-11-26T10:00:00+00:00",
        finished="2026-11-26T10:01:00+00:00",
        complete=True,
        harness={"timer": "time.perf_counter_ns", "timer_overhead_ns": 70.0},
        results=results,
        tool_version="0.1.0",
    )


CASES = [(fmt, False) for fmt in FORMATS] + [("patch", True), ("table", True)]


@pytest.mark.parametrize(("fmt", "ovs"), CASES)
def test_format_matches_golden_file(fmt: str, ovs: bool, golden: GoldenFiles) -> None:
    text = mask_bootstrap_digits(render(hand_built_run(ovs_stats=ovs), fmt))
    golden.check(f"zones{'-ovs' if ovs else ''}.{fmt}", text)


def test_patch_layout_groups_phases_with_one_row_per_backend() -> None:
    text = render(hand_built_run(), "patch")
    assert "| ct execute (commit)    |" in text
    assert "Min" in text and "95%ile" in text and "Avg" in text
    assert "arithmetic mean" in text
    assert "WARNING: the connection limit (3,000,000) clipped the workload" in text
    assert "NOTE: flush empty zone on per-zone" in text  # 2.5 us < 100 x 70 ns


@pytest.mark.parametrize("ovs", [False, True])
def test_each_layout_names_the_columns_it_has(ovs: bool) -> None:
    report = build_report(hand_built_run(ovs_stats=ovs))
    obvious = {"min", "max"}  # need no definition
    for column in report.columns:
        assert column.key in obvious or column.key in report.table_method
    for column in report.grouped:
        assert column.key in obvious or column.label in report.method
    assert "Avg" not in report.table_method.split(" ovstest")[0]
    assert "p99" not in report.method


def test_comparing_the_averages() -> None:
    lines = list(build_report(hand_built_run()).comparisons)
    assert lines[-1].startswith("flush empty zone: per-zone is 99.9")
    assert "faster than single (95% CI 99.9" in lines[-1]
    assert lines[-1].endswith("% faster, bootstrap)")
    again = list(build_report(hand_built_run()).comparisons)
    assert again == lines  # seeded: reproducible


def _commit_line(base: list[float], other: list[float]) -> str:
    run = hand_built_run()
    run.results[0].phases["ct_execute_commit"].samples[:] = base
    run.results[1].phases["ct_execute_commit"].samples[:] = other
    lines = build_report(run).comparisons
    return next(x for x in lines if x.startswith("ct execute (commit)"))


SPREAD = [100.0, 140.0, 90.0, 130.0, 110.0, 95.0, 125.0, 105.0] * 3


def test_an_interval_across_zero_says_no_clear_difference() -> None:
    line = _commit_line(SPREAD, list(reversed(SPREAD))[:-1] + [104.0])
    assert "per-zone is 0.1% slower than single (95% CI" in line
    assert "faster to" in line and "slower, bootstrap: no clear difference)" in line


def test_a_slower_backend_reads_slower_on_both_ends() -> None:
    line = _commit_line(SPREAD, [x * 1.5 for x in SPREAD])
    assert "per-zone is 50.0% slower than single (95% CI" in line
    assert line.endswith("% slower, bootstrap)")


def test_too_few_samples_give_no_interval() -> None:
    # A percentile bootstrap of 1-10 samples is far too narrow (see
    # MIN_INTERVAL_SAMPLES); one sample a side gives a zero-width interval.
    line = _commit_line([100.0], [97.0])
    assert line.endswith("3.0% faster than single (no interval: fewer than 20 samples)")


def test_no_change_reads_as_fast_as() -> None:
    line = _commit_line(SPREAD, SPREAD)
    assert "per-zone is as fast as single (95% CI" in line
    assert "no clear difference" in line


def test_a_resampled_zero_baseline_gives_no_interval() -> None:
    base = [0.0] * 23 + [1.0]
    line = _commit_line(base, [1.0] * 24)
    assert line.endswith("(no interval: a resampled mean of 0)")
    assert "nan" not in line


def test_backends_a_stop_left_out_are_named() -> None:
    run = hand_built_run(refused=0)
    run.complete = False
    run.results = run.results[:1]
    assert "WARNING: not run: per-zone" in render(run, "patch")


def test_bytes_read_in_units_up_to_exbibytes() -> None:
    from ctbench.report.numbers import fmt_bytes

    assert [fmt_bytes(n) for n in (1023, 1024, 3 * 2**40, 2**70)] == [
        "1023 B",
        "1.0 KiB",
        "3.0 TiB",
        "1,024.0 EiB",
    ]


def test_incomplete_run_is_flagged() -> None:
    run = hand_built_run(refused=0)
    run.complete = False
    text = render(run, "patch")
    assert "incomplete run" in text
    assert "clipped" not in text


def test_one_sample_prints_no_stdev() -> None:
    """One sample: the stdev (n - 1) is undefined, printed "-", not 0.00."""
    run = hand_built_run(refused=0)
    for result in run.results:
        for phase in result.phases.values():
            phase.samples = phase.samples[:1]
    lines = render(run, "table").splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("phase "))
    heads = lines[head].split()
    body = [line.split() for line in lines[head + 2 :] if line.strip()][:8]
    # Counted from the right: a phase label is several words.
    cells = [row[heads.index("stdev") - len(heads)] for row in body]
    assert cells == ["-"] * 8


def _markdown_cells(text: str) -> list[int]:
    """Cells per table line, split where GitHub splits: at a "|" that is
    not escaped."""
    return [
        len(re.split(r"(?<!\\)\|", line))
        for line in text.splitlines()
        if line.startswith("|")
    ]


def _piped_run() -> RunResult:
    run = hand_built_run(refused=0)
    run.results[0].label = "a|b.json:single"  # report labels FILE:backend
    return run


def test_a_pipe_in_a_label_stays_in_its_markdown_cell() -> None:
    report = render(_piped_run(), "markdown")
    comparison = render_comparison(compare(_piped_run(), _piped_run()), "markdown")
    points = grid_runs()
    for _, run in points:
        run.results[0].label = "single|a"
    growth = render_growth(build_sweep(points, "min"), "markdown")
    for text in (report, comparison, growth):
        widths = _markdown_cells(text)
        assert len(widths) > 2 and len(set(widths)) == 1, text
        assert "\\|" in text


@pytest.mark.parametrize("width", [80, 40, 20])
def test_the_rich_view_never_cuts_a_figure(width: int) -> None:
    """Piped or on a narrow terminal, rich shortened numbers to "…": the
    labels wrap instead, and a table that still does not fit is drawn at
    its full width with a note."""
    run = hand_built_run(refused=0)
    report = build_report(run)
    text = re.sub(r"\x1b\[[0-9;]*m", "", render(run, "rich", width))
    assert "…" not in text
    expected = [
        [row.label, *(cell(c, row.values.get(c.key)) for c in report.grouped)]
        for group in report.groups
        for row in group.rows
    ]
    drawn = [
        [part.strip() for part in line.split("│")[1:-1]]
        for line in text.splitlines()
        if line.startswith("│   ")  # a backend's row, indented under its phase
    ]
    assert drawn == expected
    needs = rich_view.table_width(report)
    assert ("NOTE: this table needs" in text) == (needs > width)
