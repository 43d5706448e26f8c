"""The comparison document, ``compare --format json``: written and read
back here, so that its writer and its reader change together.

It is not a results file: it has its own version (``comparison_schema``)
and says what was compared, with which settings, row by row.  ``plot``
reads it back (:func:`comparison_from_json`) for a forest plot of the
rows' ratios and intervals, refusing a newer version than it knows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from ctbench.compare import (
    STATS,
    VERDICTS,
    CompareError,
    Comparison,
    Settings,
)
from ctbench.errors import CtbenchError
from ctbench.results import ResultsError
from ctbench.results.schema import require
from ctbench.stats import CONFIDENCE

# The JSON comparison document's own version (it is not a results file).
# History: 1, first version; "summary_rows" (ovstest's summaries: ratios,
# no interval, no verdict) added without a bump, present only when there are
# such rows: documents without them are unchanged; likewise
# "settings.pairs" (compare --pair), present only when pairs were asked for.
# "unit" (what the runs' samples measure, ctbench.units) is likewise
# present only for runs of counts, whose "settings.threshold" is then the
# count threshold and whose intervals are the ratios themselves.
COMPARISON_SCHEMA: Final = 1
COUNTS_METHOD: Final = "exact ratio of callgrind's counts, no interval"


def _or_null(value: float) -> float | None:
    """JSON has no NaN: an undefined ratio or interval is null."""
    return value if math.isfinite(value) else None


def comparison_to_json(c: Comparison) -> dict[str, Any]:
    s = c.settings
    doc: dict[str, Any] = {
        "comparison_schema": COMPARISON_SCHEMA,
        "tool": "ctbench",
        "command": c.command,
        "baseline": c.baseline_name,
        "candidate": c.candidate_name,
        "settings": {
            "stat": s.stat,
            "threshold": s.threshold,
            "slower_above": s.upper,
            "faster_below": s.lower,
            "confidence": CONFIDENCE,
            "method": COUNTS_METHOD
            if c.counted
            else "percentile bootstrap (Efron & Tibshirani 1993, ch. 13)",
            "resamples": s.resamples,
            "seed": s.seed,
            "strict": s.strict,
            "counters_must_match": s.counters_must_match,
        },
        "rows": [
            {
                "backend": r.backend,
                "phase": r.phase,
                "baseline_count": r.baseline_count,
                "candidate_count": r.candidate_count,
                "verdict": r.verdict,
                "ratios": {
                    stat: {
                        "baseline": ratio.baseline,
                        "candidate": ratio.candidate,
                        "ratio": _or_null(ratio.ratio),
                        "low": _or_null(ratio.low),
                        "high": _or_null(ratio.high),
                    }
                    for stat, ratio in r.ratios.items()
                },
            }
            for r in c.rows
        ],
        "counter_diffs": [vars(d) for d in c.counter_diffs],
        "warnings": c.warnings,
        "notes": c.notes,
        "verdicts": {v: c.count(v) for v in VERDICTS},
        "exit_status": c.exit_status(),
        "outcome": c.outcome(),
    }
    if c.counted:  # only then: documents of times stay byte for byte
        doc["unit"] = c.unit
    if s.pairs:  # only then, as summary_rows
        doc["settings"]["pairs"] = [list(pair) for pair in s.pairs]
    if c.summary_rows:  # only then: older documents stay byte for byte
        doc["summary_rows"] = [
            {
                "backend": r.backend,
                "phase": r.phase,
                "baseline_runs": r.baseline_runs,
                "candidate_runs": r.candidate_runs,
                "ratios": {
                    stat: {
                        "baseline": ratio.baseline,
                        "candidate": ratio.candidate,
                        "ratio": _or_null(ratio.ratio),
                    }
                    for stat, ratio in r.ratios.items()
                },
            }
            for r in c.summary_rows
        ]
    return doc


# -- reading it back ----------------------------------------------------------


def is_comparison(data: Any) -> bool:
    """A document :func:`comparison_to_json` wrote, rather than a results
    or sweep file."""
    return (
        isinstance(data, dict)
        and "comparison_schema" in data
        and data.get("tool") == "ctbench"
    )


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


class EmptyComparison(CtbenchError):
    """A well-formed comparison without a row with samples: ``summary_rows``
    is what it holds instead (ovstest's summaries), if anything."""

    def __init__(self, where: str, summary_rows: Any) -> None:
        super().__init__(f"{where}: a comparison with no rows")
        self.where = where
        self.summary_rows = summary_rows


def _above_zero(value: Any) -> bool:
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
            _above_zero(settings.get(key)),
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
        raise EmptyComparison(where, data.get("summary_rows"))
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
                value is None or _above_zero(value),
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
