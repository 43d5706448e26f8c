"""A new format and a new command plug in without editing what exists.

A format is one module's ``Format`` plus its registration in
``ctbench.render.FORMATS``.  A command is a scenario, a report, a CLI
command and one registration, its ``ctbench.registry.Command`` record:
tests/helpers/churn_command.py is such a command, written outside ctbench/ and
registered here at run time, and every command that reads results files
reads its files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ctbench import registry
from ctbench.backends import BackendSpec
from ctbench.registry import Command
from ctbench.render import FORMATS, Format, render
from ctbench.report.document import Report
from ctbench.scenarios.harness import PROCESS_BYTES
from tests.helpers.churn_command import CHURN, ChurnConfig
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.run_factory import make_run

SINGLE = (BackendSpec("single"),)


def _lines_per_phase(report: Report, width: int) -> str:
    return "".join(f"{g.label}: {len(g.rows)}\n" for g in report.groups)


def test_a_new_format_is_a_module_and_a_registration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(FORMATS, "counts", Format("counts", _lines_per_phase, "?"))
    text = render(make_run(), "counts")
    assert text == "ct execute (commit): 2\nflush full zone: 2\n"


@pytest.fixture
def churn() -> Iterator[Command[Any]]:
    """The churn command, registered from here as a plugin would be."""
    registry.register(CHURN)
    try:
        yield CHURN
    finally:
        registry.unregister(CHURN.name)


def test_a_new_command_is_a_record_registered_outside_ctbench(
    churn: Command[Any], tmp_path: Path
) -> None:
    """Registered from this test, without a line of ctbench/ changed, the
    churn command runs from the command line, and every command that reads
    results files reads its files."""
    assert "churn" in run_cli("--help").out
    a, b, pooled = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "m.json"
    for out in (a, b):
        ran = run_cli(
            "churn", 300, 3, "-q", "-b", "single", "-b", "per-zone", "-o", out
        )
        assert ran.code == 0, ran.err
        assert ran.out.startswith("ctbench churn 300 3  [single, per-zone]\n")
        assert "commit PACKETS" in ran.out and "flush their zone" in ran.out
        assert "single: 900 removed by the flushes" in ran.out
    run = registry.load(a)
    assert run.command == "churn" and run.params["rounds"] == 3
    assert run.results[0].phases["commit"].counters["created"] == 900
    assert len(run.results[0].phases["flush"].samples) == 3

    shown = run_cli("report", a, b, "--format", "markdown")
    assert shown.code == 0, shown.err
    assert "a.json:single" in shown.out and "b.json:per-zone" in shown.out
    assert "flush their zone" in shown.out

    compared = run_cli("compare", a, b)
    assert compared.code in (0, 1, 3), compared.err  # a verdict, not an error
    assert "commit PACKETS" in compared.out and "flush their zone" in compared.out
    ratios = tmp_path / "cmp.json"
    ratios.write_text(run_cli("compare", a, b, "--format", "json").out)

    for drawn in (a, ratios):
        figure = run_cli("plot", drawn, "-o", tmp_path / f"{drawn.stem}.svg")
        assert figure.code == 0, figure.err
        assert (tmp_path / f"{drawn.stem}.svg").read_text().startswith("<?xml")

    merged = run_cli("merge", a, b, "-o", pooled)
    assert merged.code == 0, merged.err
    # The record's Pooling: the rounds of the runs pooled are summed.
    assert registry.load(pooled).params["rounds"] == 6
    assert len(registry.load(pooled).results[0].phases["commit"].samples) == 6

    for fmt in FORMATS:
        assert run_cli("report", pooled, "--format", fmt).code == 0


def test_a_new_commands_estimates_come_from_its_record(churn: Command[Any]) -> None:
    config = ChurnConfig(packets=10, rounds=1_000_000_000, backends=SINGLE)
    assert churn.estimate(config).seconds == 2 * 10 * 1_000_000_000 * 2e-6
    assert churn.memory(config) == (PROCESS_BYTES + 10 * 400, 10)
    # Over an hour, and over any machine's memory: refused in one line.
    err = assert_one_line_error(
        run_cli("churn", 10, 1_000_000_000, "-q", "-b", "single")
    )
    assert err.startswith(
        "ctbench: error: this run would take about 11:06:40 (estimated"
    )
    err = assert_one_line_error(run_cli("churn", 10**15, 1, "-q", "-b", "single"))
    assert err.startswith("ctbench: error: this run needs about")


def test_a_new_commands_files_are_checked_by_its_own_params_check(
    churn: Command[Any], tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    assert run_cli("churn", 200, 1, "-q", "-b", "single", "-o", path).code == 0
    doc = json.loads(path.read_text())
    doc["params"]["rounds"] = 0
    path.write_text(json.dumps(doc))
    err = assert_one_line_error(run_cli("report", path))
    assert err.startswith(
        f"ctbench: error: {path}: 'params' hold what churn refuses: "
        "ROUNDS must be at least 1"
    )


def test_a_command_unregistered_is_unknown_again(tmp_path: Path) -> None:
    registry.register(CHURN)
    path = tmp_path / "run.json"
    try:
        assert run_cli("churn", 200, 1, "-q", "-b", "single", "-o", path).code == 0
    finally:
        registry.unregister(CHURN.name)
    assert "churn" not in run_cli("--help").out
    err = assert_one_line_error(run_cli("report", path))
    assert err.startswith(f"ctbench: error: {path}: unknown command 'churn'")


def test_a_name_registered_already_is_refused(churn: Command[Any]) -> None:
    with pytest.raises(registry.CommandError, match="'churn' is registered already"):
        registry.register(CHURN)
    builtin = replace(CHURN, name="benchmark-zones")
    with pytest.raises(registry.CommandError, match="'benchmark-zones' is regis"):
        registry.register(builtin)
