"""A comparison of two runs as a terminal table, Markdown (for a CI job
summary) or JSON (for machines).  Each function returns a string."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, Final

from tabulate import tabulate

from ctbench.compare import (
    BOOTSTRAP_NOTE,
    CONFIDENCE,
    STATS,
    VERDICTS,
    Comparison,
    Ratio,
    Row,
)
from ctbench.render.common import num, phase_label

# The JSON comparison document's own version (it is not a results file).
# History: 1, first version.
COMPARISON_SCHEMA: Final = 1


def _ratio(r: Ratio) -> str:
    if math.isnan(r.ratio):
        return "n/a (baseline 0)"
    return f"{r.ratio:.3f} [{r.low:.3f}, {r.high:.3f}]"


def _headers(c: Comparison) -> list[str]:
    stat = c.settings.stat
    cols = ["phase", "backend", "n (base/cand)", f"base {stat}", f"cand {stat}"]
    cols += [f"{s}{'*' if s == stat else ''} ratio [95% CI]" for s in STATS]
    return cols + ["verdict"]


def _cells(c: Comparison, row: Row) -> list[str]:
    chosen = row.ratios[c.settings.stat]
    return [
        phase_label(row.phase),
        row.backend,
        f"{row.baseline_count}/{row.candidate_count}",
        num(chosen.baseline),
        num(chosen.candidate),
        *(_ratio(row.ratios[s]) for s in STATS),
        row.verdict,
    ]


def method_lines(c: Comparison) -> list[str]:
    s = c.settings
    return [
        "Ratios are candidate / baseline (below 1 is faster); times in "
        f"microseconds. {BOOTSTRAP_NOTE}, {s.resamples:,} resamples, seed {s.seed}.",
        f"Verdict on the {s.stat} (*) with threshold {s.threshold:.1%}: slower "
        f"when the whole interval is above {s.upper:.3f}, faster when below "
        f"{s.lower:.3f} (1/(1+threshold)), unchanged when inside "
        f"[{s.lower:.3f}, {s.upper:.3f}], inconclusive when it straddles an edge.",
    ]


def counter_lines(c: Comparison) -> list[str]:
    if not c.counter_diffs:
        return ["Work counters: identical."]
    head = "Work counters differ"
    if c.settings.counters_must_match:
        head += " (--counters-must-match: this fails the comparison)"
    lines = [head + ":"]
    for d in c.counter_diffs:
        base = "-" if d.baseline is None else f"{d.baseline:,}"
        cand = "-" if d.candidate is None else f"{d.candidate:,}"
        lines.append(
            f"{d.backend} {phase_label(d.phase)} {d.counter}: {base} -> {cand}"
        )
    return lines


def _title(c: Comparison) -> str:
    return (
        f"ctbench compare ({c.command}): {c.baseline_name} (baseline) -> "
        f"{c.candidate_name} (candidate)"
    )


def table(c: Comparison) -> str:
    body = tabulate(
        [_cells(c, r) for r in c.rows],
        headers=_headers(c),
        tablefmt="simple",
        disable_numparse=True,
        colalign=("left", "left") + ("right",) * (len(_headers(c)) - 3) + ("left",),
    )
    counters = counter_lines(c)
    lines = [_title(c), *method_lines(c), "", body, "", counters[0]]
    lines += [f"  {line}" for line in counters[1:]]
    lines += [f"NOTE: {n}" for n in c.notes]
    lines += [f"WARNING: {w}" for w in c.warnings]
    lines += ["", c.outcome()]
    return "\n".join(lines) + "\n"


def markdown(c: Comparison) -> str:
    body = tabulate(
        [_cells(c, r) for r in c.rows],
        headers=_headers(c),
        tablefmt="github",
        disable_numparse=True,
    )
    counters = counter_lines(c)
    lines = [f"### {_title(c)}", "", f"**{c.outcome()}**", ""]
    lines += [f"> **Warning:** {w}" for w in c.warnings]
    if c.warnings:
        lines.append("")
    lines += [body, "", *method_lines(c), "", counters[0]]
    if counters[1:]:
        lines += [""] + [f"- {line}" for line in counters[1:]]
    if c.notes:
        lines += [""] + [f"- Note: {n}" for n in c.notes]
    return "\n".join(lines) + "\n"


def _finite(value: float) -> float | None:
    """JSON has no NaN: an undefined ratio is null."""
    return value if math.isfinite(value) else None


def to_json_dict(c: Comparison) -> dict[str, Any]:
    s = c.settings
    return {
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


def json_document(c: Comparison) -> str:
    return json.dumps(to_json_dict(c), separators=(",", ":")) + "\n"


FORMATS: Final[dict[str, Callable[[Comparison], str]]] = {
    "table": table,
    "markdown": markdown,
    "json": json_document,
}


def render(c: Comparison, fmt: str) -> str:
    return FORMATS[fmt](c)
