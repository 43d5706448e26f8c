"""A new format and a new command plug in without editing what exists.

A format is one module's ``Format`` plus its registration in
``ctbench.render.FORMATS``; a command is its sections plus their
registration in ``ctbench.commands.SECTIONS`` (and a CLI module).  Both are
registered here at run time, and everything else works as it is.
"""

from __future__ import annotations

import pytest
from run_factory import make_run

from ctbench import commands, results
from ctbench.render import FORMATS, Format, render
from ctbench.report.document import Column, Report
from ctbench.report.sections import CommandSections, ExtraColumn, extra_value


def _lines_per_phase(report: Report, width: int) -> str:
    return "".join(f"{g.label}: {len(g.rows)}\n" for g in report.groups)


def test_a_new_format_is_a_module_and_a_registration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(FORMATS, "counts", Format("counts", _lines_per_phase, "?"))
    text = render(make_run(), "counts")
    assert text == "ct execute (commit): 2\nflush full zone: 2\n"


def test_a_new_command_is_its_sections_and_a_registration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sections = CommandSections(
        phases={"replay_batch": "replayed batch"},
        title_params=("capture",),
        method=lambda run: "Per-batch latency of a replayed capture.",
        lead=lambda run: ["replayed 3 packets"],
        extra_columns=(
            ExtraColumn(Column("pps", "pkts/s", "rate"), extra_value("pps")),
        ),
        summary=lambda run: [f"{r.label}: done" for r in run.results],
    )
    monkeypatch.setitem(commands.SECTIONS, "replay-test", sections)
    run = make_run(command="replay-test", params={"capture": "x.pcap"})
    for result in run.results:
        result.phases = {"replay_batch": result.phases["ct_execute_commit"]}
        result.extra["pps"] = 1234.5
    for fmt in FORMATS:
        text = render(run, fmt)
        if fmt != "json":
            assert "replayed batch" in text
            assert ("1234.5" if fmt == "csv" else "1,234") in text
    patch = render(run, "patch")
    assert patch.startswith("ctbench replay-test x.pcap  [single, per-zone]\n")
    assert "replayed 3 packets" in patch and "single: done" in patch
    # Its results files load, and report renders them.
    assert results.loads(results.dumps(run)).command == "replay-test"
