"""benchmark's report sections: ovstest's ``conntrack:`` line, the
throughput columns, packets per thread, whether the threads ran in parallel,
the locks each backend's threads took, and the connection limit's refusals
(:mod:`ctbench.scenarios.benchmark` runs it)."""

from __future__ import annotations

from typing import Final

from ctbench.backends import GLOBAL_LOCK, LOCK_OPTION, LOCK_SCOPES
from ctbench.model.shared import N_CONN_LOCKS
from ctbench.report.document import Column
from ctbench.report.numbers import fmt_rate, fmt_us, plural
from ctbench.report.sections import CommandSections, ExtraColumn, extra_value
from ctbench.results import RunResult
from ctbench.scenarios.benchmark import OVSTEST_TOTAL_PHASE, PHASE
from ctbench.scenarios.threaded import wall_times

# ovstest prints only the total time, so there is no ovstest estimator to set
# beside these statistics.
METHOD_NOTE: Final = (
    "Per-batch execute latency in microseconds. {stats} Throughput in "
    "packets per second over the barrier-to-barrier time. ovstest prints "
    "only that time."
)
# Beyond this many threads the per-thread packet counts are summarised.
MAX_LISTED_THREADS: Final = 8


# A run of counts: its throughput under callgrind is not shown.
COUNTED_NOTE: Final = "{unit}, one sample per batch's execute. {stats}"


def _method(run: RunResult) -> str:
    return COUNTED_NOTE if run.counted else METHOD_NOTE


def _conntrack_lines(run: RunResult) -> list[str]:
    """ovstest's output line, ``conntrack:  %5lld ms``, once per backend;
    a pooled file has one barrier-to-barrier time per run, each its line."""
    lines = []
    for result in run.results:
        wall_ms = result.extra.get("wall_ms")
        if isinstance(wall_ms, int | float):
            lines.append(f"{result.label}: conntrack:  {round(wall_ms):5d} ms")
        walls = wall_times(result)
        for i, ms in enumerate(walls if wall_ms is None else [], 1):
            lines.append(
                f"{result.label}: conntrack:  {round(ms):5d} ms  "
                f"(pooled run {i} of {len(walls)})"
            )
    return lines


def threads_note(run: RunResult) -> str:
    """Whether the threads ran in parallel, said plainly."""
    n = int(run.params.get("n_threads", 1) or 1)
    gil = bool(run.environment.get("gil_enabled", True))
    parallel = bool(run.params.get("parallel", not gil))
    count = run.environment.get("cpu_count")
    cpus = plural(count if isinstance(count, int) else None, "CPU")
    if n == 1:
        return (
            f"Threads: 1 thread, so nothing ran in parallel ({cpus}, "
            f"GIL {'enabled' if gil else 'disabled'})."
        )
    if not parallel:
        return (
            f"Threads: {n} threads ran concurrently but not in parallel: CPython's "
            "GIL lets one thread execute Python at a time, so together they used "
            f"{'the one CPU' if count == 1 else f'at most one of the {cpus}'}. "
            "A batch's latency includes the time "
            "it waited for the GIL and the model's lock."
        )
    return (
        f"Threads: {n} threads could run Python in parallel (GIL disabled, {cpus}"
        "): lookups take no lock, and creating or removing a connection takes "
        "the table's lock (below; OVS takes ct_lock). A batch's latency "
        "includes the time it waited for that lock."
    )


def locks_line(run: RunResult) -> str:
    """The locks each backend's threads took (ctbench.model.shared): its
    table's lock scope, recorded as its ``lock`` option (absent: ct_lock),
    and the model's conn->lock.  ovstest's own rows are left out."""
    named = []
    for result in run.results:
        if isinstance(result.extra.get("source"), dict):
            continue  # figures imported from ovstest, which has its own
        scope = str(result.options.get(LOCK_OPTION, GLOBAL_LOCK))
        lock = LOCK_SCOPES.get(scope, f"lock={scope}")
        if scope != GLOBAL_LOCK:
            lock += ", ct_lock briefly for the counts, limits and slots"
        named.append(f"{result.label}: {lock}")
    if not named:
        return ""
    return (
        f"Locks: {'; '.join(named)}; conn->lock: {N_CONN_LOCKS} striped "
        "locks by handle."
    )


def closing_notes(run: RunResult) -> list[str]:
    """A threaded run's last lines: whether its threads ran in parallel,
    and the locks they took."""
    locks = locks_line(run)
    return [threads_note(run)] + ([locks] if locks else [])


def conn_limit_text(run: RunResult) -> str:
    """The run's --conn-limit as a warning names it."""
    raw_limit = run.params.get("conn_limit")
    return f"{raw_limit:,}" if isinstance(raw_limit, int) else "unknown"


def _thread_counts(counts: list[int]) -> str:
    if len(counts) <= MAX_LISTED_THREADS:
        return " / ".join(f"{c:,}" for c in counts)
    return f"{min(counts):,} to {max(counts):,}"


def _summary(run: RunResult) -> list[str]:
    lines = []
    for result in run.results:
        extra = result.extra
        packets = extra.get("packets")
        walls = wall_times(result)
        if not isinstance(packets, int) or not walls:
            continue
        pps, per_thread = (
            extra_value("pps")(result),
            extra_value("pps_per_thread")(result),
        )
        counts = [int(c) for c in extra.get("thread_packets", [])]
        conns = int(extra.get("connections", 0))
        during, over = f"in {fmt_us(walls[0] * 1e3)}", ""
        if "wall_ms" not in extra:
            times = " + ".join(fmt_us(ms * 1e3) for ms in walls)
            during = f"in {len(walls)} pooled runs ({times} barrier to barrier)"
            over = " over their sum"
        lines.append(
            f"{result.label}: {plural(packets, 'packet')} {during}: "
            f"{fmt_rate(pps)} packets/s{over}, {fmt_rate(per_thread)} per thread "
            f"(packets per thread: {_thread_counts(counts)}); "
            f"{plural(conns, 'connection')} in the table"
        )
    return lines + closing_notes(run)


def _warnings(run: RunResult) -> list[str]:
    limit = conn_limit_text(run)
    out = []
    for result in run.results:
        phase = result.phases.get(PHASE)
        refused = phase.counters.get("refused", 0) if phase else 0
        if refused:
            out.append(
                f"WARNING: the connection limit ({limit}) refused "
                f"{plural(refused, 'commit')} on {result.label}; use --conn-limit 0 "
                "for no limit"
            )
    return out


SECTIONS: Final = CommandSections(
    phases={PHASE: "ct execute (batch)"},
    more_labels={OVSTEST_TOTAL_PHASE: "conntrack (ovstest's total)"},
    title_params=("n_threads", "n_pkts", "batch_size", "change_conn"),
    method=_method,
    lead=_conntrack_lines,
    extra_columns=(
        ExtraColumn(Column("pps", "pkts/s", "rate"), extra_value("pps")),
        ExtraColumn(
            Column("pps_per_thread", "pkts/s/thread", "rate"),
            extra_value("pps_per_thread"),
        ),
    ),
    summary=_summary,
    warnings=_warnings,
)
