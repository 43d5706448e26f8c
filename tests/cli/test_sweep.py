"""ctbench sweep through its entry point: tiny grids, run, resumed,
interrupted, planned and merged from two "machines"."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from ctbench import results
from ctbench.cli.progress_display import ProgressDisplay
from ctbench.growth.document import load_sweep
from ctbench.results import load
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.sweep_factory import grid_runs

GRID = ["--entries", "50,100", "--zones", "2,3", "--iterations", "2"]
# One backend keeps the tests quick: per-zone builds 65,536 maps a point.
SWEEP = ["sweep", "benchmark-zones", *GRID, "-b", "single", "-q"]


def test_a_sweep_runs_every_point_into_its_file_and_fits(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    code, text, err = run_cli(*SWEEP, "-o", out)
    assert code == 0, err
    points = sorted((tmp_path / "s-points").iterdir())
    assert [p.name for p in points] == [
        f"benchmark-zones-e{e}-z{z}.json" for e in (100, 50) for z in (2, 3)
    ]
    assert all(load(p).complete for p in points)
    doc = load_sweep(out)
    assert doc.complete and len(doc.points) == 4 and doc.statistic == "min"
    assert len(doc.fits) == 4  # one backend, four phases
    assert "ctbench sweep benchmark-zones: 4 points" in text
    assert "flush full zone         single     ∝ stored^" in text
    assert "Student t with n - 3 degrees of freedom" in " ".join(text.split())


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["sweep"], "sweep runs benchmark-zones, benchmark, create-rate (got nothing)"),
        (
            ["sweep", "benchmark", *GRID, "-o", "s.json"],
            "grows the thread count: --entries",
        ),
        (["sweep", "benchmark-zones", "--entries", "5,6", "-o", "s.json"], "--zones"),
        (["sweep", "benchmark-zones", *GRID], "needs -o FILE"),
        (
            ["sweep", "benchmark-zones", "--entries", "5", "--zones", "2,3"]
            + ["--iterations", "1", "-o", "s.json"],
            "--entries needs at least 2 values",
        ),
        (["sweep", "benchmark-zones", *GRID, "-b", "nope", "-o", "s.json"], "nope"),
        (["sweep", "--merge", "--entries", "5,6", "x.json"], "--entries cannot apply"),
        (
            ["sweep", "--merge", "-b", "single", "--gc", "x.json"],
            "--backend, --gc cannot",
        ),
        (["sweep", "--merge"], "--merge needs the results FILEs"),
        (["sweep", "--merge", "--plan", "x.json"], "--plan and --merge"),
        (
            ["sweep", "benchmark-zones", *GRID, "--plan", "--resume", "-o", "p.json"],
            "--resume",
        ),
        (["sweep", "--merge", "missing.json"], "missing.json: cannot read"),
        (["sweep", "benchmark-zones", *GRID, "--stat", "p99", "-o", "s.json"], "p99"),
    ],
)
def test_bad_sweeps_give_one_line_and_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], why: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(*args)
    assert result.out == ""
    assert why in assert_one_line_error(result)


def test_finished_points_are_refused_without_resume_and_kept_with_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "s.json"
    assert run_cli(*SWEEP, "-o", out).code == 0
    points = tmp_path / "s-points"
    before = {p.name: p.stat().st_mtime_ns for p in points.iterdir()}
    code, _, err = run_cli(*SWEEP, "-o", out)
    assert code == 2 and "give --resume to keep the finished ones" in err
    loud = SWEEP[:-1]  # without -q: a line per point kept
    code, _, err = run_cli(*loud, "-o", out, "--resume")
    assert code == 0 and err.count(": kept ") == 4
    assert {p.name: p.stat().st_mtime_ns for p in points.iterdir()} == before
    # A point run with other parameters is run again, not kept.
    longer = [*GRID[:-1], "3", "-b", "single", "-q"]
    code, _, err = run_cli("sweep", "benchmark-zones", *longer, "-o", out, "--resume")
    assert code == 0 and err.count("holds a run with other parameters: runs again") == 4


def test_resume_loads_each_kept_point_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "s.json"
    assert run_cli(*SWEEP, "-o", out).code == 0
    loaded: list[str] = []
    real = results.load

    def counted(path: Path, *args: Any) -> results.RunResult:
        loaded.append(Path(path).name)
        return real(path, *args)

    monkeypatch.setattr(results, "load", counted)
    code, _, err = run_cli(*SWEEP, "-o", out, "--resume")
    assert code == 0, err
    assert sorted(loaded) == sorted(p.name for p in (tmp_path / "s-points").iterdir())


def test_resume_quiet_prints_no_line_per_point(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    assert run_cli(*SWEEP, "-o", out).code == 0
    (tmp_path / "s-points" / "benchmark-zones-e50-z2.json").unlink()
    code, text, err = run_cli(*SWEEP, "-o", out, "--resume")
    assert code == 0 and "4 points" in text
    # Neither the 3 points kept nor the one run again get a line; only the
    # sweep file's own line is left.
    assert err.splitlines() == [f"sweep written to {out}"]


def test_resume_quiet_still_names_a_point_file_it_cannot_keep(
    tmp_path: Path,
) -> None:
    out = tmp_path / "s.json"
    assert run_cli(*SWEEP, "-o", out).code == 0
    (tmp_path / "s-points" / "benchmark-zones-e50-z2.json").write_text("{}")
    code, _, err = run_cli(*SWEEP, "-o", out, "--resume")
    assert code == 0
    (line,) = [x for x in err.splitlines() if "e50-z2" in x]
    assert line.endswith(": runs again") and "cannot be kept" in line
    assert ": kept " not in err


def test_ctrl_c_keeps_the_finished_points_and_resume_runs_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_call = ProgressDisplay.__call__
    fills: list[str] = []

    def ctrl_c_in_the_second_point(
        self: ProgressDisplay, backend: str, stage: str, done: int, total: int
    ) -> None:
        real_call(self, backend, stage, done, total)
        if stage == "fill" and done == total:
            fills.append(backend)
            if len(fills) == 2:  # point 1's, then point 2's
                os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(ProgressDisplay, "__call__", ctrl_c_in_the_second_point)
    out = tmp_path / "s.json"
    code, text, err = run_cli(*SWEEP, "-o", out)
    assert code == 130
    assert "[2/4]" in err and "interrupted, not kept" in err
    assert "the finished points are kept" in err
    doc = load_sweep(out)
    assert not doc.complete and doc.stopped_by == "SIGINT" and len(doc.points) == 1
    assert "stopped by SIGINT: fitted on the points finished so far" in text
    assert len(list((tmp_path / "s-points").iterdir())) == 1

    monkeypatch.setattr(ProgressDisplay, "__call__", real_call)
    code, _, err = run_cli(*SWEEP[:-1], "-o", out, "--resume")
    assert code == 0 and err.count(": kept ") == 1
    doc = load_sweep(out)
    assert doc.complete and len(doc.points) == 4 and len(doc.fits) == 4


def test_a_plan_run_on_two_machines_merges_and_flags_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(*SWEEP, "--plan", "-o", "plan.json")
    assert code == 0 and "plan of 4 points written to plan.json" in err
    commands = out.splitlines()
    plan = json.loads(Path("plan.json").read_text())
    assert plan["kind"] == "sweep-plan" and plan["grid"]["entries"] == [50, 100]
    assert "entries" not in plan["grid"]["params"]
    assert plan["grid"]["params"]["backends"] == ["single"]
    assert [p["command"] for p in plan["points"]] == commands
    assert not Path("plan-points").exists()  # nothing ran

    # Two "machines": each runs half of the plan in its own folder.
    for name, half in (("a", plan["points"][:2]), ("b", plan["points"][2:])):
        machine = tmp_path / name
        machine.mkdir()
        monkeypatch.chdir(machine)
        for point in half:
            assert point["argv"][0] == "ctbench"
            assert run_cli(*point["argv"][1:]).code == 0
            assert (machine / point["output"]).exists()
    monkeypatch.chdir(tmp_path)
    for path in Path("b").iterdir():  # machine b has another CPU
        data = json.loads(path.read_text())
        data["environment"]["cpu_model"] = "Other CPU"
        path.write_text(json.dumps(data))

    files = sorted(map(str, Path("a").iterdir())) + sorted(
        map(str, Path("b").iterdir())
    )
    code, out, err = run_cli("sweep", "--merge", *files, "-o", "merged.json")
    assert code == 0, err
    doc = load_sweep(Path("merged.json"))
    assert len(doc.points) == 4 and len(doc.fits) == 4
    assert doc.warnings[0].startswith("the points come from 2 different machines")
    # Two points each: no machine holds most, so every point is flagged.
    assert "no one holds most points" in doc.warnings[0]
    assert sum("cpu_model is" in w and "'Other CPU'" in w for w in doc.warnings) == 4
    assert "WARNING: the points come from 2 different machines" in out
    assert "2 machines" in out  # each fit says it mixes them
    assert {p.file.split("/")[0] for p in doc.points} == {"a", "b"}


def test_merge_refuses_files_that_are_not_one_sweep(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    run = ["benchmark-zones", "-b", "single", "-q", "--memory-sample", "0"]
    assert run_cli(*run, "50", "2", "1", "-o", a).code == 0
    assert run_cli(*run, "50", "3", "1", "--warmup", "1", "-o", b).code == 0
    assert "warmup is 1 but 0" in assert_one_line_error(
        run_cli("sweep", "--merge", a, b)
    )


def test_merge_after_the_scenario_names_the_file_it_cannot_read(
    tmp_path: Path,
) -> None:
    # "sweep benchmark-zones --merge a.json" once took the scenario for a
    # file: "benchmark-zones: cannot read".
    missing = tmp_path / "a.json"
    code, _, err = run_cli("sweep", "benchmark-zones", "--merge", missing)
    assert code == 2
    assert err == f"ctbench: error: {missing}: cannot read: No such file or directory\n"
    code, _, err = run_cli("sweep", "benchmark-zones", "--merge")
    assert code == 2 and "--merge needs the results FILEs to fit" in err
    files = []
    for name, run in grid_runs():
        results.save(run, tmp_path / name)
        files.append(tmp_path / name)
    code, out, err = run_cli("sweep", "benchmark-zones", "--merge", *files)
    assert code == 0, err
    assert "flush full zone" in out


def test_a_sweep_too_long_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    big = ["--entries", "10000,20000", "--zones", "100,150", "--iterations", "100000"]
    out = tmp_path / "s.json"
    code, _, err = run_cli("sweep", "benchmark-zones", *big, "-b", "single", "-o", out)
    assert code == 2 and "use smaller arguments, or --force" in err
    assert list(tmp_path.iterdir()) == []  # no sweep file, no points directory


def test_a_backend_failing_at_a_point_is_left_out_and_exits_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctbench.scenarios.benchmark_zones import ZoneWorkload
    from ctbench.scenarios.harness import Turn

    real_run = ZoneWorkload.run

    def fail_once(self: ZoneWorkload, turn: Turn) -> bool:
        point = (self.config.entries, self.config.zones)
        if turn.result.label == "lazy-per-zone" and point == (50, 2):
            raise MemoryError("no room")
        return real_run(self, turn)

    monkeypatch.setattr(ZoneWorkload, "run", fail_once)
    out = tmp_path / "s.json"
    args = [*SWEEP[:-3], "-b", "single", "-b", "lazy-per-zone", "-q", "-o", out]
    code, text, err = run_cli(*args)
    assert code == 4
    assert "a backend failed at" in err and "e50-z2" in err
    doc = load_sweep(out)
    assert doc.complete and len(doc.points) == 4
    assert [f.fit.n for f in doc.fits if f.backend == "single"] == [4] * 4
    assert all("lazy-per-zone" in note and "at least 4" in note for note in doc.notes)
    assert "backend lazy-per-zone is failed: left out of the fits" in text


def test_a_second_ctrl_c_during_the_sweep_files_write_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_call = ProgressDisplay.__call__
    real_fsync = os.fsync
    fills: list[str] = []

    def ctrl_c_in_the_second_point(
        self: ProgressDisplay, backend: str, stage: str, done: int, total: int
    ) -> None:
        real_call(self, backend, stage, done, total)
        if stage == "fill" and done == total:
            fills.append(backend)
            if len(fills) == 2:
                os.kill(os.getpid(), signal.SIGINT)

    def ctrl_c_again_while_writing(fd: int) -> None:
        if len(fills) >= 2:  # the run has stopped: this is the final write
            os.kill(os.getpid(), signal.SIGINT)
        real_fsync(fd)

    monkeypatch.setattr(ProgressDisplay, "__call__", ctrl_c_in_the_second_point)
    monkeypatch.setattr(os, "fsync", ctrl_c_again_while_writing)
    out = tmp_path / "s.json"
    code, text, err = run_cli(*SWEEP, "-o", out)
    assert code == 130
    assert f"sweep written to {out}" in err
    assert err.splitlines()[-1] == "ctbench: stopped again by SIGINT: no report shown"
    doc = load_sweep(out)  # the final file, not the last checkpoint's
    assert doc.stopped_by == "SIGINT" and len(doc.points) == 1
    assert text == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s-points", "s.json"]
