"""create-rate's report sections: the creation rate per backend, each
thread's own, what the flusher or sweeper removed, the time waited for
its locks when it was timed, the locks themselves, and whether the threads
ran in parallel (:mod:`ctbench.scenarios.create_rate` runs it)."""

from __future__ import annotations

from typing import Final

from ctbench.backends import GLOBAL_LOCK, LOCK_OPTION
from ctbench.report.commands.benchmark import closing_notes, conn_limit_text
from ctbench.report.document import Column
from ctbench.report.numbers import fmt_rate, fmt_us, plural
from ctbench.report.sections import CommandSections, ExtraColumn, extra_value
from ctbench.results import BackendResult, RunResult
from ctbench.scenarios.create_rate import PHASE, SHARED
from ctbench.scenarios.threaded import wall_times

METHOD_NOTE: Final = (
    "Per-batch execute latency in microseconds; every packet of every batch "
    "is a new connection, so each takes its table's lock (ct_lock, or the "
    "finer lock the Locks line names). {stats} Creation rate: the "
    "connections all threads created over the barrier-to-barrier time, and "
    "that rate divided by the threads; each thread's own rate is its "
    "connections over its own time, first batch to last. ovstest has no "
    "such command."
)
# Beyond this many threads the per-thread figures are summarised.
MAX_LISTED_THREADS: Final = 8
# Each helper thread: what one of its passes is called, and what it does.
CLEANERS: Final = {
    "flusher": (
        "flush",
        "flushes",
        "flushing the workers' zones in turn, back to back",
    ),
    "sweeper": (
        "sweep pass",
        "sweep passes",
        "OVS's clean-thread passes back to back, every connection expired",
    ),
}


def _waited_for(result: BackendResult) -> str:
    """The locks a thread's timed waits were for: ct_lock, or the table's
    finer lock with ct_lock held briefly inside it (ctbench.model.shared)."""
    scope = str(result.options.get(LOCK_OPTION, GLOBAL_LOCK))
    if scope == GLOBAL_LOCK:
        return "ct_lock"
    return f"its {scope} locks and ct_lock"


def _method(run: RunResult) -> str:
    return METHOD_NOTE


def _listed(values: list[float], show: str = "{:,.0f}") -> str:
    """Each thread's figure, or their range past MAX_LISTED_THREADS."""
    if len(values) <= MAX_LISTED_THREADS:
        return " / ".join(show.format(v) for v in values)
    return f"{show.format(min(values))} to {show.format(max(values))}"


def _numbers(value: object) -> list[float]:
    if not isinstance(value, list):
        return []
    return [float(v) for v in value if isinstance(v, int | float)]


def _rate_lines(run: RunResult) -> list[str]:
    """A backend's creations and their rate, first: the command's figure."""
    lines = []
    for result in run.results:
        created, walls = result.extra.get("created"), wall_times(result)
        if not isinstance(created, int) or not walls:
            continue
        during, over = f"in {fmt_us(walls[0] * 1e3)} barrier to barrier", ""
        if "wall_ms" not in result.extra:
            times = " + ".join(fmt_us(ms * 1e3) for ms in walls)
            during = f"in {len(walls)} pooled runs ({times} barrier to barrier)"
            over = " over their sum"
        lines.append(
            f"{result.label}: {plural(created, 'connection')} created {during}: "
            f"{fmt_rate(extra_value('cps')(result))} per second{over}, "
            f"{fmt_rate(extra_value('cps_per_thread')(result))} per thread"
        )
    return lines


def _setup(run: RunResult) -> str:
    """The zones and the threads beside the workers, said once."""
    if run.params.get("zone_layout") == SHARED:
        zones = "every thread in zone 1"
    elif run.params.get("n_threads") == 1:
        zones = "the thread in zone 1"
    else:
        zones = "thread i in zone i + 1"
    beside = [
        f"a {name} ({what})"
        for name, (_, _, what) in CLEANERS.items()
        if run.params.get(name)
    ]
    if not beside:
        return f"Zones: {zones}; no flusher or sweeper."
    return f"Zones: {zones}; beside the workers, {' and '.join(beside)}."


def _per_ms(values: list[float], times_ms: list[float], scale: float) -> list[float]:
    """Each thread's value per millisecond of its own time, times ``scale``;
    [] when a file's lists do not pair up."""
    if len(values) != len(times_ms):
        return []
    return [
        scale * v / ms if ms > 0 else 0.0
        for v, ms in zip(values, times_ms, strict=True)
    ]


def _thread_lines(result: BackendResult) -> list[str]:
    extra = result.extra
    created = _numbers(extra.get("thread_created"))
    times_ms = _numbers(extra.get("thread_ms"))
    lines = []
    own = _per_ms(created, times_ms, 1e3)
    if own:
        lines.append(
            f"{result.label}: each thread's own rate: {_listed(own)} connections/s "
            f"(connections per thread: {_listed(created)}); "
            f"{plural(extra.get('connections'), 'connection')} in the table at the end"
        )
    for name, (one, many, _) in CLEANERS.items():
        removed = extra.get(f"{name}_removed")
        if isinstance(removed, int):
            lines.append(
                f"{result.label}: the {name} removed "
                f"{plural(removed, 'connection')} in "
                f"{plural(extra.get(f'{name}_passes'), one, many)}"
            )
    waits = _numbers(extra.get("thread_lock_wait_ms"))
    shares = _per_ms(waits, times_ms, 100)
    if shares:
        line = (
            f"{result.label}: waited for {_waited_for(result)}: "
            f"{_listed(waits, '{:,.1f}')} ms per thread "
            f"({_listed(shares, '{:.1f}%')} of its time)"
        )
        for name in CLEANERS:
            wait = extra.get(f"{name}_lock_wait_ms")
            if isinstance(wait, int | float):
                line += f"; the {name} {wait:,.1f} ms"
        lines.append(line)
    return lines


def _summary(run: RunResult) -> list[str]:
    lines = [_setup(run)]
    lines += [line for result in run.results for line in _thread_lines(result)]
    if run.params.get("lock_wait"):
        gil = bool(run.environment.get("gil_enabled", True))
        lines.append(
            "Waits for locks were timed (--lock-wait): two clock reads each "
            "time a thread took one, inside the rates above"
            + (
                "; under the GIL a wait includes the time the thread then "
                "waited for the GIL."
                if gil
                else "."
            )
        )
    return lines + closing_notes(run)


def _warnings(run: RunResult) -> list[str]:
    limit = conn_limit_text(run)
    out = []
    for result in run.results:
        refused = result.extra.get("refused")
        if isinstance(refused, int) and refused:
            out.append(
                f"WARNING: the connection limit ({limit}) refused "
                f"{plural(refused, 'new connection')} on {result.label}: the "
                "rates count only those created; use --conn-limit 0 for no limit"
            )
    return out


SECTIONS: Final = CommandSections(
    phases={PHASE: "ct execute (batch of new connections)"},
    title_params=("n_threads", "n_conns", "batch_size"),
    method=_method,
    lead=_rate_lines,
    extra_columns=(
        ExtraColumn(Column("cps", "conns/s", "rate"), extra_value("cps")),
        ExtraColumn(
            Column("cps_per_thread", "conns/s/thread", "rate"),
            extra_value("cps_per_thread"),
        ),
    ),
    summary=_summary,
    warnings=_warnings,
)
