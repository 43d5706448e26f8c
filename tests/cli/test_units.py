"""Units across the commands that read results files: counts reported and
compared as counts, and never mixed with times (ctbench.units)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctbench import results
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.paths import ROOT
from tests.helpers.run_factory import counted_run, make_run


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "time": tmp_path / "time.json",
        "counts": tmp_path / "counts.json",
        "more": tmp_path / "more.json",
        "cycles": tmp_path / "cycles.json",
    }
    results.save(make_run(), paths["time"])
    results.save(counted_run(), paths["counts"])
    results.save(counted_run(scale=1.02), paths["more"])
    results.save(counted_run("estimated_cycles"), paths["cycles"])
    return paths


def test_a_file_of_counts_holds_whole_numbers_and_reads_back(
    files: dict[str, Path],
) -> None:
    doc = json.loads(files["counts"].read_text())
    assert doc["schema"] == 4 and doc["unit"] == "instructions"
    samples = doc["results"][0]["phases"]["ct_execute_commit"]["samples"]
    assert all(isinstance(s, int) for s in samples)
    assert results.load(files["counts"]) == counted_run()


def test_a_schema_1_file_still_reads_as_microseconds() -> None:
    run = results.load(
        ROOT / "tests" / "data" / "results" / "baseline-zones-2026-11-26-schema1.json"
    )
    assert run.unit == "us" and not run.counted
    assert run.results[0].phases["ct_execute_commit"].samples


def test_report_heads_counts_with_their_unit(files: dict[str, Path]) -> None:
    code, out, _ = run_cli("report", files["counts"], "--format", "patch")
    assert code == 0
    assert out.splitlines()[1].startswith(
        "Instructions executed, counted by callgrind in the worker thread. Avg"
    )
    assert "Times in microseconds" not in out
    assert "| 10,0" in out or "| 9,9" in out  # counts with separators
    assert "more instructions than single" in out


def test_compare_judges_counts_on_the_count_threshold(
    files: dict[str, Path],
) -> None:
    """2% more instructions on every sample: slower at the 1% count
    threshold, with no bootstrap and fewer than 20 samples a side."""
    code, out, _ = run_cli("compare", files["counts"], files["more"])
    assert code == 1
    assert "count threshold 1.0% (--count-threshold)" in out
    assert "1.0200" in out and "[95% CI]" not in out
    assert "FAIL: regression (4 slower)" in out
    code, out, _ = run_cli(
        "compare", files["counts"], files["more"], "--count-threshold", "3%"
    )
    assert code == 0 and "OK: no regression (4 unchanged)" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("compare", "time", "counts"), "cannot compare samples in different units"),
        (("compare", "counts", "cycles"), "cannot compare samples in different units"),
        (("merge", "time", "counts", "-o", "OUT"), "cannot pool samples in different"),
        (("report", "time", "counts"), "cannot show side by side samples in differ"),
        (("history", "counts", "more"), "history reads times in microseconds only"),
        (("sweep", "--merge", "counts"), "sweep --merge reads times in microseconds"),
    ],
)
def test_mixed_units_and_counts_where_times_are_read_are_refused(
    files: dict[str, Path], tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    argv = [str(files.get(a, tmp_path / "out.json" if a == "OUT" else a)) for a in args]
    line = assert_one_line_error(run_cli(*argv))
    assert words in line


def test_plot_refuses_counts(files: dict[str, Path], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    line = assert_one_line_error(
        run_cli("plot", files["counts"], "-o", tmp_path / "a.png")
    )
    assert "holds instructions (--measure instructions); plot reads times" in line
