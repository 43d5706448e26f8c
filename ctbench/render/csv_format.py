"""CSV: one row per phase and backend, full-precision statistics."""

from __future__ import annotations

import csv
import io

from ctbench.render.format import Format
from ctbench.render.table import headers
from ctbench.report.document import Report


def render(report: Report, width: int = 80) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers(report))
    for group in report.groups:
        for row in group.rows:
            values = [row.values.get(c.key) for c in report.columns]
            writer.writerow([group.label, row.label, *values])
    return out.getvalue()


FORMAT = Format("csv", render, "a row per phase and backend, full precision")
