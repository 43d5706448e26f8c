"""ovstest's figures as ctbench results: summary-only backends.

ovstest prints a summary, not samples, so each of its phases becomes a
summary-only phase (:attr:`ctbench.results.PhaseResult.summary`): Min and
Max exact, 95%ile its P-square estimate, Avg its EWMA (lib/stopwatch.c; see
:mod:`ctbench.stats`).  Each backend says where its figures come from in
``extra["source"]``, with ``"tool": "ovstest"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from ctbench import __version__
from ctbench.errors import CtbenchError
from ctbench.model import DEFAULT_CONN_LIMIT
from ctbench.ovstest.parse import ARG_COUNTS, THREADS, ZONES, Build, Output
from ctbench.report.numbers import plural
from ctbench.results import BackendResult, Fill, PhaseResult, RunResult
from ctbench.results import distinct_labels as numbered
from ctbench.scenarios import benchmark, benchmark_zones
from ctbench.scenarios.harness import ConfigError
from ctbench.stats import Summary

TOOL: Final = "ovstest"
BACKEND: Final = "ovstest"
# docs/ovs-reference.md ("The patch and its review"): the patch's table puts
# two builds side by side, "with commit" = the per-zone maps (the patch
# applied), "without commit" = the single map (before it).
PATCH_BUILDS: Final = {"with commit": "per-zone", "without commit": "single"}
# What ovstest's statistics are (lib/stopwatch.c), recorded in every file
# that holds them.
ESTIMATORS: Final = {
    "Min": "exact minimum",
    "Max": "exact maximum",
    "95%ile": "P-square estimate (Jain & Chlamtac 1985) from 50 samples on; "
    "the sorted sample at int(0.95 n) before; 0 for 5 samples or fewer",
    "Avg": "EWMA with weight 0.01 per new sample, seeded by the first sample "
    "(not the arithmetic mean)",
}
# benchmark's phase in an ovstest result: its one printed time, "conntrack:
# N ms" (barrier to barrier), as a phase of one sample's Min and Max.
CONNTRACK_PHASE: Final = benchmark.OVSTEST_TOTAL_PHASE
# ovstest's "... time: N ms" lines that are the fill's (test-conntrack.c).
GENERATE_LINE: Final = "initial packet generation time"
INSERT_LINE: Final = "initial insert time"
# What ovstest fixes that ctbench's options vary (docs/ovs-reference.md: one packet per
# execute, the default table limit of 3,000,000, no warm-up).
OVSTEST_ZONE_PARAMS: Final = {
    "batch_size": 1,
    "conn_limit": DEFAULT_CONN_LIMIT,
    "warmup": 0,
}
ARG_NAMES: Final = {
    ZONES: ("entries", "zones", "iterations"),
    THREADS: ("n_threads", "n_pkts", "batch_size", "change_conn"),
}
# ovstest's arguments are checked as ctbench's commands check theirs: the
# page docs/ovs-reference.md gives ovstest's own bounds, which the commands apply.
_CHECK_PARAMS: Final = {
    ZONES: benchmark_zones.check_params,
    THREADS: benchmark.check_params,
}


class OvstestImportError(CtbenchError, ValueError):
    """ovstest output that does not make one run."""


def params_for(command: str, args: Sequence[int]) -> dict[str, Any]:
    """The run's parameters from ovstest's arguments."""
    named = dict(zip(ARG_NAMES[command], args, strict=False))
    if command == ZONES:
        return {**named, **OVSTEST_ZONE_PARAMS}
    named.setdefault("change_conn", 0)
    return named


def parse_args(command: str, text: str) -> tuple[int, ...]:
    """``--args "10000 1000 100"``: as many whole numbers as the command takes."""
    words = text.split()
    if not all(w.isascii() and w.isdigit() for w in words) or (
        len(words) not in ARG_COUNTS[command]
    ):
        counts = " or ".join(map(str, ARG_COUNTS[command]))
        names = " ".join(n.upper() for n in ARG_NAMES[command])
        raise OvstestImportError(
            f"--args for {command} must be {counts} whole numbers ({names}); "
            f"got {text!r}"
        )
    return tuple(int(w) for w in words)


def zone_result(
    build: Build,
    label: str,
    output: Output,
    iterations: int | None,
    source: dict[str, Any],
) -> BackendResult:
    """A benchmark-zones build's row as a summary-only backend."""
    phases = {
        name: PhaseResult(
            summary=Summary.from_ovstest(f.min, f.max, f.p95, f.avg, iterations)
        )
        for name, f in build.phases
    }
    times = dict(output.times_ms)
    fill = Fill(
        generate_us=float(times.get(GENERATE_LINE, 0)) * 1e3,
        insert_us=float(times.get(INSERT_LINE, 0)) * 1e3,
    )
    printed = {"printed_ms": times} if times else {}
    row = {"row": build.row} if build.row is not None else {}
    return BackendResult(
        backend=BACKEND,
        label=label,
        fill=fill,
        phases=phases,
        extra={"source": {"tool": TOOL, **row, **printed, **source}},
    )


