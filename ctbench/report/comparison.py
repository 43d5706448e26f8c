"""A comparison's report, built once: what every comparison format lays out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from ctbench import registry
from ctbench.compare import BOOTSTRAP_NOTE, STATS, Comparison, Ratio, Row, SummaryRow
from ctbench.report.numbers import fmt_count, num
from ctbench.units import unit_of


@dataclass(frozen=True)
class ComparisonReport:
    title: str
    outcome: str  # what the exit status means and why, one line
    method: tuple[str, ...]
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # cells, as printed
    counters: tuple[str, ...]  # the first line says whether they differ
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    comparison: Comparison  # what it was built from: --format json writes it
    # Rows with only ovstest's summaries on a side: ratios, no interval.
    summary_headers: tuple[str, ...] = ()
    summary_rows: tuple[tuple[str, ...], ...] = ()


# A summary row's statistics and their headers, naming the estimators.
SUMMARY_COLUMNS: Final = (
    ("min", "Min ratio"),
    ("ovs_ewma", "Avg (EWMA) ratio"),
    ("ovs_p95", "95%ile (P-square) ratio"),
)
SUMMARY_HEADING: Final = (
    "Summary-only rows (ovstest's figures, no samples: ratios without an "
    "interval, no verdict):"
)


def _ratio(r: Ratio, counted: bool = False) -> str:
    if math.isnan(r.ratio):
        return "n/a (baseline 0)"
    if counted:  # exact: four digits, since a count's threshold is 1%
        return f"{r.ratio:.4f}"
    if math.isnan(r.low):
        return f"{r.ratio:.3f} (no interval)"
    return f"{r.ratio:.3f} [{r.low:.3f}, {r.high:.3f}]"


def _summary_cells(row: SummaryRow, phase_label: str) -> tuple[str, ...]:
    base = row.ratios.get("min")
    return (
        phase_label,
        row.backend,
        f"{row.baseline_runs}/{row.candidate_runs}",
        num(base.baseline if base else None),
        num(base.candidate if base else None),
        *(
            _ratio(row.ratios[key]) if key in row.ratios else "-"
            for key, _ in SUMMARY_COLUMNS
        ),
    )


def _cells(c: Comparison, row: Row, phase_label: str) -> tuple[str, ...]:
    chosen = row.ratios[c.settings.stat]
    value = fmt_count if c.counted else num
    return (
        phase_label,
        row.backend,
        f"{row.baseline_count}/{row.candidate_count}",
        value(chosen.baseline),
        value(chosen.candidate),
        *(_ratio(row.ratios[s], c.counted) for s in STATS),
        row.verdict,
    )


def _method(c: Comparison) -> tuple[str, ...]:
    s = c.settings
    if c.counted:
        noun = unit_of(c.unit).noun
        return (
            f"Ratios are candidate / baseline (below 1 is fewer); {noun}, "
            "counted by callgrind: the same work counts the same, so no "
            "bootstrap and no interval, the ratio is the change.",
            f"Verdict on the {s.stat} (*) with the count threshold "
            f"{s.threshold:.1%} (--count-threshold): slower above {s.upper:.4f}, "
            f"faster below {s.lower:.4f} (1/(1+threshold)), unchanged between.",
        )
    return (
        "Ratios are candidate / baseline (below 1 is faster); times in "
        f"microseconds. {BOOTSTRAP_NOTE}, {s.resamples:,} resamples, seed {s.seed}.",
        f"Verdict on the {s.stat} (*) with threshold {s.threshold:.1%}: slower "
        f"when the whole interval is above {s.upper:.3f}, faster when below "
        f"{s.lower:.3f} (1/(1+threshold)), unchanged when inside "
        f"[{s.lower:.3f}, {s.upper:.3f}], inconclusive when it straddles an edge.",
    )


def _counters(c: Comparison, phase_label: dict[str, str]) -> tuple[str, ...]:
    if not c.counter_diffs and not c.rows:
        return ("Work counters: none compared (ovstest prints none).",)
    if not c.counter_diffs:
        return ("Work counters: identical.",)
    head = "Work counters differ"
    if c.settings.counters_must_match:
        head += " (--counters-must-match: this fails the comparison)"
    lines = [head + ":"]
    for d in c.counter_diffs:
        base = "-" if d.baseline is None else f"{d.baseline:,}"
        cand = "-" if d.candidate is None else f"{d.candidate:,}"
        label = phase_label.get(d.phase, d.phase)
        lines.append(f"{d.backend} {label} {d.counter}: {base} -> {cand}")
    return tuple(lines)


def build_comparison_report(c: Comparison) -> ComparisonReport:
    sections = registry.sections(c.command)
    phases = {r.phase for r in c.rows} | {r.phase for r in c.summary_rows}
    labels = {
        phase: sections.phase_label(phase)
        for phase in phases | {d.phase for d in c.counter_diffs}
    }
    labels["fill"] = "fill"
    stat = c.settings.stat
    headers: tuple[str, ...] = (
        "phase",
        "backend",
        "n (base/cand)",
        f"base {stat}",
        f"cand {stat}",
        *(
            f"{s}{'*' if s == stat else ''} ratio{'' if c.counted else ' [95% CI]'}"
            for s in STATS
        ),
    )
    return ComparisonReport(
        title=(
            f"ctbench compare ({c.command}): {c.baseline_name} (baseline) -> "
            f"{c.candidate_name} (candidate)"
        ),
        outcome=c.outcome(),
        method=_method(c),
        headers=(*headers, "verdict"),
        rows=tuple(_cells(c, r, labels[r.phase]) for r in c.rows),
        counters=_counters(c, labels),
        notes=tuple(c.notes),
        warnings=tuple(c.warnings),
        comparison=c,
        summary_headers=(
            "phase",
            "backend",
            "runs (base/cand)",
            "base Min",
            "cand Min",
            *(head for _, head in SUMMARY_COLUMNS),
        )
        if c.summary_rows
        else (),
        summary_rows=tuple(_summary_cells(r, labels[r.phase]) for r in c.summary_rows),
    )
