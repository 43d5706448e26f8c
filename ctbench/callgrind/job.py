"""What the parent of a counted run and its child hand each other
(:mod:`ctbench.callgrind.runner`, :mod:`ctbench.callgrind.child`), pickled:
a module of its own, so that both name the classes alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ctbench.results import RunResult
from ctbench.scenarios.harness import Progress

# A progress line on stdout: this prefix, then label, stage, done and total
# separated by tabs.  Other lines (a plugin's prints) are not progress.
PROGRESS_PREFIX: Final = "ctbench-progress\t"
# Progress lines a stage sends at most (the last one always): each is a
# write the parent wakes up for.
PROGRESS_STEPS: Final = 200


@dataclass(frozen=True)
class Job:
    """What the child runs: ``run(config, progress, interrupted)``, with
    the backend tables the parent resolved by name (its plugins, those
    registered while it runs included)."""

    run: Callable[[Any, Progress, Callable[[], bool]], RunResult]
    config: Any
    tables: Mapping[str, type]


@dataclass(frozen=True)
class Outcome:
    """What the child hands back: the run (each sample the ordinal of its
    section) and the section edges it marked."""

    run: RunResult
    edges: int
    stopped_by: str | None
