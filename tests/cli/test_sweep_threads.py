"""ctbench sweep over thread counts: the runs, the scaling file, the fit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ctbench import registry
from ctbench.estimate import Estimate
from ctbench.growth.scaling import AMDAHL, USL
from ctbench.growth.scaling_document import ScalingDocument, scaling_from_json
from ctbench.growth.threads import ThreadGrid, run_thread_grid
from ctbench.registry import Command, Footprint, ThreadScaling
from ctbench.results import BackendResult, ResultsError, RunResult
from ctbench.scenarios.harness import Progress
from tests.helpers.cli import run_cli

SMALL = ["--packets", "64", "--batch-size", "8", "-b", "per-zone", "-q"]


def _load(path: Path) -> ScalingDocument:
    return scaling_from_json(json.loads(path.read_text()), str(path))


def test_a_small_sweep_runs_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["sweep", "benchmark", "--threads", "1,2,3", "--repeat", "2", *SMALL]
    code, out, err = run_cli(*args, "-o", "s.json")
    assert code == 0, err
    assert "ctbench sweep benchmark: 6 runs at n_threads 1, 2, 3" in out
    assert "Universal Scalability Law (Gunther)" in out
    assert "delta method with Student t" in " ".join(out.split())
    doc = _load(tmp_path / "s.json")
    runs = sorted(p.name for p in (tmp_path / "s-points").iterdir())
    assert runs == [f"benchmark-t{t}-r{r}.json" for t in (1, 2, 3) for r in (1, 2)]
    assert doc.complete and doc.command == "benchmark"
    fit = doc.fits["per-zone"]
    assert fit.model == USL and fit.n == 6 and fit.dof == 3
    assert fit.thread_counts == (1, 2, 3)
    for point in doc.points:
        run = registry.load(tmp_path / point.file)
        assert run.params["n_threads"] == point.threads
        assert point.throughput["per-zone"] == run.results[0].extra["pps"]
    # The runs' own files, merged, give the same fit.
    files = [str(tmp_path / "s-points" / name) for name in runs]
    code, merged_out, err = run_cli("sweep", "--merge", *files, "-o", "m.json")
    assert code == 0, err
    merged = _load(tmp_path / "m.json").fits["per-zone"]
    assert merged.sigma.value == pytest.approx(fit.sigma.value)
    assert merged.kappa.value == pytest.approx(fit.kappa.value)


def test_two_thread_counts_fit_amdahl_and_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(
        "sweep", "benchmark", "--threads", "1,2", *SMALL, "-o", "s.json"
    )
    assert code == 0, err
    assert "Amdahl's law (the USL with kappa = 0)" in " ".join(out.split())
    assert "only 2 thread counts, so Amdahl's law only" in out
    assert _load(tmp_path / "s.json").fits["per-zone"].model == AMDAHL


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["--threads", "0,1", *SMALL], "--threads values must be 1 or more (got 0)"),
        (["--threads", "1,2,1", *SMALL], "--threads lists 1 more than once"),
        (["--threads", "1,two", *SMALL], "--threads must be whole numbers"),
        (["--threads", "1.5,2", *SMALL], "--threads must be whole numbers"),
        (["--threads", "4", *SMALL], "at least 2 thread counts"),
        (SMALL, "needs --threads"),
        (["--threads", "1,2", "--batch-size", "8"], "needs --packets"),
        (["--threads", "1,2", "--packets", "8"], "needs --batch-size"),
        (["--threads", "1,2", *SMALL, "--batch-size", "33"], "BATCH_SIZE"),
        (["--threads", "1,2", *SMALL, "--repeat", "0"], "--repeat"),
        (["--threads", "1,2", *SMALL, "--zones", "3,4"], "--zones cannot apply"),
        (["--threads", "1,2", *SMALL, "--plan"], "--plan cannot apply"),
        (["--threads", "1,2", *SMALL, "-b", "nope"], "nope"),
    ],
)
def test_bad_thread_sweeps_give_one_line_and_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], why: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("sweep", "benchmark", *args, "-o", "s.json")
    assert code == 2, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ctbench: error: "), err
    assert why in err
    assert not (tmp_path / "s.json").exists()


def test_threads_belong_to_sweep_benchmark_only(tmp_path: Path) -> None:
    code, _, err = run_cli(
        "sweep", "benchmark-zones", "--entries", "5,6", "--zones", "2,3",
        "--iterations", "1", "--threads", "1,2", "-o", str(tmp_path / "s.json"),
    )  # fmt: skip
    assert code == 2 and "--threads is for sweep benchmark" in err


def test_existing_runs_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s-points").mkdir()
    (tmp_path / "s-points" / "benchmark-t2-r1.json").write_text("{}")
    code, _, err = run_cli(
        "sweep", "benchmark", "--threads", "1,2", *SMALL, "-o", "s.json"
    )
    assert code == 2 and "already holds 1 of this sweep's results files" in err


def test_a_scaling_file_is_checked_on_load(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    data = {"schema": 2, "kind": "scaling", "tool": {"name": "ctbench"}}
    with pytest.raises(ResultsError, match="'command' is missing"):
        scaling_from_json(data, str(bad))


# -- any command with a thread count ------------------------------------------

LAMBDA, SIGMA, KAPPA = 1000.0, 0.2, 0.01


@dataclass(frozen=True)
class WorkersConfig:
    workers: int
    items: int = 10


def _law(n: int) -> float:
    return LAMBDA * n / (1 + SIGMA * (n - 1) + KAPPA * n * (n - 1))


def _run_workers(
    config: WorkersConfig, progress: Progress, interrupted: Callable[[], bool]
) -> RunResult:
    rate = _law(config.workers)
    return RunResult(
        command="workers",
        params={"workers": config.workers, "items": config.items},
        environment={},
        started="2026-12-05T00:00:00+00:00",
        complete=True,
        results=[BackendResult("single", extra={"ops_per_s": rate})],
    )


@pytest.fixture
def workers_command() -> Iterator[str]:
    benchmark = registry.command("benchmark")
    registry.register(
        Command(
            name="workers",
            config=WorkersConfig,
            run=_run_workers,
            estimate=lambda config: Estimate(0.0, True),
            memory=lambda config: Footprint(0, 0),
            check_params=lambda params: None,
            sections=benchmark.sections,
            cli="tests:none",
            scaling=ThreadScaling(
                param="workers", throughput="ops_per_s", unit="ops/s"
            ),
        )
    )
    try:
        yield "workers"
    finally:
        registry.unregister("workers")


def test_the_grid_grows_any_commands_thread_count(
    tmp_path: Path, workers_command: str
) -> None:
    grid = ThreadGrid(workers_command, WorkersConfig(1), (1, 2, 4, 8), repeats=1)
    outcome = run_thread_grid(grid, tmp_path / "runs", tmp_path / "s.json")
    assert len(outcome.finished) == 4 and not outcome.stopped
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        f"workers-t{n}-r1.json" for n in (1, 2, 4, 8)
    ]
    fit = outcome.document(grid).fits["single"]
    assert fit.model == USL
    assert fit.sigma.value == pytest.approx(SIGMA)
    assert fit.kappa.value == pytest.approx(KAPPA)
    assert fit.lam.value == pytest.approx(LAMBDA)
    # The file written after the last run holds the same fit.
    saved = scaling_from_json(json.loads((tmp_path / "s.json").read_text()), "s")
    assert saved.scaling.param == "workers"
    assert saved.fits["single"].kappa.value == pytest.approx(KAPPA)


def test_a_points_dir_that_is_a_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").write_text("")
    code, out, err = run_cli(
        "sweep", "benchmark", "--threads", "1,2", *SMALL,
        "--points-dir", "runs", "-o", "s.json",
    )  # fmt: skip
    assert code == 2 and out == ""
    assert err.startswith("ctbench: error: ") and err.count("\n") == 1
    assert "'runs' is a file" in err


# -- create-rate --------------------------------------------------------------

CREATE = ["--conns", "200", "--batch-size", "16", "-b", "per-zone", "-q"]


def test_a_create_rate_sweep_runs_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["sweep", "create-rate", "--threads", "1,2", "--repeat", "1", *CREATE]
    code, out, err = run_cli(*args, "--zones", "shared", "--flusher", "-o", "s.json")
    assert code == 0, err
    assert "ctbench sweep create-rate: 2 runs at n_threads 1, 2" in out
    assert "connections/s of all threads (cps)" in " ".join(out.split())
    doc = _load(tmp_path / "s.json")
    assert doc.command == "create-rate" and doc.scaling.throughput == "cps"
    assert doc.fits["per-zone"].model == AMDAHL
    for point in doc.points:
        run = registry.load(tmp_path / point.file)
        assert run.params["n_threads"] == point.threads
        assert run.params["zone_layout"] == "shared" and run.params["flusher"]
        assert run.results[0].extra["created"] == 200 * point.threads
        assert point.throughput["per-zone"] == run.results[0].extra["cps"]


@pytest.mark.parametrize(
    ("command", "args", "why"),
    [
        ("create-rate", ["--threads", "1,2", "--batch-size", "8"], "needs --conns"),
        ("create-rate", ["--threads", "1,2", "--conns", "8"], "needs --batch-size"),
        ("create-rate", ["--threads", "1,2", *CREATE, "--packets", "9"], "--packets"),
        ("create-rate", ["--threads", "1,2", *CREATE, "--zones", "3"], "--zones must"),
        ("benchmark", ["--threads", "1,2", *SMALL, "--conns", "9"], "--conns cannot"),
        ("benchmark", ["--threads", "1,2", *SMALL, "--flusher"], "--flusher cannot"),
    ],
)
def test_each_thread_sweep_takes_its_own_options(
    tmp_path: Path, command: str, args: list[str], why: str
) -> None:
    output = tmp_path / "s.json"
    code, out, err = run_cli("sweep", command, *args, "-o", output)
    assert (code, out) == (2, ""), err
    assert err.startswith("ctbench: error: ") and err.count("\n") == 1, err
    assert why in err
    assert not output.exists()


def test_create_rate_options_belong_to_its_sweep(tmp_path: Path) -> None:
    code, _, err = run_cli(
        "sweep", "benchmark-zones", "--entries", "5,6", "--zones", "2,3",
        "--iterations", "1", "--sweeper", "-o", str(tmp_path / "s.json"),
    )  # fmt: skip
    assert code == 2 and "--sweeper is for sweep create-rate, not" in err


def test_the_grids_thread_limit_counts_every_thread_of_its_largest_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctbench import environment
    from ctbench.preflight import ResourceError
    from ctbench.scenarios.create_rate import CreateRateConfig

    monkeypatch.setattr(environment, "thread_headroom", lambda: (5, "LIMIT"))
    base = CreateRateConfig(n_threads=1, n_conns=1, batch_size=1, sweeper=True)
    display = ("the progress display",)
    ThreadGrid("create-rate", base, (1, 3), display_threads=display)  # 5 threads
    with pytest.raises(ResourceError) as refused:
        ThreadGrid("create-rate", base, (1, 4), display_threads=display)
    assert str(refused.value) == (
        "N_THREADS must be at most 3 on this machine (got 4): the run starts 6 "
        "threads (4 workers, a sweeper, the progress display) and LIMIT leaves "
        "no room for more"
    )
