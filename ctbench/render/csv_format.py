"""CSV: one row per phase and backend, full-precision statistics."""

from __future__ import annotations

import csv
import io

from ctbench.render.common import rows
from ctbench.render.table import cells, headers
from ctbench.results import RunResult


def render(run: RunResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers(run))
    for row in rows(run):
        writer.writerow(cells(run, row, fmt=False))
    return out.getvalue()