def threads_result(
    conntrack_ms: int, label: str, source: dict[str, Any]
) -> BackendResult:
    """benchmark's ``conntrack: N ms`` as a summary-only backend: the time
    is one measurement, so it is the phase's Min and Max; ovstest prints no
    estimator for it."""
    us = conntrack_ms * 1e3
    return BackendResult(
        backend=BACKEND,
        label=label,
        phases={
            CONNTRACK_PHASE: PhaseResult(
                summary=Summary.from_ovstest(us, us, None, None, 1)
            )
        },
        extra={"wall_ms": float(conntrack_ms), "source": {"tool": TOOL, **source}},
    )


def results_of(
    output: Output,
    labels: Sequence[str],
    iterations: int | None,
    source: dict[str, Any],
) -> list[BackendResult]:
    """An output's backends; ``labels`` name ovstest's own table or line
    (one name), the patch's rows are named by :data:`PATCH_BUILDS`."""
    if output.command == THREADS:
        assert output.conntrack_ms is not None
        return [threads_result(output.conntrack_ms, labels[0], source)]
    out = []
    for build in output.builds:
        if build.row is None:
            label = labels[0]
        else:
            label = PATCH_BUILDS.get(build.row.strip().lower(), build.row)
        out.append(zone_result(build, label, output, iterations, source))
    return out


def import_run(
    outputs: Sequence[Output],
    origin: str,
    command: str | None = None,
    args: tuple[int, ...] | None = None,
    labels: Sequence[str] = (),
    table: int | None = None,
) -> RunResult:
    """One run from what :func:`ctbench.ovstest.parse.parse` read.

    Outputs of one command and arguments make one run, a backend per build
    (``--label`` names ovstest's own tables, in order); when the text holds
    several such runs, ``table`` (1-based) chooses one.
    """
    if not outputs:
        raise OvstestImportError(
            f"{origin}: no ovstest output found (a benchmark-zones table or a "
            "'conntrack:  N ms' line)"
        )
    resolved = []
    for output in outputs:
        if command is not None and output.command != command:
            raise OvstestImportError(
                f"{origin}: line {output.line} is {output.command}'s output, "
                f"not {command}'s"
            )
        given = args
        if given is not None and len(given) not in ARG_COUNTS[output.command]:
            given = parse_args(output.command, " ".join(map(str, given)))
        if output.args is not None and given is not None and given != output.args:
            raise OvstestImportError(
                f"{origin}: --args {' '.join(map(str, given))} differ from the "
                f"text's ovstest command line ({output.describe()})"
            )
        run_args = output.args or given
        if run_args is None:
            names = " ".join(n.upper() for n in ARG_NAMES[output.command][:3])
            raise OvstestImportError(
                f"{origin}: the text does not say ovstest's arguments: give them "
                f'with --args "{names}"'
            )
        resolved.append((output.command, run_args, output))
    runs: dict[tuple[str, tuple[int, ...]], list[Output]] = {}
    for cmd, run_args, output in resolved:
        runs.setdefault((cmd, run_args), []).append(output)
    keys = list(runs)
    if table is None and len(keys) > 1:
        listed = "; ".join(
            f"{n} = {cmd} {' '.join(map(str, a))}" for n, (cmd, a) in enumerate(keys, 1)
        )
        raise OvstestImportError(
            f"{origin} holds {len(keys)} runs ({listed}): choose one with --table N"
        )
    if table is not None and not 1 <= table <= len(keys):
        raise OvstestImportError(
            f"--table must be from 1 to {len(keys)}: {origin} holds "
            f"{plural(len(keys), 'run')} (got {table})"
        )
    cmd, run_args = keys[(table or 1) - 1]
    chosen = runs[cmd, run_args]
    own = [
        o
        for o in chosen
        if o.command == THREADS or any(b.row is None for b in o.builds)
    ]
    if len(labels) > len(own):
        raise OvstestImportError(
            f"{len(labels)} --label given for "
            f"{plural(len(own), 'ovstest table or line', 'ovstest tables or lines')}"
            f" that {'names' if len(own) == 1 else 'name'} no build (a patch "
            "table's rows are named by their build)"
        )
    own_labels = numbered(list(labels) + [BACKEND] * (len(own) - len(labels)))
    params = params_for(cmd, run_args)
    try:
        _CHECK_PARAMS[cmd](params)
    except ConfigError as exc:
        told = "--args" if chosen[0].args is None else "the text's command line"
        raise OvstestImportError(
            f"{origin}: ovstest {cmd} {' '.join(map(str, run_args))} (from "
            f"{told}): {exc}"
        ) from None
    iterations = params.get("iterations") if cmd == ZONES else None
    results: list[BackendResult] = []
    for output in chosen:
        label = own_labels[own.index(output)] if output in own else BACKEND
        source = {"imported_from": origin, "line": output.line}
        results += results_of(output, [label], iterations, source)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return RunResult(
        command=cmd,
        params=params,
        environment={},
        started=now,
        finished=now,
        complete=True,
        results=_distinct_labels(results),
        tool_version=__version__,
        source={"tool": TOOL, "imported_from": origin, "estimators": ESTIMATORS},
    )


def _distinct_labels(results: list[BackendResult]) -> list[BackendResult]:
    for result, label in zip(
        results, numbered([r.label for r in results]), strict=True
    ):
        result.label = label
    return results
