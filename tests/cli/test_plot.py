"""ctbench plot through its entry point: files of every kind, every format,
and the one-line errors (matplotlib missing included)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ctbench import results
from ctbench.growth.build import build_sweep
from ctbench.growth.document import dumps_sweep
from ctbench.plot import INSTALL_HINT
from ctbench.results import PhaseResult, RunResult
from ctbench.stats import Summary
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.run_factory import SavedRuns, make_run
from tests.helpers.sweep_factory import grid_runs

pytest.importorskip("matplotlib")

MAGIC = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}


@pytest.fixture
def files(tmp_path: Path, saved_runs: SavedRuns) -> dict[str, Path]:
    run = saved_runs.save("run.json")
    other = saved_runs.save("other.json", scale=1.3, seed=2)
    sweep = tmp_path / "sweep.json"
    sweep.write_text(dumps_sweep(build_sweep(grid_runs(), "min"), sweep))
    cmp = tmp_path / "cmp.json"
    code, out, _ = run_cli("compare", run, other, "--format", "json")
    assert code == 1  # 30% slower
    cmp.write_text(out)
    plan = tmp_path / "plan.json"
    args = ["--entries", "5,6", "--zones", "2,3", "--iterations", "1"]
    assert run_cli("sweep", "benchmark-zones", *args, "--plan", "-o", plan).code == 0
    return {"run": run, "sweep": sweep, "comparison": cmp, "plan": plan}


@pytest.mark.parametrize(
    ("kind", "fmt"),
    # Every format once on the quick run figure; every kind once.
    [("run", "png"), ("run", "svg"), ("run", "pdf"), ("sweep", "png")]
    + [("comparison", "png")],
)
def test_every_kind_of_file_plots_to_every_format(
    tmp_path: Path, files: dict[str, Path], kind: str, fmt: str
) -> None:
    out = tmp_path / f"figure.{fmt}"
    code, text, err = run_cli("plot", files[kind], "-o", out)
    assert (code, text) == (0, ""), err
    assert err == f"plot written to {out}\n"
    assert out.read_bytes().startswith(MAGIC[fmt])
    assert not list(tmp_path.glob(".figure.*"))  # written atomically


def test_an_unknown_extension_is_refused(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    err = assert_one_line_error(run_cli("plot", files["run"], "-o", tmp_path / "x.jpg"))
    assert "the extension must be one of .png, .svg, .pdf (got .jpg)" in err
    assert not (tmp_path / "x.jpg").exists()


def test_without_matplotlib_it_says_how_to_install_it(
    tmp_path: Path, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    err = assert_one_line_error(run_cli("plot", files["run"], "-o", tmp_path / "x.png"))
    assert "needs matplotlib, which is not installed" in err and INSTALL_HINT in err


@pytest.mark.parametrize(
    ("which", "why"),
    [
        (["run", "sweep"], "plot draws files of one kind at a time"),
        (["plan"], "a sweep plan holds no measurements"),
    ],
)
def test_files_that_cannot_be_drawn_together_are_refused(
    tmp_path: Path, files: dict[str, Path], which: list[str], why: str
) -> None:
    paths = [files[w] for w in which]
    err = assert_one_line_error(run_cli("plot", *paths, "-o", tmp_path / "x.png"))
    assert why in err


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty file"),
        ("{", "not valid JSON"),
        ('{"comparison_schema": 1, "tool": "ctbench"}', "'settings' must be an object"),
        ('{"comparison_schema": 9, "tool": "ctbench"}', "newer than this ctbench"),
        ('{"tool": {"name": "ctbench"}, "schema": 2, "kind": "sweep"}', "'command'"),
    ],
)
def test_a_bad_file_is_one_line(tmp_path: Path, text: str, why: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    err = assert_one_line_error(run_cli("plot", bad, "-o", tmp_path / "x.png"))
    assert why in err


def test_a_comparison_row_without_a_ratio_is_left_out(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    data = json.loads(files["comparison"].read_text())
    for row in data["rows"]:
        row["ratios"]["median"]["ratio"] = None
    files["comparison"].write_text(json.dumps(data))
    err = assert_one_line_error(
        run_cli("plot", files["comparison"], "-o", tmp_path / "x.png")
    )
    assert "no row has a ratio" in err


def _edit_comparison(data: dict[str, Any], key: str, value: float) -> None:
    if key in data["settings"]:
        data["settings"][key] = value
    else:
        data["rows"][0]["ratios"]["median"][key] = value


def _edit_sweep(data: dict[str, Any], key: str, value: float) -> None:
    fit = data["fits"][0]
    if key == "exponent":
        fit["exponent"], fit["ci95"] = value, [value, value]
    else:
        fit["fit"][key] = value


# (kind, field, value, words of the refusal; None: it plots): huge figures
# are refused in one line, or drawn, never a traceback.
HUGE = [
    ("comparison", "ratio", 1e300, "span too many decades to draw on one axis"),
    ("comparison", "ratio", 1e-300, "span too many decades to draw on one axis"),
    ("comparison", "high", 1e300, "span too many decades to draw on one axis"),
    ("comparison", "low", 1e300, "'ratios.median.low' lies above"),
    ("comparison", "slower_above", 1e300, "'settings.slower_above' must be 1.1"),
    ("comparison", "faster_below", 1e-300, "'settings.faster_below' must be 0.909"),
    ("comparison", "threshold", 1e300, "threshold must be greater than 0 and at"),
    ("sweep", "residual_se", 1e300, "'residual_se' must be from 0 to 709.8"),
    ("sweep", "log_intercept", 1e300, "predicts e^1e+300 us at stored"),
    ("sweep", "log_intercept", -1e300, "beyond any float"),
    ("sweep", "exponent", 1e300, "beyond any float"),
    ("sweep", "residual_se", 700.0, "exceeds the spread of its log costs"),
    ("sweep", "residual_se", 0.5, None),
]


@pytest.mark.parametrize(("kind", "key", "value", "words"), HUGE)
def test_huge_figures_are_one_line_errors_never_tracebacks(
    tmp_path: Path,
    files: dict[str, Path],
    kind: str,
    key: str,
    value: float,
    words: str | None,
) -> None:
    data = json.loads(files[kind].read_text())
    (_edit_comparison if kind == "comparison" else _edit_sweep)(data, key, value)
    files[kind].write_text(json.dumps(data))
    result = run_cli("plot", files[kind], "-o", tmp_path / "x.png")
    if words is None:
        assert result.code == 0, result.err
    else:
        assert words in assert_one_line_error(result)


def test_a_ratio_outside_its_interval_is_drawn_apart_from_it(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    # A percentile interval need not hold its estimate: both are drawn.
    data = json.loads(files["comparison"].read_text())
    figures = data["rows"][0]["ratios"]["median"]
    figures["ratio"] = figures["high"] * 1.5
    files["comparison"].write_text(json.dumps(data))
    out = tmp_path / "x.png"
    assert run_cli("plot", files["comparison"], "-o", out).code == 0
    assert out.read_bytes().startswith(MAGIC["png"])


def _summary_only_run(low: float) -> RunResult:
    """A run of ovstest's figures alone, as import-ovstest writes it."""
    run = make_run(backends=["single"])
    run.environment = {}
    summary = Summary.from_ovstest(low, low * 3, low * 2, low * 1.5, 100)
    run.results[0].phases = {"flush_full_zone": PhaseResult(summary=summary)}
    return run


