"""What a report says about ovstest's rows: where each came from, what its
statistics are, and how ctbench's figures compare with them, like with like
(:mod:`ctbench.report.ovstest_figures`)."""

from __future__ import annotations

import statistics
from typing import Final

from ctbench.ovstest.records import CONNTRACK_PHASE
from ctbench.report.numbers import fmt_bytes, fmt_us, num
from ctbench.report.ovstest_figures import (
    LikeRatio,
    is_ovstest,
    like_with_like,
    source_of,
)
from ctbench.report.sections import CommandSections
from ctbench.results import INTERRUPTED, BackendResult, RunResult

# The method note's addition when a run holds ovstest's figures; {ovs} and
# the like are filled in as the layout calls the columns.
SUMMARY_ONLY_NOTE: Final = (
    " Rows of ovstest's figures (ovstest:LABEL, or imported) have no samples: "
    "Min and Max are exact, its 95%ile (a P-square estimate) is in {ovs_p95} "
    "and its Avg (an EWMA, weight 0.01, not a mean) in {ovs_ewma}; they have "
    "no mean, median, exact percentile or interval."
)
LIKE_HEADING: Final = (
    "ctbench against ovstest, like with like (ctbench / ovstest, no interval: "
    "ovstest prints a summary, not samples):"
)


def has_summary_only(run: RunResult) -> bool:
    return any(p.summary is not None for r in run.results for p in r.phases.values())


def _printed(source: dict[str, object]) -> str:
    printed = source.get("printed_ms")
    if not isinstance(printed, dict) or not printed:
        return ""
    said = ", ".join(f"{name} {ms} ms" for name, ms in printed.items())
    return f"; ovstest printed: {said}"


def source_line(result: BackendResult) -> str:
    """Where one ovstest backend's figures come from, in one line."""
    source = source_of(result)
    if "argv" in source:
        parts = []
        wall, rss = source.get("wall_s"), source.get("peak_rss_bytes")
        if isinstance(wall, int | float):
            parts.append(f"wall {wall:.2f} s")
        if isinstance(rss, int) and source.get("peak_rss_exact", True):
            parts.append(f"peak RSS {fmt_bytes(rss)}")
        elif isinstance(rss, int):
            parts.append(
                f"peak RSS at most {fmt_bytes(rss)} (no more than the measuring "
                "helper's own)"
            )
        if "exit_status" in source:
            parts.append(f"exit status {source['exit_status']}")
        argv = source.get("argv")
        command = " ".join(map(str, argv)) if isinstance(argv, list) else "?"
        figures = f": {', '.join(parts)}" if parts else ""
        return f"{result.label}: ran {command}{figures}{_printed(source)}"
    origin = source.get("imported_from", "?")
    line = f" line {source['line']}" if "line" in source else ""
    row = f", the row '{source['row']}'" if "row" in source else ""
    return f"{result.label}: ovstest's figures imported from {origin}{line}{row}" + (
        _printed(source)
    )


def _source_lines(ovstest: list[BackendResult]) -> list[str]:
    """A line per backend, but one per binary run several times
    (--ovstest-repeat), with the ranges of its figures."""
    lines = []
    groups: dict[str, list[BackendResult]] = {}
    for result in ovstest:
        source = source_of(result)
        if isinstance(source.get("runs"), int) and source["runs"] > 1:
            groups.setdefault(str(source.get("group")), []).append(result)
        else:
            lines.append(source_line(result))
    for group, results in groups.items():
        lines.append(_repeats_line(group, results))
    return lines


def _repeats_line(group: str, results: list[BackendResult]) -> str:
    sources = [source_of(r) for r in results]
    argv = sources[0].get("argv")
    command = " ".join(map(str, argv)) if isinstance(argv, list) else "?"
    times = "once" if len(results) == 1 else f"{len(results):,} times"
    parts = [f"{group}: ran {command} {times}"]
    walls = [s["wall_s"] for s in sources if isinstance(s.get("wall_s"), int | float)]
    if walls:
        parts.append(
            f"wall {min(walls):.2f}-{max(walls):.2f} s "
            f"(median {statistics.median(walls):.2f})"
        )
    rss = [
        s["peak_rss_bytes"] for s in sources if isinstance(s.get("peak_rss_bytes"), int)
    ]
    if rss:
        bound = (
            "" if all(s.get("peak_rss_exact", True) for s in sources) else "at most "
        )
        parts.append(f"peak RSS {bound}{fmt_bytes(min(rss))}-{fmt_bytes(max(rss))}")
    statuses = sorted({s["exit_status"] for s in sources if "exit_status" in s})
    if statuses:
        parts.append(f"exit status {', '.join(map(str, statuses))}")
    return ", ".join(parts)


def _words(r: LikeRatio, sections: CommandSections) -> str:
    times = f" (median of {r.runs} runs)" if r.runs > 1 else ""
    ratio = "n/a (ovstest's figure is 0)" if r.ratio is None else f"{r.ratio:.2f}x"
    if r.phase == CONNTRACK_PHASE:  # a whole run's time, in ms as ovstest says
        ours, theirs = fmt_us(r.ctbench_value), fmt_us(r.ovstest_value)
    else:
        ours, theirs = f"{num(r.ctbench_value)} us", f"{num(r.ovstest_value)} us"
    return (
        f"{sections.phase_label(r.phase)}: {r.ctbench} {r.ctbench_stat} "
        f"{ours} / {r.ovstest} {r.ovstest_stat} {theirs}{times} = {ratio}"
    )


def ovstest_summary(run: RunResult, sections: CommandSections) -> list[str]:
    """Source lines, then the like-with-like ratios, for a run's ovstest rows."""
    lines = _source_lines([r for r in run.results if is_ovstest(r)])
    # A failure has its line among the report's failures; an interrupted
    # binary was killed, and says so here.
    lines += [
        f"{r.label}: INTERRUPTED: {r.error}"
        for r in run.results
        if is_ovstest(r) and r.status == INTERRUPTED and r.error
    ]
    ratios = like_with_like(run)
    if ratios:
        lines += [LIKE_HEADING, *(f"  {_words(r, sections)}" for r in ratios)]
    return lines
