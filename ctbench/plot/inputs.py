"""What a file given to ``plot`` is: a run, a sweep, a thread sweep's
scaling file, a comparison or a history (``ctbench history --format json``).

Each kind is read through its own validated loader, so a bad file is a
one-line error before anything is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ctbench import registry
from ctbench.comparison_document import (
    EmptyComparison,
    comparison_from_json,
    is_comparison,
)
from ctbench.growth.document import (
    PLAN_KIND,
    SWEEP_KIND,
    document_kind,
    sweep_from_json,
)
from ctbench.growth.scaling_document import SCALING_KIND, scaling_from_json
from ctbench.history.document import HISTORY_KIND, history_from_json
from ctbench.plot import PlotError
from ctbench.report.numbers import plural
from ctbench.results import ResultsError, parse_json, read_text, run_from_json
from ctbench.units import require_time

RUN: Final = "run"
HISTORY: Final = "history"
SWEEP: Final = "sweep"
SCALING: Final = "scaling"
COMPARISON: Final = "comparison"


@dataclass(frozen=True)
class PlotInput:
    name: str
    kind: str
    document: Any  # RunResult, SweepDocument, ScalingDocument, ComparisonDoc or History


def _why_no_rows(summary_rows: Any) -> str:
    """Why a well-formed comparison has nothing for a forest plot."""
    if isinstance(summary_rows, list) and summary_rows:
        return (
            "a comparison of ovstest summaries only: its "
            f"{plural(len(summary_rows), 'summary row')} hold ratios without "
            "an interval or a verdict, nothing to draw in a forest plot "
            "(compare's table shows them)"
        )
    return "a comparison with no rows: nothing to plot"


def load_input(path: Path) -> PlotInput:
    where = str(path)
    data = parse_json(read_text(path), where)
    if is_comparison(data):
        try:
            document = comparison_from_json(data, where)
        except EmptyComparison as exc:
            raise PlotError(f"{where}: {_why_no_rows(exc.summary_rows)}") from None
        return PlotInput(where, COMPARISON, document)
    kind = document_kind(data, where)
    if kind == SWEEP_KIND:
        return PlotInput(where, SWEEP, sweep_from_json(data, where))
    if kind == SCALING_KIND:
        return PlotInput(where, SCALING, scaling_from_json(data, where))
    if kind == HISTORY_KIND:
        return PlotInput(where, HISTORY, history_from_json(data, where))
    if kind == PLAN_KIND:
        raise ResultsError(
            f"{where}: a sweep plan holds no measurements: run its commands, "
            "then ctbench sweep --merge their files"
        )
    run = run_from_json(data, where, registry.param_checks())
    require_time(where, run.unit, "plot")
    return PlotInput(where, RUN, run)
