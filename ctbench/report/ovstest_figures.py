"""What a report says of ovstest's rows, asked once (:func:`ovstest_figures`):
where each came from, what its statistics are, and ctbench's figures
beside ovstest's, like with like.

docs/ovs-reference.md ("Measuring against ovstest"): ovstest's Avg is an EWMA seeded by
the first sample, far from a mean over a short run, so ctbench's minimum is
set against ovstest's Min, and ctbench's own EWMA (``--ovs-stats``)
against ovstest's Avg; never ctbench's mean against ovstest's Avg.  For
``benchmark``, ovstest prints only its barrier-to-barrier time, set against
ctbench's.

A ratio is ctbench / ovstest: 2.0 means ctbench's model took twice as long
as the C code.  There is no interval: ovstest gives a summary, not samples.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Final

from ctbench.ovstest.records import CONNTRACK_PHASE
from ctbench.report.numbers import fmt_bytes, fmt_us, num
from ctbench.report.sections import CommandSections
from ctbench.results import COMPLETE, INTERRUPTED, BackendResult, RunResult

# Which of ctbench's statistics faces which of ovstest's, and its words.
PAIRS: Final = (
    ("min", "min", "min", "Min"),
    ("ovs_ewma", "ovs_ewma", "EWMA", "Avg (EWMA)"),
)


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


@dataclass(frozen=True)
class OvstestFigures:
    """What a report says of a run's ovstest rows."""

    # Rows of ovstest's figures, without samples: the report shows
    # ovstest's estimator columns and adds ``method_note``.
    summary_only: bool
    method_note: str
    # Source lines, then the like-with-like ratios, for the summary.
    lines: tuple[str, ...]

    @staticmethod
    def is_ovstest(result: BackendResult) -> bool:
        """A row of ovstest's figures: no samples, so no mean to compare."""
        return is_ovstest(result)


def ovstest_figures(run: RunResult, sections: CommandSections) -> OvstestFigures:
    summary_only = has_summary_only(run)
    return OvstestFigures(
        summary_only=summary_only,
        method_note=SUMMARY_ONLY_NOTE if summary_only else "",
        lines=tuple(ovstest_summary(run, sections)),
    )


def source_of(result: BackendResult) -> dict[str, Any]:
    """Where an ovstest backend's figures come from; {} for ctbench's."""
    source = result.extra.get("source")
    return source if isinstance(source, dict) else {}


def is_ovstest(result: BackendResult) -> bool:
    return source_of(result).get("tool") == "ovstest"


@dataclass(frozen=True)
class LikeRatio:
    phase: str
    ctbench: str  # ctbench's backend label
    ovstest: str  # the ovstest backends' label, without a repeat's number
    runs: int  # ovstest runs the figure is the median of (1: the figure)
    ctbench_stat: str
    ovstest_stat: str
    ctbench_value: float
    ovstest_value: float

    @property
    def ratio(self) -> float | None:
        if self.ovstest_value > 0:
            return self.ctbench_value / self.ovstest_value
        return None


def _groups(run: RunResult) -> dict[str, tuple[str, list[BackendResult]]]:
    """Complete ovstest backends by the ctbench label they face, with the
    label they are shown under.  In a report of several files every label
    carries its file's name ("a.json:ovstest:single" faces "a.json:single")."""
    out: dict[str, tuple[str, list[BackendResult]]] = {}
    for result in run.results:
        source = source_of(result)
        label, group = source.get("label"), source.get("group")
        if not (is_ovstest(result) and result.status == COMPLETE):
            continue
        if not isinstance(label, str) or not isinstance(group, str):
            continue
        at = result.label.rfind(group)
        prefix = result.label[:at] if at >= 0 else ""
        shown, runs = out.setdefault(prefix + label, (prefix + group, []))
        runs.append(result)
    return out


def like_with_like(run: RunResult) -> list[LikeRatio]:
    """A ratio per phase (and per pair of statistics) between each ctbench
    backend and the ovstest binary run with its label."""
    own = {
        r.label: r for r in run.results if not is_ovstest(r) and r.status == COMPLETE
    }
    out = []
    for label, (group, runs) in _groups(run).items():
        mine = own.get(label)
        if mine is None:
            continue
        if run.command == "benchmark":
            out += _threads(mine, runs, label, group)
            continue
        for phase, mine_phase in mine.phases.items():
            figures = [r.phases[phase].summary for r in runs if phase in r.phases]
            ours = mine_phase.stats(True)
            if ours is None or not figures:
                continue
            for our_key, their_key, our_name, their_name in PAIRS:
                if our_key == "ovs_ewma" and not run.ovs_stats:
                    continue
                value = getattr(ours, our_key)
                theirs = [getattr(f, their_key) for f in figures if f is not None]
                theirs = [t for t in theirs if t is not None]
                if value is None or not theirs:
                    continue
                out.append(
                    LikeRatio(
                        phase,
                        label,
                        group,
                        len(theirs),
                        our_name,
                        their_name,
                        float(value),
                        float(statistics.median(theirs)),
                    )
                )
    return out


def _threads(
    mine: BackendResult, runs: list[BackendResult], label: str, group: str
) -> list[LikeRatio]:
    ours = mine.extra.get("wall_ms")
    theirs = [r.extra.get("wall_ms") for r in runs]
    times = [float(t) for t in theirs if isinstance(t, int | float)]
    if not isinstance(ours, int | float) or not times:
        return []
    return [
        LikeRatio(
            CONNTRACK_PHASE,
            label,
            group,
            len(times),
            "conntrack time",
            "conntrack time",
            float(ours) * 1e3,
            statistics.median(times) * 1e3,
        )
    ]


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
