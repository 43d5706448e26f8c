"""A comparison as JSON, for machines (its own document, versioned)."""

from __future__ import annotations

import json
import math
from typing import Any, Final

from ctbench.compare import CONFIDENCE, VERDICTS, Comparison
from ctbench.render.comparison.format import ComparisonFormat
from ctbench.report.comparison import ComparisonReport

# The JSON comparison document's own version (it is not a results file).
# History: 1, first version; "summary_rows" (ovstest's summaries: ratios,
# no interval, no verdict) added without a bump, present only when there are
# such rows: documents without them are unchanged; likewise
# "settings.pairs" (compare --pair), present only when pairs were asked for.
COMPARISON_SCHEMA: Final = 1


def _finite(value: float) -> float | None:
    """JSON has no NaN: an undefined ratio or interval is null."""
    return value if math.isfinite(value) else None


def to_json_dict(c: Comparison) -> dict[str, Any]:
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
            "method": "percentile bootstrap (Efron & Tibshirani 1993, ch. 13)",
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
                        "ratio": _finite(ratio.ratio),
                        "low": _finite(ratio.low),
                        "high": _finite(ratio.high),
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
                        "ratio": _finite(ratio.ratio),
                    }
                    for stat, ratio in r.ratios.items()
                },
            }
            for r in c.summary_rows
        ]
    return doc


def render(r: ComparisonReport) -> str:
    return json.dumps(to_json_dict(r.comparison), separators=(",", ":")) + "\n"


FORMAT = ComparisonFormat("json", render, "JSON, for machines")
