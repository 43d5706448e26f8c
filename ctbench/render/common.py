"""What every format shares: phase names, the rows, numbers, the notes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from ctbench.compare import MeanChange, mean_change
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


# The benchmark command's note: ovstest prints only the total, so there is no
# ovstest estimator to set beside these statistics.
BENCHMARK_METHOD_NOTE: Final = (
    "Per-batch execute latency in microseconds. Avg = arithmetic mean; "
    "95%ile = " + PERCENTILE_METHOD_NOTE + ". Throughput in packets per second "
    "over the barrier-to-barrier time. ovstest prints only that time."
)
# Throughput columns of the benchmark command's rows, from each result's extra.
THROUGHPUT_COLUMNS: Final = ("pps", "pps_per_thread")
THROUGHPUT_LABELS: Final = {"pps": "pkts/s", "pps_per_thread": "pkts/s/thread"}
# Beyond this many threads the per-thread packet counts are summarised.
MAX_LISTED_THREADS: Final = 8


def method_note(run: RunResult) -> str:
    return BENCHMARK_METHOD_NOTE if run.command == "benchmark" else METHOD_NOTE


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


# The heading above compare_means()'s lines: what is compared, and how the
# intervals are made (ctbench.compare.mean_change).
COMPARE_MEANS_HEADING: Final = (
    "Comparing the averages (arithmetic means, 95% intervals):"
)


def compare_means(run: RunResult) -> list[str]:
    """'flush empty zone: per-zone is 99.9% faster than single (95% CI ...)'
    lines, each backend against the first one, on arithmetic means.

    The interval (:func:`ctbench.compare.mean_change`) covers the sampling
    noise within the run, so that a difference of a few percent is not read
    as real when the samples do not support it.  It cannot cover a drift of
    the machine between backends, which run one after the other.
    """
    if len(run.results) < 2:
        return []
    base = run.results[0]
    lines = []
    for phase in phase_names(run):
        bp = base.phases.get(phase)
        if bp is None:
            continue
        for other in run.results[1:]:
            op = other.phases.get(phase)
            if op is None:
                continue
            key = f"{row_label(base)}/{row_label(other)}/{phase}"
            change = mean_change(bp.samples_us, op.samples_us, key)
            if change is None:
                continue
            lines.append(
                f"{phase_label(phase)}: {row_label(other)} is "
                f"{_change_words(change.change)} {row_label(base)} "
                f"({_interval_words(change)})"
            )
    return lines


def _end_words(change: float) -> str:
    """'12.5% faster' / '3.0% slower' / '0%' (when the change rounds to 0)."""
    text = percent(abs(change))
    if not float(text):
        return "0%"
    return f"{text}% {'faster' if change < 0 else 'slower'}"


def _change_words(change: float) -> str:
    words = _end_words(change)
    return "as fast as" if words == "0%" else f"{words} than"


def _interval_words(change: MeanChange) -> str:
    if not change.has_interval:
        return f"no interval: {change.method}"
    low, high = percent(abs(change.low)), percent(abs(change.high))
    # Decided on the printed digits, so that an end shown as 0.0 never
    # appears in an interval called one-sided.
    if float(low) and float(high) and (change.low < 0) == (change.high < 0):
        near, far = sorted((low, high), key=float)
        word = "faster" if change.high < 0 else "slower"
        return f"95% CI {near}-{far}% {word}, {change.method}"
    return (
        f"95% CI {_end_words(change.low)} to {_end_words(change.high)}, "
        f"{change.method}: no clear difference"
    )


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


def throughput(result: BackendResult) -> list[float | None]:
    """The benchmark command's throughput figures, THROUGHPUT_COLUMNS order."""
    values: list[float | None] = []
    for key in THROUGHPUT_COLUMNS:
        value = result.extra.get(key)
        values.append(float(value) if isinstance(value, int | float) else None)
    return values


def fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def conntrack_lines(run: RunResult) -> list[str]:
    """ovstest's output line, ``conntrack:  %5lld ms``, once per backend."""
    if run.command != "benchmark":
        return []
    lines = []
    for result in run.results:
        wall_ms = result.extra.get("wall_ms")
        if isinstance(wall_ms, int | float):
            lines.append(f"{row_label(result)}: conntrack:  {round(wall_ms):5d} ms")
    return lines


