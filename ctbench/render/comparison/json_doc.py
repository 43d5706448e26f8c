"""A comparison as JSON, for machines: the comparison document
(:mod:`ctbench.comparison_document`), on one line."""

from __future__ import annotations

import json

from ctbench.comparison_document import comparison_to_json
from ctbench.render.comparison.format import ComparisonFormat
from ctbench.report.comparison import ComparisonReport


def render(r: ComparisonReport) -> str:
    return json.dumps(comparison_to_json(r.comparison), separators=(",", ":")) + "\n"


FORMAT = ComparisonFormat("json", render, "JSON, for machines")
