"""What every format shares: phase names, the rows, numbers, the notes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from ctbench.results import BackendResult, RunResult
from ctbench.stats import PERCENTILE_METHOD_NOTE, Summary

PHASE_LABELS: Final = {
    "ct_execute_commit": "ct execute (commit)",
    "ct_execute_no_commit": "ct execute (no commit)",
    "flush_full_zone": "flush full zone",
    "flush_empty_zone": "flush empty zone",
    "ct_execute_batch": "ct execute (batch)",
}
# A phase whose median is within this factor of one clock read is flagged:
# the clock, not the code, dominates it (issue: harness overhead).
TIMER_FLAG_FACTOR: Final = 100

METHOD_NOTE: Final = (
    "Times in microseconds. Avg = arithmetic mean; 95%ile = "
    + PERCENTILE_METHOD_NOTE
    + ". ovstest's Avg is an EWMA (weight 0.01) and its 95%ile a P-square "
    "estimate: --ovs-stats adds them."
)


def phase_label(name: str) -> str:
    return PHASE_LABELS.get(name, name.replace("_", " "))


def row_label(result: BackendResult) -> str:
    return str(result.extra.get("display_label") or result.label)


def phase_names(run: RunResult) -> list[str]:
    """Phases in the report order, as they appear across the backends."""
    seen: list[str] = []
    for result in run.results:
        for name in result.phases:
            if name not in seen:
                seen.append(name)
    order = list(PHASE_LABELS)
    return sorted(seen, key=lambda n: order.index(n) if n in order else len(order))


@dataclass(frozen=True)
class Row:
    phase: str
    backend: BackendResult
    stats: Summary


def rows(run: RunResult) -> Iterator[Row]:
    for phase in phase_names(run):
        for result in run.results:
            p = result.phases.get(phase)
            stats = p.stats(run.ovs_stats) if p else None
            if stats is not None:
                yield Row(phase, result, stats)


def num(value: float | None) -> str:
    """Like the patch's tables: whole microseconds from 100 up, else 2 decimals."""
    if value is None:
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}"


def compare_means(run: RunResult) -> list[str]:
    """'flush empty zone: per-zone is 99.9% faster than single' lines, each
    backend against the first one, on arithmetic means."""
    if len(run.results) < 2:
        return []
    base = run.results[0]
    lines = []
    for phase in phase_names(run):
        bp = base.phases.get(phase)
        base_stats = bp.stats() if bp else None
        if base_stats is None or base_stats.mean <= 0:
            continue
        for other in run.results[1:]:
            op = other.phases.get(phase)
            stats = op.stats() if op else None
            if stats is None:
                continue
            change = (stats.mean - base_stats.mean) / base_stats.mean * 100
            word = "faster" if change < 0 else "slower"
            pct = percent(abs(change))
            lines.append(
                f"{phase_label(phase)}: {row_label(other)} is {pct}% "
                f"{word} than {row_label(base)}"
            )
    return lines


def percent(value: float) -> str:
    """One decimal, or as many as it takes (up to 4) not to round a change
    below 100% up to "100.0"."""
    for digits in range(1, 5):
        text = f"{value:.{digits}f}"
        if value >= 100 or float(text) < 100:
            return text
    return text


def timer_flags(run: RunResult) -> list[str]:
    overhead_ns = float(run.harness.get("timer_overhead_ns", 0) or 0)
    if not overhead_ns:
        return []
    limit_us = overhead_ns * TIMER_FLAG_FACTOR / 1e3
    return [
        f"{phase_label(r.phase)} on {row_label(r.backend)}: median "
        f"{r.stats.median:.2f} us is within {TIMER_FLAG_FACTOR}x of one clock read "
        f"({overhead_ns:.0f} ns); treat it as an upper bound"
        for r in rows(run)
        if r.stats.median < limit_us
    ]


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def fmt_us(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1e3:
        return f"{us / 1e3:.1f} ms"
    return f"{us:.0f} us"


def summary_lines(run: RunResult) -> list[str]:
    """The fill, memory and run summary, with warnings when the limit clipped
    the workload or the run was interrupted."""
    lines = []
    for result in run.results:
        fill = result.fill
        name = row_label(result)
        if run.command == "benchmark-zones":
            lines.append(
                f"{name}: packet generation {fmt_us(fill.generate_us)}, initial insert "
                f"{fmt_us(fill.insert_us)}; stored {fill.stored:,} of "
                f"{fill.requested:,} requested, {fill.refused:,} refused"
            )
        if result.memory.sample_conns:
            lines.append(
                f"{name}: memory {result.memory.bytes_per_conn:.0f} bytes per "
                f"connection, {fmt_bytes(result.memory.fixed_bytes)} fixed "
                f"(tracemalloc, {result.memory.sample_conns:,}-connection sample)"
            )
        wall = result.extra.get("wall_s")
        if isinstance(wall, int | float):
            untimed = result.extra.get("harness_untimed_us_per_round")
            harness = (
                f" (harness between timed sections: {untimed:.0f} us per round)"
                if isinstance(untimed, int | float) and untimed
                else ""
            )
            lines.append(f"{name}: total run time {wall:.2f} s{harness}")
    return lines


def warnings(run: RunResult) -> list[str]:
    out = []
    limit = run.params.get("conn_limit")
    for result in run.results:
        if result.fill.refused and run.command == "benchmark-zones":
            out.append(
                f"WARNING: the connection limit ({limit:,}) clipped the workload on "
                f"{row_label(result)}: {result.fill.refused:,} of "
                f"{result.fill.requested:,} commits were refused; "
                "use --conn-limit 0 for no limit"
            )
    if not run.complete:
        out.append(
            "WARNING: incomplete run (interrupted): statistics cover the samples "
            "gathered so far"
        )
    out.extend(f"NOTE: {flag}" for flag in timer_flags(run))
    return out


def title(run: RunResult) -> str:
    p = run.params
    if run.command == "benchmark-zones":
        args = f"{p.get('entries')} {p.get('zones')} {p.get('iterations')}"
    else:
        args = " ".join(
            str(p.get(k)) for k in ("n_threads", "n_pkts", "batch_size", "change_conn")
        )
    backends = ", ".join(row_label(r) for r in run.results)
    return f"ctbench {run.command} {args}  [{backends}]"
