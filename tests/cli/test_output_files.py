"""What the commands write: the -o file before the report, never over an
input, one run at a time, and every failed write (a full disk, a full
stdout) as one line with exit status 2 (ctbench.preflight.check_output,
ctbench.cli.run.emit, ctbench.cli.main, ctbench.files)."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ctbench import files, results
from ctbench.growth.document import load_sweep
from tests.helpers.cli import run_cli, start_marked_run, wait_for
from tests.helpers.paths import CAPTURES, OVSTEST_DATA, ROOT
from tests.helpers.run_factory import SavedRuns, make_run

CAPTURE = CAPTURES / "mixed.pcap"
OVSTEST_TABLE = OVSTEST_DATA / "xeon-benchmark-zones-1000-100-200.after.txt"
# One backend keeps each run short: per-zone builds 65,536 maps.
RUNS = {
    "benchmark-zones": ["benchmark-zones", "50", "3", "2", "--memory-sample", "0"],
    "benchmark": ["benchmark", "1", "64", "32"],
    "replay": ["replay", str(CAPTURE)],
}
QUICK = ["-q", "-b", "single"]
FULL = "No space left on device"
needs_dev_full = pytest.mark.skipif(
    not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)"
)


def _ctbench(*args: object) -> list[str]:
    return [sys.executable, "-m", "ctbench", *map(str, args)]


def _lock_files(directory: Path) -> list[Path]:
    return sorted(directory.glob(".*.lock"))


# -- 1. the file is written before the report ---------------------------------


@pytest.mark.parametrize("command", RUNS)
def test_a_reader_that_leaves_early_does_not_cost_the_file(
    tmp_path: Path, command: str
) -> None:
    out = tmp_path / "r.json"
    with subprocess.Popen(
        _ctbench(*RUNS[command], *QUICK, "-o", out),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # `| (sleep 0.1; exit 0)`: gone before the report
        err = proc.stderr.read()
        proc.wait(timeout=120)
    assert proc.returncode == 141, err
    assert "error" not in err and "Traceback" not in err
    assert results.load(out).complete


@needs_dev_full
@pytest.mark.parametrize("command", RUNS)
def test_a_full_stdout_is_one_line_and_status_2_and_the_file_is_kept(
    tmp_path: Path, command: str
) -> None:
    out = tmp_path / "r.json"
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            _ctbench(*RUNS[command], *QUICK, "-o", out),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        f"ctbench: error: cannot write standard output: {FULL}"
    )
    assert "Traceback" not in proc.stderr
    assert results.load(out).complete


def _full_disk(
    monkeypatch: pytest.MonkeyPatch, where: Path, after: int = 0
) -> list[Path]:
    """Make every write into ``where`` fail with ENOSPC once ``after`` of
    them have gone through, as a disk that fills up; returns the paths
    written.  (By hand, a 64 KiB tmpfs mounted there shows the same.)"""
    real = files.write_atomic
    written: list[Path] = []

    def write_atomic(path: Path, data: str | bytes) -> None:
        if Path(os.path.realpath(path)).parent == where.resolve():
            if len(written) >= after:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            written.append(path)
        real(path, data)

    monkeypatch.setattr(files, "write_atomic", write_atomic)
    return written


def test_a_file_that_cannot_be_written_still_leaves_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _full_disk(monkeypatch, tmp_path)
    out = tmp_path / "r.json"
    code, text, err = run_cli(*RUNS["benchmark-zones"], *QUICK, "-o", out)
    assert code == 2
    assert "ct execute (commit)" in text  # the report is on screen
    assert err.splitlines() == [f"ctbench: error: cannot write {out}: {FULL}"]
    assert not out.exists() and _lock_files(tmp_path) == []


# -- 7. write errors: one line, exit status 2 ---------------------------------


def test_a_full_disk_on_merge_is_one_line_and_status_2(
    tmp_path: Path, saved_runs: SavedRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = saved_runs.save("a.json", seed=1), saved_runs.save("b.json", seed=2)
    full = tmp_path / "full"
    full.mkdir()
    _full_disk(monkeypatch, full)
    out = full / "pooled.json"
    code, _, err = run_cli("merge", a, b, "-o", out)
    assert code == 2
    assert err.splitlines() == [f"ctbench: error: cannot write {out}: {FULL}"]
    assert not out.exists()


def test_a_full_disk_stops_a_sweep_which_fits_and_keeps_the_points_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    points = tmp_path / "points"
    written = _full_disk(monkeypatch, points, after=3)
    out = tmp_path / "s.json"
    grid = ["--entries", "50,100", "--zones", "2,3", "--iterations", "2"]
    code, text, err = run_cli(
        "sweep", "benchmark-zones", *grid, *QUICK, "--points-dir", points, "-o", out
    )
    assert code == 2
    assert err.splitlines()[-1].startswith(f"ctbench: error: cannot write {points}/")
    assert err.splitlines()[-1].endswith(FULL)
    assert "Traceback" not in err
    doc = load_sweep(out)  # fitted on the three points written
    assert not doc.complete
    assert [Path(p.file).name for p in doc.points] == [w.name for w in written]
    assert "ctbench sweep benchmark-zones: 3 points" in text
    assert sorted(points.iterdir()) == sorted(written)


@needs_dev_full
@pytest.mark.parametrize(
    "args",
    [
        ["compare", *["results/baseline-zones-small.json"] * 2],
        ["report", "results/baseline-zones-small.json"],
        ["pcap", CAPTURE],
        ["backends"],
        ["--help"],
    ],
    ids=lambda args: str(args[0]),
)
def test_a_full_stdout_is_never_a_traceback_nor_a_regression(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            _ctbench(*args),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    # compare's 1 is a regression: a full disk must not look like one.
    assert proc.returncode == 2, proc.stderr
    *warnings, last = proc.stderr.splitlines()
    assert last == f"ctbench: error: cannot write standard output: {FULL}"
    # compare's warnings (the baseline's second mode) come before it.
    assert all(w.startswith("ctbench: warning: ") for w in warnings)


# -- 3. an output that is an input is refused ---------------------------------


def _overwrites(tmp: Path) -> dict[str, tuple[list[object], Path]]:
    """Command lines whose -o names one of their inputs, and that input."""
    cap = tmp / "cap.pcap"
    shutil.copy(CAPTURE, cap)
    table = tmp / "out.txt"
    shutil.copy(OVSTEST_TABLE, table)
    a, b = tmp / "a.json", tmp / "b.json"
    results.save(make_run(seed=1), a)
    results.save(make_run(seed=2), b)
    (tmp / "link.json").symlink_to(a)
    os.link(a, tmp / "hard.json")
    pts = tmp / "pts"
    pts.mkdir()
    results.save(make_run(seed=3), pts / "p1.json")
    results.save(make_run(seed=4), pts / "p2.json")
    grid = ["--entries", "50,100", "--zones", "2,3", "--iterations", "2"]
    point = pts / "benchmark-zones-e50-z2.json"
    return {
        "pcap": (["pcap", cap, "--summary", "-o", cap], cap),
        "replay": (["replay", cap, *QUICK, "-o", cap], cap),
        "import-ovstest": (
            ["import-ovstest", table, "--args", "1000 100 200", "-o", table],
            table,
        ),
        "merge": (["merge", a, b, "-o", a], a),
        "merge through a symlink": (["merge", a, b, "-o", tmp / "link.json"], a),
        "merge through a hard link": (["merge", a, b, "-o", tmp / "hard.json"], a),
        "sweep --merge": (
            ["sweep", "--merge", pts / "p1.json", pts / "p2.json", "-o"]
            + [pts / "p2.json"],
            pts / "p2.json",
        ),
        "sweep over a point's file": (
            ["sweep", "benchmark-zones", *grid, *QUICK, "--points-dir", pts]
            + ["-o", point],
            point,
        ),
    }


OVERWRITES = [
    "pcap",
    "replay",
    "import-ovstest",
    "merge",
    "merge through a symlink",
    "merge through a hard link",
    "sweep --merge",
    "sweep over a point's file",
]


@pytest.mark.parametrize("case", OVERWRITES)
def test_an_output_that_is_an_input_is_refused_before_any_work(
    tmp_path: Path, case: str
) -> None:
    args, victim = _overwrites(tmp_path)[case]
    before = victim.read_bytes() if victim.exists() else None
    files_before = sorted(tmp_path.rglob("*"))
    code, text, err = run_cli(*args)
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith("ctbench: error: --output ")
    assert f"is the same file as the input {victim}: name another file" in line
    assert text == ""
    assert (victim.read_bytes() if victim.exists() else None) == before
    assert sorted(tmp_path.rglob("*")) == files_before  # nothing made either


# -- 20. one writer at a time -------------------------------------------------


def test_a_second_run_writing_the_same_file_is_refused_while_the_first_runs(
    tmp_path: Path,
) -> None:
    out = tmp_path / "r.json"
    long_run = ["benchmark-zones", "200", "3", "1000000", "--memory-sample", "0"]
    with start_marked_run(tmp_path, *long_run, *QUICK, "--force", "-o", out) as first:
        try:
            wait_for(tmp_path / "running", first)
            code, text, err = run_cli(*RUNS["benchmark-zones"], *QUICK, "-o", out)
            assert code == 2
            assert err.splitlines() == [
                f"ctbench: error: another ctbench run is writing {out} "
                f"(its lock file: {tmp_path / '.r.json.lock'})"
            ]
            assert text == "" and not out.exists()  # refused before any work
        finally:
            first.send_signal(signal.SIGINT)
            first.communicate(timeout=60)
    assert first.returncode == 130
    assert results.load(out).params["entries"] == 200  # the first run's file
    assert _lock_files(tmp_path) == []
    (tmp_path / "running").unlink()
    # Once the first has finished, the file is free again.
    assert run_cli(*RUNS["benchmark-zones"], *QUICK, "-o", out).code == 0
    assert _lock_files(tmp_path) == []


def test_a_sweep_refuses_a_points_folder_another_run_is_writing(
    tmp_path: Path,
) -> None:
    points = tmp_path / "pts"
    grid = ["--entries", "50,100", "--zones", "2,3", "--iterations", "2"]
    args = ["sweep", "benchmark-zones", *grid, *QUICK, "--points-dir", points]
    with files.writer_lock(points):  # another sweep, writing elsewhere
        code, text, err = run_cli(*args, "-o", tmp_path / "mine.json")
    assert code == 2
    assert err.splitlines() == [
        f"ctbench: error: another ctbench run is writing {points} "
        f"(its lock file: {tmp_path / '.pts.lock'})"
    ]
    assert not points.exists() and not (tmp_path / "mine.json").exists()
    assert _lock_files(tmp_path) == []


@pytest.mark.parametrize(
    "refusal",
    [
        lambda out: ["merge", out.parent / "missing.json", "-o", out],
        lambda out: ["replay", out.parent / "missing.pcap", "-o", out],
        lambda out: ["benchmark-zones", "4000000000", "60000", "1", "-o", out],
    ],
    ids=["merge of a missing file", "replay of a missing capture", "a run too big"],
)
def test_a_refused_command_leaves_no_lock_file(
    tmp_path: Path, refusal: Callable[[Path], list[object]]
) -> None:
    code, _, _ = run_cli(*refusal(tmp_path / "r.json"))
    assert code == 2
    assert _lock_files(tmp_path) == [] and list(tmp_path.iterdir()) == []
