"""The run callgrind counts: ``main()`` of ``python -c ... JOB OUT``.

The parent (:mod:`ctbench.callgrind.runner`) starts it under valgrind with
a pickled :class:`ctbench.callgrind.job.Job`: a command's run function
and its config, whose
``measure`` makes the scenario mark its timed sections
(:func:`ctbench.scenarios.harness.section_clock`).  It writes the run and
the number of edges it marked, pickled, to OUT, and reports progress on
stdout, one line per update, which the parent shows.

A first SIGINT or SIGTERM (the parent forwards the user's) stops the run at
its next check; a second abandons the call in progress, as in a run of
ctbench's own (``ctbench.cli.progress_display.Interrupt``).
"""

from __future__ import annotations

import pickle
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

from ctbench import backends
from ctbench.callgrind.job import PROGRESS_PREFIX, PROGRESS_STEPS, Job, Outcome
from ctbench.scenarios.harness import MARKS


class _Loaded:
    """A backend the parent resolved, as the registry lists entry points."""

    def __init__(self, table: type) -> None:
        self._table = table

    def load(self) -> type:
        return self._table


def _use_tables(tables: Mapping[str, type]) -> None:
    """Make the registry answer with the parent's tables (a process of its
    own: nothing else sees the change)."""
    found = {**backends.registry(), **{n: _Loaded(t) for n, t in tables.items()}}
    backends.registry = lambda: found  # type: ignore[assignment]


class _Stop:
    def __init__(self) -> None:
        self.signal: str | None = None

    def __call__(self) -> bool:
        return self.signal is not None

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signal.Signals(signum).name


class _ProgressLines:
    """Progress on stdout, at most PROGRESS_STEPS lines a stage.  Chosen by
    the count, never the clock: what runs between two sections must be the
    same on every run, or its attribute lookups evict different entries of
    CPython's type attribute cache, and the next section counts differently
    (two runs' sections counted 0.05% apart when the lines were sent every
    0.25 s, alike when by count: same job, same machine)."""

    def __init__(self) -> None:
        self.due: dict[tuple[str, str], int] = {}

    def __call__(self, label: str, stage: str, done: int, total: int) -> None:
        if done < total and done < self.due.get((label, stage), 0):
            return
        self.due[label, stage] = done + max(1, total // PROGRESS_STEPS)
        sys.stdout.write(f"{PROGRESS_PREFIX}{label}\t{stage}\t{done}\t{total}\n")
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    job_path, out_path = map(Path, sys.argv[1:] if argv is None else argv)
    job: Job = pickle.loads(job_path.read_bytes())
    _use_tables(job.tables)
    stop = _Stop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop.handler)
    run = job.run(job.config, _ProgressLines(), stop)
    outcome = Outcome(run, MARKS.edges, stop.signal)
    out_path.write_bytes(pickle.dumps(outcome))


if __name__ == "__main__":
    main()
