"""ctbench history on the command line: formats, exit status, bad input."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from ctbench import results
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.history_runs import make_runs
from tests.helpers.paths import ROOT
from tests.helpers.run_factory import make_run

DATA = ROOT / "tests/data/history"


def test_a_step_at_the_last_runs_exits_1_and_is_named() -> None:
    code, out, err = run_cli("history", DATA / "step", "--key", "run")
    assert code == 1, err
    assert (
        "ct execute (no commit) on probe: from run 13 (run-13.json) on, 6.7% slower"
        in out
    )
    assert out.rstrip().endswith("(6.7% slower from run 13).")
    assert "REGRESSION: the last run is part of a step that got slower" in out


def test_steady_runs_exit_0() -> None:
    code, out, err = run_cli("history", DATA / "steady", "--key", "run")
    assert code == 0, err
    assert "No step found in any trend." in out
    assert out.rstrip().endswith("The last run is not part of a step that got slower.")


def test_markdown_is_for_a_ci_summary() -> None:
    code, out, _ = run_cli("history", DATA / "step", "--format", "markdown")
    assert code == 1
    assert out.startswith("### ctbench history benchmark-zones 1000 10: 24 runs")
    assert "**REGRESSION:" in out and "| 13  | run-13.json | 312 ^" in out


def test_csv_has_a_row_per_run_backend_and_phase() -> None:
    code, out, _ = run_cli("history", DATA / "step", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 1 and len(rows) == 24 * 4
    stepped = [r for r in rows if r["step_change"]]
    assert {(r["phase"], r["run"]) for r in stepped} == {
        ("ct execute (commit)", "13"),
        ("ct execute (no commit)", "13"),
    }


def test_json_holds_every_figure() -> None:
    code, out, _ = run_cli("history", DATA / "steady", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["kind"] == "history" and doc["regressed"] is False
    (scenario,) = doc["scenarios"]
    assert len(scenario["runs"]) == 22 and len(scenario["trends"]) == 4


def test_files_and_directories_mix(tmp_path: Path) -> None:
    code, out, _ = run_cli(
        "history", DATA / "steady", DATA / "step" / "run-01.json", "--key", "run"
    )
    assert code == 0 and "23 runs" in out


def test_live_runs_of_one_scenario_make_a_history(tmp_path: Path) -> None:
    """ctbench's own files, made now: tagged, ordered by start time."""
    make_runs(tmp_path, 3, None, (0, 1))
    code, out, err = run_cli("history", tmp_path)
    assert code == 0, err
    assert "3 runs, ordered by start time" in out
    assert "a step needs at least 3 runs on each side" in out


# -- bad input: one line, exit status 2 -------------------------------------


def _one_line_error(*args: object) -> str:
    return assert_one_line_error(run_cli("history", *args))


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    assert "the directory holds no .json file" in _one_line_error(tmp_path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    assert "does not exist" in _one_line_error(tmp_path / "gone.json")


def test_a_file_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text('{"a": 1}')
    assert "not a ctbench results file" in _one_line_error(tmp_path)


def test_mixed_scenarios_are_refused_without_group(tmp_path: Path) -> None:
    results.save(make_run(n=5), tmp_path / "a.json")
    results.save(make_run(n=5, params={"entries": 7}), tmp_path / "b.json")
    err = _one_line_error(tmp_path)
    assert "the files hold runs of 2 scenarios" in err and "--group" in err
    code, out, err = run_cli("history", tmp_path, "--group")
    assert code == 0 and out.count("ctbench history benchmark-zones") == 2
    assert err == (
        "ctbench: note: the files hold runs of 2 scenarios: each one's history "
        "is shown apart\n"
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--key", "commit"], "--key commit: run-01.json has no tag 'commit'"),
        (["--stat", "mean"], "'mean' is not one of 'median', 'min'"),
        (["--format", "patch"], "'patch' is not one of"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_bad_options_are_refused(args: list[str], words: str) -> None:
    assert words in _one_line_error(DATA / "steady", *args)


def test_a_run_without_a_start_time_asks_for_a_key(tmp_path: Path) -> None:
    shutil.copy(DATA / "steady" / "run-01.json", tmp_path / "a.json")
    doc = json.loads((tmp_path / "a.json").read_text())
    doc["started"] = ""
    (tmp_path / "b.json").write_text(json.dumps(doc))
    assert "records no start time: order the runs with --key TAG" in (
        _one_line_error(tmp_path)
    )
