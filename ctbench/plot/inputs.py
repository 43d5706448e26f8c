"""What a file given to ``plot`` is: a run, a sweep or a comparison.

Each kind is read through its own validated loader, so a bad file is a
one-line error before anything is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ctbench import registry
from ctbench.compare import STATS, VERDICTS, CompareError, Settings
from ctbench.growth.document import (
    PLAN_KIND,
    SWEEP_KIND,
    document_kind,
    sweep_from_json,
)
from ctbench.plot import PlotError
from ctbench.render.comparison.json_doc import COMPARISON_SCHEMA
from ctbench.report.numbers import plural
from ctbench.results import ResultsError, parse_json, read_text, run_from_json
from ctbench.results.schema import require

RUN: Final = "run"
SWEEP: Final = "sweep"
COMPARISON: Final = "comparison"


@dataclass(frozen=True)
class ForestRow:
    backend: str
    phase: str
    ratio: float | None
    low: float | None
    high: float | None
    verdict: str


@dataclass(frozen=True)
class ComparisonDoc:
    """What a forest plot needs of ``compare --format json``'s document."""

    command: str
    baseline: str
    candidate: str
    stat: str
    slower_above: float
    faster_below: float
    threshold: float
    rows: list[ForestRow]


@dataclass(frozen=True)
class PlotInput:
    name: str
    kind: str
    document: Any  # RunResult, SweepDocument or ComparisonDoc


def _finite(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def comparison_from_json(data: Any, where: str) -> ComparisonDoc:
    schema = data.get("comparison_schema")
    require(
        isinstance(schema, int) and not isinstance(schema, bool),
        where,
        "'comparison_schema' must be an integer",
    )
    require(
        schema <= COMPARISON_SCHEMA,
        where,
        f"comparison schema {schema} is newer than this ctbench understands "
        f"({COMPARISON_SCHEMA}); upgrade ctbench",
    )
    settings = data.get("settings")
    require(isinstance(settings, dict), where, "'settings' must be an object")
    stat = settings.get("stat")
    require(stat in STATS, where, f"'settings.stat' must be one of {', '.join(STATS)}")
    for key in ("slower_above", "faster_below", "threshold"):
        require(
            _finite(settings.get(key)),
            where,
            f"'settings.{key}' must be a number above 0",
        )
    # The threshold as compare checks it, and the band compare derives from it.
    try:
        band = Settings(stat=stat, threshold=settings["threshold"])
    except CompareError as exc:
        raise ResultsError(f"{where}: 'settings': {exc}") from None
    for key, derived in (("slower_above", band.upper), ("faster_below", band.lower)):
        require(
            math.isclose(settings[key], derived),
            where,
            f"'settings.{key}' must be {derived:.6g}, as the threshold "
            f"{band.threshold:g} gives (got {settings[key]:.6g})",
        )
    raw_rows = data.get("rows")
    require(isinstance(raw_rows, list), where, "'rows' must be a list of rows")
    if not raw_rows:
        raise PlotError(f"{where}: {_why_no_rows(data.get('summary_rows'))}")
    rows = []
    for i, raw in enumerate(raw_rows):
        at = f"{where}: rows[{i}]"
        require(isinstance(raw, dict), at, "a row must be an object")
        for key in ("backend", "phase"):
            require(isinstance(raw.get(key), str), at, f"'{key}' must be a string")
        require(raw.get("verdict") in VERDICTS, at, "unknown 'verdict'")
        ratios = raw.get("ratios")
        require(
            isinstance(ratios, dict) and isinstance(ratios.get(stat), dict),
            at,
            f"'ratios.{stat}' missing",
        )
        figures = ratios[stat]
        values = {}
        for key in ("ratio", "low", "high"):
            value = figures.get(key)
            require(
                value is None or _finite(value),
                at,
                f"'ratios.{stat}.{key}' must be a number above 0 or null",
            )
            values[key] = None if value is None else float(value)
        low, high = values["low"], values["high"]
        require(
            low is None or high is None or low <= high,
            at,
            f"'ratios.{stat}.low' lies above 'ratios.{stat}.high'",
        )
        rows.append(
            ForestRow(
                raw["backend"],
                raw["phase"],
                values["ratio"],
                values["low"],
                values["high"],
                raw["verdict"],
            )
        )
    for key in ("baseline", "candidate"):
        require(isinstance(data.get(key), str), where, f"'{key}' must be a string")
    return ComparisonDoc(
        command=str(data.get("command", "")),
        baseline=data["baseline"],
        candidate=data["candidate"],
        stat=stat,
        slower_above=float(settings["slower_above"]),
        faster_below=float(settings["faster_below"]),
        threshold=float(settings["threshold"]),
        rows=rows,
    )


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
    if (
        isinstance(data, dict)
        and "comparison_schema" in data
        and data.get("tool") == "ctbench"
    ):
        return PlotInput(where, COMPARISON, comparison_from_json(data, where))
    kind = document_kind(data, where)
    if kind == SWEEP_KIND:
        return PlotInput(where, SWEEP, sweep_from_json(data, where))
    if kind == PLAN_KIND:
        raise ResultsError(
            f"{where}: a sweep plan holds no measurements: run its commands, "
            "then ctbench sweep --merge their files"
        )
    return PlotInput(where, RUN, run_from_json(data, where, registry.param_checks()))