def _stopped_run() -> RunResult:
    """A run stopped during its fill: no round, so no sample."""
    run = make_run(backends=["single"], complete=False)
    run.stopped_by = "SIGINT"
    run.results[0].phases = {}
    run.results[0].status = "interrupted"
    return run


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (_stopped_run, "the run was stopped by SIGINT before its first round ended"),
        (lambda: _summary_only_run(100), "ovstest's summary figures only"),
    ],
)
def test_a_run_without_samples_says_why(
    tmp_path: Path, make: Callable[[], RunResult], why: str
) -> None:
    results.save(make(), tmp_path / "s.json")
    err = assert_one_line_error(
        run_cli("plot", tmp_path / "s.json", "-o", tmp_path / "x.png")
    )
    assert f"no samples to plot: s.json: {why}" in err


def test_a_comparison_of_summaries_only_says_so(tmp_path: Path) -> None:
    base, cand = tmp_path / "a.json", tmp_path / "b.json"
    results.save(_summary_only_run(100), base)
    results.save(_summary_only_run(130), cand)
    code, out, _ = run_cli("compare", base, cand, "--format", "json")
    assert code == 0 and json.loads(out)["rows"] == []
    cmp = tmp_path / "cmp.json"
    cmp.write_text(out)
    err = assert_one_line_error(run_cli("plot", cmp, "-o", tmp_path / "x.png"))
    assert "cmp.json: a comparison of ovstest summaries only" in err
    assert "'rows' must be a list" not in err


def test_a_comparison_without_rows_has_nothing_to_plot(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    doc = json.loads(files["comparison"].read_text())
    doc["rows"] = []
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps(doc))
    err = assert_one_line_error(run_cli("plot", empty, "-o", tmp_path / "x.png"))
    assert f"{empty}: a comparison with no rows: nothing to plot" in err
