"""The scripts under bench/ still run: they import ctbench's modules, so a
change there can break them without any other test noticing.  And they use
ctbench as any program would: no sys.path edits, no private names."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_line_error
from tests.helpers.paths import ROOT


@pytest.fixture(scope="module", autouse=True)
def estimates_run() -> Iterator[subprocess.Popen[str]]:
    """``bench.experiments.estimates --only Z5``, started with the module:
    its calibration and run keep one core busy for 6 s or more, while the
    module's other scripts run on the other; the last test reads it."""
    with subprocess.Popen(
        [sys.executable, "-m", "bench.experiments.estimates", "--only", "Z5"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as run:
        try:
            yield run
        finally:
            if run.poll() is None:  # not read: only some tests were run
                run.kill()
            run.communicate()


def _run(module: str, *args: str, env: dict[str, str] | None = None) -> str:
    """``python -m MODULE ARGS`` from the repository's root, as bench/README.md
    says to run the scripts: the working tree's ctbench comes first."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_python_floor_runs_on_a_small_map() -> None:
    out = _run(
        "bench.experiments.python_floor",
        "--stored",
        "20000",
        "--thread-packets",
        "3200",
    )
    assert "one lookup each" in out
    assert "single map of 20,000 keys" in out
    assert "3,200 frames in batches of 32" in out
    assert "conn->lock taken and released" in out


def test_slow_rounds_runs_a_few_rounds() -> None:
    out = _run(
        "bench.experiments.slow_rounds",
        *("--entries", "50", "--zones", "2", "--rounds", "20"),
    )
    assert "the same in every round" in out
    assert "empty clock pair" in out


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(),
    reason="needs the git history",
)
def test_ab_model_runs_against_the_checked_out_revision() -> None:
    out = _run(
        "bench.experiments.ab_model",
        "--rev",
        "HEAD",
        "--zones",
        "2",
        "--entries",
        "300",
        "--rounds",
        "1",
        "--backend",
        "per-zone",
        "--conn-limit",
        "400",
    )
    assert "ct execute (no commit)" in out


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(),
    reason="needs the git history",
)
def test_ab_model_refuses_an_unknown_revision_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.experiments.ab_model", "--rev", "nosuchrev"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert_one_line_error(done, prefix="ab_model: git rev-parse")


def test_model_costs_runs_on_a_small_table() -> None:
    out = _run(
        "bench.experiments.model_costs",
        "--zones",
        "3",
        "--entries",
        "500",
        "--rounds",
        "1",
        "--backend",
        "single",
    )
    assert "single" in out


def test_make_candidate_scales_a_results_file(tmp_path: Path) -> None:
    out_file = tmp_path / "slow.json"
    _run(
        "bench.ci.make_candidate",
        "results/baseline-zones-small.json",
        "--scale",
        "1.3",
        "-o",
        str(out_file),
    )
    assert out_file.stat().st_size > 0


def test_bench_scripts_import_the_working_tree_before_any_other_copy(
    tmp_path: Path,
) -> None:
    stale = tmp_path / "ctbench"
    stale.mkdir()
    (stale / "__init__.py").write_text('raise ImportError("a stale copy")\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    out = _run(
        "bench.experiments.python_floor",
        "--stored",
        "20000",
        "--thread-packets",
        "320",
        env=env,
    )
    assert "one lookup each" in out


def test_interval_coverage_runs_with_few_trials() -> None:
    out = _run(
        "bench.experiments.interval_coverage", "--trials", "3", "--verdict-trials", "2"
    )
    assert "20 samples a side" in out
    assert "compare on two samples of one distribution" in out
    assert any(
        line.split()[:3] == ["bimodal", "100/130", "300"] for line in out.splitlines()
    )


def test_execute_crossover_runs_with_one_round() -> None:
    out = _run("bench.experiments.execute_crossover", "--rounds", "1")
    assert "bulk/per-frame" in out


def test_empty_flush_cache_runs_on_small_sizes() -> None:
    out = _run(
        "bench.experiments.empty_flush_cache", "--entries", "300,600", "--rounds", "2"
    )
    assert "flush of the empty zone" in out
    assert [line.split()[0] for line in out.splitlines()[3:]] == ["300", "600"]


SCRIPTS = sorted((ROOT / "bench").rglob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_a_script_neither_edits_sys_path_nor_reaches_into_ctbench(
    script: Path,
) -> None:
    """The scripts measure ctbench through its public names; one that needs
    more is a reason for a public method, as Conntrack.execute_bulk is."""
    tree = ast.parse(script.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "path":
            assert not (isinstance(node.value, ast.Name) and node.value.id == "sys")
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            assert isinstance(owner, ast.Name) and owner.id == "self", (
                f"{script.name}:{node.lineno}: .{node.attr}"
            )
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "ctbench"
        ):
            names = [a.name for a in node.names]
            assert not any(map(_private, names)), f"{script.name}: {names}"


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(),
    reason="needs the git history",
)
def test_ab_model_compares_benchmarks_batches_on_thread_safe_models() -> None:
    out = _run(
        "bench.experiments.ab_model",
        "--rev",
        "HEAD",
        "--threaded",
        "--rounds",
        "2",
        "--batches",
        "5",
        "--backend",
        "per-zone",
    )
    rows = [line for line in out.splitlines() if " ratio " in line]
    assert [row.split()[0:2] for row in rows] == [
        ["benchmark", "old"],
        ["benchmark", "CHANGE_CONN"],
    ]


def test_ab_model_compares_the_bookkeeping_on_and_off() -> None:
    out = _run(
        "bench.experiments.ab_model",
        "--bookkeeping",
        "--zones",
        "2",
        "--entries",
        "50",
        "--rounds",
        "3",
        "--backend",
        "single",
    )
    assert sum(" ratio " in line for line in out.splitlines()[1:]) == 4


@pytest.mark.parametrize(
    ("command", "args"), [("benchmark-zones", "20 2 3"), ("benchmark", "2 64 8")]
)
def test_disturbance_bounds_runs_alone_and_loaded(command: str, args: str) -> None:
    out = _run(
        "bench.experiments.disturbance_bounds",
        "--runs",
        "1",
        "--command",
        command,
        "--args",
        args,
    )
    assert "alone 1" in out and "loaded 1" in out


def test_stability_alarms_prints_a_row_per_count_and_shape() -> None:
    out = _run("bench.experiments.stability_alarms", "--trials", "2")
    rows = [line for line in out.splitlines() if line[:7].strip().isdigit()]
    assert len(rows) == 4 * 5
    assert "1000  two modes     bimodal 100.0%" in out


def test_free_threading_idioms_runs_small() -> None:
    out = _run(
        "bench.experiments.free_threading_idioms",
        "--keys",
        "200",
        "--increments",
        "2000",
        "--repeat",
        "1",
    )
    assert "dict.get, hit, other thread" in out
    assert "2 threads, 64 bytes apart" in out


def test_estimates_runs_a_grid_point_and_prints_both_ratios(
    estimates_run: subprocess.Popen[str],
) -> None:
    # The verdict depends on the machine's load: only the run is checked.
    stdout, stderr = estimates_run.communicate(timeout=120)
    assert estimates_run.returncode in (0, 1), stderr
    header, row, last = stdout.splitlines()
    assert header.split()[:3] == ["point", "command", "est"]
    assert row.startswith("Z5    benchmark-zones 1 65534 20 --backend=single")
    assert last.endswith("of 1 points within 2x")
