"""A comparison's formats: each a thin layout of a comparison report.

A format is one module with a ``FORMAT``; registering it here is all a new
one needs.
"""

from __future__ import annotations

from typing import Final

from ctbench.compare import Comparison
from ctbench.render.comparison import json_doc, markdown, table
from ctbench.render.comparison.format import ComparisonFormat
from ctbench.report.comparison import build_comparison_report

FORMATS: Final[dict[str, ComparisonFormat]] = {
    f.name: f for f in (table.FORMAT, markdown.FORMAT, json_doc.FORMAT)
}


def render(c: Comparison, fmt: str) -> str:
    return FORMATS[fmt].layout(build_comparison_report(c))


__all__ = ["FORMATS", "ComparisonFormat", "render"]
