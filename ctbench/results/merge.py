"""Several runs as one, for a side-by-side report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Final, TypeGuard

from ctbench.results.model import (
    INTERRUPTED,
    BackendResult,
    PhaseResult,
    RunResult,
    distinct_labels,
)
from ctbench.results.schema import ResultsError


def file_labels(paths: Sequence[Path]) -> list[str]:
    """A name per file: its name, or the path as given when two names clash,
    numbered when the same path is given twice."""
    names = [Path(p).name for p in paths]
    if len(set(names)) < len(names):
        names = [str(p) for p in paths]
    return distinct_labels(names)


# The key under which merge_runs() records the parameters that differ.
SIDE_BY_SIDE: Final = "side_by_side"


def merge_runs(runs: Sequence[tuple[str, RunResult]]) -> RunResult:
    """Several runs of one command as one RunResult, each backend labelled
    "NAME:label"; the first run gives the parameters, environment and
    harness.  Raises ResultsError for runs of different commands."""
    if not runs:
        raise ResultsError("no results to merge")
    first_name, first = runs[0]
    for name, run in runs[1:]:
        if run.command != first.command:
            raise ResultsError(
                "cannot show results of different commands side by side: "
                f"{first_name} is {first.command!r}, {name} is {run.command!r}"
            )
    merged = replace(
        first,
        params=dict(first.params),
        environment=dict(first.environment),
        harness=dict(first.harness),
        complete=all(run.complete for _, run in runs),
        results=[],
    )
    for name, run in runs:
        merged.results += [replace(r, label=f"{name}:{r.label}") for r in run.results]
    # Parameters the runs do not share, each run's value in order: the
    # report's title shows them all rather than the first run's alone.
    varies = {
        key: [run.params.get(key) for _, run in runs]
        for key in first.params
        if any(run.params.get(key) != first.params.get(key) for _, run in runs)
    }
    if varies:
        merged.params[SIDE_BY_SIDE] = varies
    return merged


# Parameters that may differ between runs pooled into one: how many rounds
# each ran, and the seed it recorded.
POOLED_PARAMS = ("iterations", "seed")

# How a result's ``extra`` figures pool (see pool_runs).  Totals over a run:
SUMMED_EXTRA: Final = ("rounds", "swept", "wall_s", "wall_ms", "packets")
# Totals per thread, summed thread by thread:
SUMMED_PER_THREAD: Final = ("thread_packets", "thread_batches", "thread_ms")
# Averages per round, weighted by the rounds each run ran:
PER_ROUND_EXTRA: Final = ("harness_untimed_us_per_round",)
# Rates, computed again from the pooled totals:
RATES: Final = ("pps", "pps_per_thread")


def pool_runs(runs: Sequence[tuple[str, RunResult]]) -> RunResult:
    """Several runs of one scenario as one run: each backend's samples
    concatenated in the order given, its counters summed; the first run
    gives the environment, the fill and the memory figures.  Runs made
    alternately (A B A B) on one machine pool into two runs whose drift
    cancels out.  Raises ResultsError for runs of different commands,
    parameters or backends.

    ``params.iterations`` becomes the sum of the runs'.  A result's
    ``extra`` figures pool so that they describe the pooled samples:

    - totals are summed: rounds, swept, wall_s (benchmark-zones); wall_ms,
      packets (benchmark); per thread, thread_packets, thread_batches and
      thread_ms are summed thread by thread;
    - rates are computed again from the sums: pps (packets over wall_ms),
      pps_per_thread (pps / N_THREADS);
    - harness_untimed_us_per_round, an average per round, becomes the
      average over every round run, warm-up included (rounds + warmup per
      run), as one long run would have recorded it;
    - anything else, such as the table's state at the end (stored_at_end,
      connections), is per run: kept when every run recorded the same
      value, dropped otherwise.

    A figure that cannot be pooled (a run lacks it, or holds it in another
    shape) is dropped rather than left at one run's value.
    """
    if not runs:
        raise ResultsError("no results to pool")
    first_name, first = runs[0]
    labels = [r.label for r in first.results]
    params = {k: v for k, v in first.params.items() if k not in POOLED_PARAMS}
    for name, run in runs:
        if any(p.summary is not None for r in run.results for p in r.phases.values()):
            # An imported ovstest table: min, max and estimators, no samples
            # to concatenate.
            raise ResultsError(
                f"cannot pool {name}: it holds summary-only phases (no samples)"
            )
    for name, run in runs[1:]:
        if run.command != first.command:
            raise ResultsError(
                f"cannot pool runs of different commands: {first_name} is "
                f"{first.command!r}, {name} is {run.command!r}"
            )
        other = {k: v for k, v in run.params.items() if k not in POOLED_PARAMS}
        for key in sorted(params.keys() | other.keys()):
            if params.get(key) != other.get(key):
                raise ResultsError(
                    f"cannot pool runs with different parameters: {key} is "
                    f"{params.get(key)!r} in {first_name}, {other.get(key)!r} in {name}"
                )
        if [r.label for r in run.results] != labels:
            raise ResultsError(
                f"cannot pool runs of different backends: {first_name} has "
                f"{', '.join(labels)}, {name} has "
                f"{', '.join(r.label for r in run.results)}"
            )
    pooled = replace(
        first,
        params=dict(first.params),
        complete=all(run.complete for _, run in runs),
        finished=runs[-1][1].finished,
        source={"pooled": [name for name, _ in runs]},
        results=[],
    )
    if isinstance(first.params.get("iterations"), int):
        pooled.params["iterations"] = sum(
            int(run.params.get("iterations", 0)) for _, run in runs
        )
    for i, result in enumerate(first.results):
        phases = {}
        for phase in result.phases:
            samples: list[float] = []
            counters: dict[str, int] = {}
            for _, run in runs:
                p = run.results[i].phases.get(phase)
                if p is None:
                    continue
                samples += p.samples_us
                for key, value in p.counters.items():
                    counters[key] = counters.get(key, 0) + value
            phases[phase] = PhaseResult(samples, counters)
        statuses = {run.results[i].status for _, run in runs}
        pooled.results.append(
            replace(
                result,
                phases=phases,
                status=result.status if len(statuses) == 1 else INTERRUPTED,
                extra=_pool_extra(
                    [run.results[i] for _, run in runs],
                    [run.params for _, run in runs],
                ),
            )
        )
    return pooled


def _pool_extra(
    results: Sequence[BackendResult], params: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """One backend's ``extra`` figures over the runs (see pool_runs)."""
    extras = [r.extra for r in results]
    keys = list(dict.fromkeys(key for extra in extras for key in extra))
    pooled: dict[str, Any] = {}
    for key in keys:
        values: list[Any] = [extra.get(key) for extra in extras]
        if key in SUMMED_EXTRA:
            if all(map(_number, values)):
                pooled[key] = sum(values)
        elif key in SUMMED_PER_THREAD:
            if all(_numbers(v) and len(v) == len(values[0]) for v in values):
                pooled[key] = [sum(column) for column in zip(*values, strict=True)]
        elif key in PER_ROUND_EXTRA:
            ran = [_rounds_run(e, p) for e, p in zip(extras, params, strict=True)]
            weights = [w for w in ran if w is not None]
            if all(map(_number, values)) and len(weights) == len(ran):
                total = sum(weights)
                pooled[key] = (
                    sum(v * w for v, w in zip(values, weights, strict=True)) / total
                    if total
                    else 0.0
                )
        elif key in RATES:
            continue  # computed again below, from the pooled totals
        elif all(key in extra and extra[key] == values[0] for extra in extras):
            pooled[key] = values[0]
    packets, wall_ms = pooled.get("packets"), pooled.get("wall_ms")
    if _number(packets) and _number(wall_ms):
        pps = packets / (wall_ms / 1e3) if wall_ms > 0 else 0.0
        n_threads: object = params[0].get("n_threads")
        if "pps" in keys:
            pooled["pps"] = pps
        if "pps_per_thread" in keys and _number(n_threads) and n_threads > 0:
            pooled["pps_per_thread"] = pps / n_threads
    return pooled


def _rounds_run(extra: dict[str, Any], params: dict[str, Any]) -> float | None:
    """The rounds a run ran whole, warm-up included; None when unknown."""
    rounds: object = extra.get("rounds")
    warmup: object = params.get("warmup", 0)
    if not (_number(rounds) and _number(warmup)):
        return None
    return rounds + warmup


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and all(map(_number, value))