def threads_note(run: RunResult) -> str:
    """Whether the threads ran in parallel, said plainly."""
    n = int(run.params.get("n_threads", 1) or 1)
    gil = bool(run.environment.get("gil_enabled", True))
    parallel = bool(run.params.get("parallel", not gil))
    cpus = run.environment.get("cpu_count", "?")
    if n == 1:
        return (
            f"Threads: 1 thread, so nothing ran in parallel ({cpus} CPUs, "
            f"GIL {'enabled' if gil else 'disabled'})."
        )
    if not parallel:
        return (
            f"Threads: {n} threads ran concurrently but not in parallel: CPython's "
            "GIL lets one thread execute Python at a time, so together they used "
            f"at most one of the {cpus} CPUs. A batch's latency includes the time "
            "it waited for the GIL and the model's lock."
        )
    return (
        f"Threads: {n} threads could run Python in parallel (GIL disabled, {cpus} "
        "CPUs): lookups take no lock, and creating or removing a connection takes "
        "the model's lock, as OVS takes ct_lock. A batch's latency includes the "
        "time it waited for that lock."
    )


def _thread_counts(counts: list[int]) -> str:
    if len(counts) <= MAX_LISTED_THREADS:
        return " / ".join(f"{c:,}" for c in counts)
    return f"{min(counts):,} to {max(counts):,}"


def _benchmark_lines(run: RunResult) -> list[str]:
    lines = []
    for result in run.results:
        extra = result.extra
        packets = extra.get("packets")
        wall_ms = extra.get("wall_ms")
        if not isinstance(packets, int) or not isinstance(wall_ms, int | float):
            continue
        pps, per_thread = throughput(result)
        counts = [int(c) for c in extra.get("thread_packets", [])]
        conns = int(extra.get("connections", 0))
        lines.append(
            f"{row_label(result)}: {packets:,} packets in {fmt_us(wall_ms * 1e3)}: "
            f"{fmt_rate(pps)} packets/s, {fmt_rate(per_thread)} per thread "
            f"(packets per thread: {_thread_counts(counts)}); "
            f"{conns:,} connection{'' if conns == 1 else 's'} in the table"
        )
    return lines + [threads_note(run)]


def summary_lines(run: RunResult) -> list[str]:
    """The fill, memory and run summary, with warnings when the limit clipped
    the workload or the run was interrupted."""
    if run.command == "benchmark":
        return _benchmark_lines(run)
    lines = []
    for result in run.results:
        fill = result.fill
        name = row_label(result)
        if run.command == "benchmark-zones":
            lines.append(
                f"{name}: packet generation {fmt_us(fill.generate_us)}, initial insert "
                f"{fmt_us(fill.insert_us)}; stored {fill.stored:,} of "
                f"{fill.requested:,} requested, {fill.refused:,} refused"
                + _repeats(fill.requested - fill.stored - fill.refused)
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


def _repeats(n: int) -> str:
    if n <= 0:
        return ""
    return (
        f", {n:,} repeated an earlier packet's connection (ovstest's port "
        "mapping turns port 0 into 65535, so i = 0 and i = 65535 share ports)"
    )


def warnings(run: RunResult) -> list[str]:
    out = []
    raw_limit = run.params.get("conn_limit")
    limit = f"{raw_limit:,}" if isinstance(raw_limit, int) else "unknown"
    for result in run.results:
        if result.fill.refused and run.command == "benchmark-zones":
            out.append(
                f"WARNING: the connection limit ({limit}) clipped the workload on "
                f"{row_label(result)}: {result.fill.refused:,} of "
                f"{result.fill.requested:,} commits were refused; "
                "use --conn-limit 0 for no limit"
            )
        batch_phase = result.phases.get("ct_execute_batch")
        refused = batch_phase.counters.get("refused", 0) if batch_phase else 0
        if refused and run.command == "benchmark":
            out.append(
                f"WARNING: the connection limit ({limit}) refused {refused:,} "
                f"commits on {row_label(result)}; use --conn-limit 0 for no limit"
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
