"""JSON: the results file itself (schema 1)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ctbench.results import RunResult, dumps, to_json_dict


def render(run: RunResult) -> str:
    return dumps(run)


def render_many(runs: Sequence[RunResult]) -> str:
    """Several runs as a JSON list of schema-1 documents, in the given order.

    The list is not itself a results file: ``ctbench report`` and
    ``ctbench compare`` read one document per file."""
    return json.dumps([to_json_dict(run) for run in runs], separators=(",", ":")) + "\n"
