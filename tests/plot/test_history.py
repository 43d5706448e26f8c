"""ctbench plot of a history (history --format json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ctbench.history.document import history_from_json
from ctbench.plot.history_figure import history_figure
from tests.helpers.cli import run_cli
from tests.helpers.paths import ROOT

DATA = ROOT / "tests/data/history"


@pytest.fixture
def history_file(tmp_path: Path) -> Path:
    code, out, err = run_cli(
        "history", DATA / "step", "--key", "run", "--format", "json"
    )
    assert code == 1, err
    path = tmp_path / "history.json"
    path.write_text(out)
    return path


def test_a_history_is_drawn_a_panel_per_phase_its_steps_marked(
    history_file: Path,
) -> None:
    history = history_from_json(json.loads(history_file.read_text()), "h")
    fig = history_figure(history)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == [
        "ct execute (commit)",
        "ct execute (no commit)",
        "flush full zone",
        "flush empty zone",
    ]
    # The step's mark: a dashed line between runs 12 and 13, and its size.
    for ax in panels[:2]:
        dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert [list(np.ravel(line.get_xdata())) for line in dashed] == [[12.5, 12.5]]
    assert [t.get_text() for t in panels[1].texts] == ["+6.7%"]
    assert not panels[2].texts and not panels[3].texts


def test_plot_writes_the_history_figure(history_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "history.svg"
    code, _, err = run_cli("plot", history_file, "-o", out)
    assert code == 0, err
    assert out.read_text().startswith("<?xml")


def test_a_broken_history_document_is_one_line_exit_2(
    history_file: Path, tmp_path: Path
) -> None:
    doc = json.loads(history_file.read_text())
    doc["scenarios"][0]["trends"][0]["values"] = [1.0]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    code, _, err = run_cli("plot", bad, "-o", tmp_path / "x.png")
    assert code == 2 and err.count("\n") == 1
    assert "'values' must hold a number or null per run" in err


def test_two_histories_are_refused(history_file: Path, tmp_path: Path) -> None:
    code, _, err = run_cli("plot", history_file, history_file, "-o", tmp_path / "x.png")
    assert code == 2 and "plot draws one history at a time" in err
