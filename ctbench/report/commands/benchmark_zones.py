"""benchmark-zones' report sections: its phases, title, method note, the
fill, memory and run time of each backend, and the connection limit's
clipping (:mod:`ctbench.scenarios.benchmark_zones` runs it)."""

from __future__ import annotations

from typing import Any, Final

from ctbench.report.numbers import fmt_bytes, fmt_us, plural
from ctbench.report.sections import CommandSections
from ctbench.results import RunResult, pooled_runs
from ctbench.scenarios.benchmark_zones import PHASE_ORDER, PHASES

METHOD_NOTE: Final = (
    "{unit}. {stats} ovstest's Avg is an EWMA (weight 0.01) "
    "and its 95%ile a P-square estimate: --ovs-stats adds them as {ovs}."
)


def _method(run: RunResult) -> str:
    return METHOD_NOTE


def _summary(run: RunResult) -> list[str]:
    """The fill, memory and run time of each backend."""
    lines = []
    for result in run.results:
        # A pooled file's once-a-run figures are means, its run time the sum.
        runs = pooled_runs(run, result)
        mean = f"; mean of {runs} pooled runs" if runs > 1 else ""
        fill, name = result.fill, result.label
        if fill.requested:
            lines.append(_fill_line(name, fill, runs))
        if result.memory.sample_conns:
            lines.append(
                f"{name}: memory {result.memory.bytes_per_conn:.0f} bytes per "
                f"connection, {fmt_bytes(result.memory.fixed_bytes)} fixed "
                f"(tracemalloc, {result.memory.sample_conns:,}-connection sample"
                f"{mean})"
            )
        wall = result.extra.get("wall_s")
        if isinstance(wall, int | float):
            untimed = result.extra.get("harness_untimed_us_per_round")
            harness = (
                f" (harness between timed sections: {untimed:.0f} us per round)"
                if isinstance(untimed, int | float) and untimed
                else ""
            )
            over = f" over {runs} pooled runs" if runs > 1 else ""
            lines.append(f"{name}: total run time {wall:.2f} s{over}{harness}")
    return lines


def _fill_line(name: str, fill: Any, runs: int = 1) -> str:
    attempted = fill.requested if fill.attempted is None else fill.attempted
    repeats = attempted - fill.stored - fill.refused
    mean = f" (means of {runs} pooled runs)" if runs > 1 else ""
    line = (
        f"{name}: packet generation {fmt_us(fill.generate_us)}, initial insert "
        f"{fmt_us(fill.insert_us)}{mean}; stored {fill.stored:,} of "
        f"{fill.requested:,} requested, {fill.refused:,} refused"
    )
    if repeats > 0:
        line += (
            f", {repeats:,} repeated an earlier packet's connection (ovstest's port "
            "mapping turns port 0 into 65535, so i = 0 and i = 65535 share ports)"
        )
    if attempted < fill.requested:
        line += f", {fill.requested - attempted:,} never attempted (interrupted)"
    return line


def _warnings(run: RunResult) -> list[str]:
    raw_limit = run.params.get("conn_limit")
    limit = f"{raw_limit:,}" if isinstance(raw_limit, int) else "unknown"
    return [
        f"WARNING: the connection limit ({limit}) clipped the workload on "
        f"{result.label}: {result.fill.refused:,} of "
        f"{plural(result.fill.requested, 'commit')} "
        f"{'was' if result.fill.refused == 1 else 'were'} refused; use "
        "--conn-limit 0 for no limit"
        for result in run.results
        if result.fill.refused
    ]


SECTIONS: Final = CommandSections(
    phases={
        name: next(p.label for p in PHASES if p.name == name) for name in PHASE_ORDER
    },
    title_params=("entries", "zones", "iterations"),
    method=_method,
    summary=_summary,
    warnings=_warnings,
)
