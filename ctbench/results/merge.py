"""Several runs as one, for a side-by-side report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ctbench.results.model import INTERRUPTED, PhaseResult, RunResult, distinct_labels
from ctbench.results.schema import ResultsError


def file_labels(paths: Sequence[Path]) -> list[str]:
    """A name per file: its name, or the path as given when two names clash,
    numbered when the same path is given twice."""
    names = [Path(p).name for p in paths]
    if len(set(names)) < len(names):
        names = [str(p) for p in paths]
    return distinct_labels(names)


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
    return merged


# Parameters that may differ between runs pooled into one: how many rounds
# each ran, and the seed it recorded.
POOLED_PARAMS = ("iterations", "seed")


def pool_runs(runs: Sequence[tuple[str, RunResult]]) -> RunResult:
    """Several runs of one scenario as one run: each backend's samples
    concatenated in the order given, its counters summed; the first run
    gives the environment, the fill and the memory figures.  Runs made
    alternately (A B A B) on one machine pool into two runs whose drift
    cancels out.  Raises ResultsError for runs of different commands,
    parameters or backends."""
    if not runs:
        raise ResultsError("no results to pool")
    first_name, first = runs[0]
    labels = [r.label for r in first.results]
    params = {k: v for k, v in first.params.items() if k not in POOLED_PARAMS}
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
                extra=dict(result.extra),
            )
        )
    return pooled
