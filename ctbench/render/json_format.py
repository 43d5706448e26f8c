"""JSON: the results file itself."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ctbench.render.format import Format
from ctbench.report.document import Report
from ctbench.results import RunResult, dumps, run_to_json


def render(report: Report, width: int = 80) -> str:
    return dumps(report.run)


def render_many(runs: Sequence[RunResult]) -> str:
    """Several runs as a JSON list of results documents, in the given order.

    The list is not itself a results file: ``ctbench report`` and
    ``ctbench compare`` read one document per file."""
    return json.dumps([run_to_json(run) for run in runs], separators=(",", ":")) + "\n"


FORMAT = Format("json", render, "the results file (JSON) itself")
