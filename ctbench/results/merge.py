"""Several runs as one, for a side-by-side report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ctbench.results.model import RunResult, distinct_labels
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
