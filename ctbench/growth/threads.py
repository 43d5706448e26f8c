"""A thread sweep: one threaded command run at every thread count.

Generic over the command: any registered command whose record has a
:class:`~ctbench.registry.ThreadScaling` (``benchmark`` today) is run from
one base config, with only its thread count changed, ``repeats`` times at
each count.  The runs go one at a time, in a seeded shuffled order (a
machine that drifts would otherwise drift with the thread count and bend
the fit), each into its own ordinary results file; after each one the
scaling file is rewritten, fitted on the runs so far, so that it is
current whenever the sweep stops.  A run cut short by an interrupt is not
kept.  Existing files of the grid are refused: remove them first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from ctbench import files, registry, results
from ctbench.errors import CtbenchError, OutputError
from ctbench.estimate import Estimate
from ctbench.growth.grid import parse_sizes
from ctbench.growth.scaling_document import (
    ScalingDocument,
    build_scaling,
    dumps_scaling,
)
from ctbench.preflight import check_memory, check_threads, check_time
from ctbench.registry import Command, ThreadScaling
from ctbench.report.numbers import plural
from ctbench.results import RunResult
from ctbench.scenarios.harness import ConfigError, never, no_progress

THREADS_OPTION: Final = "--threads"
# Three runs at each count give a fit of 3 thread counts (3 parameters) 6
# degrees of freedom for its intervals, where one run gives none.
DEFAULT_REPEATS: Final = 3


class ExistingPointsError(CtbenchError):
    """A grid whose runs' files exist already."""


def parse_thread_counts(text: str) -> tuple[int, ...]:
    """'1,2,4' -> (1, 2, 4); a one-line ConfigError for a non-integer, a
    repeated count, a count below 1 or fewer than 2 counts."""
    counts = parse_sizes(text, THREADS_OPTION, example="1,2,4")
    if counts[0] < 1:
        raise ConfigError(
            f"{THREADS_OPTION} values must be 1 or more (got {counts[0]})"
        )
    if len(counts) < 2:
        raise ConfigError(
            f"{THREADS_OPTION} needs at least 2 thread counts to show scaling "
            f"(got {counts[0]})"
        )
    return counts


@dataclass(frozen=True, order=True)
class ThreadPoint:
    threads: int
    repeat: int  # 1-based

    def __str__(self) -> str:
        return f"{plural(self.threads, 'thread')}, run {self.repeat}"


@dataclass(frozen=True)
class ThreadGrid:
    """``command`` run from ``base`` at every thread count, ``repeats``
    times each."""

    command: str
    base: Any  # the command's config; its thread count is replaced
    threads: tuple[int, ...]
    repeats: int = DEFAULT_REPEATS
    seed: int = 0
    force: bool = False
    # Threads the caller runs beside every point's (the progress display's),
    # each said as check_threads names it.
    display_threads: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.repeats < 1:
            raise ConfigError(f"--repeat must be 1 or more (got {self.repeats})")
        if self.seed < 0:
            raise ConfigError(f"--seed must be 0 or more (got {self.seed})")
        if self.scaling is None:
            raise ConfigError(f"{self.command} has no thread count to sweep")
        most = max(self.threads)
        # A config may name the threads its run starts beside the counted
        # ones (create-rate's flusher and sweeper): they count too.
        helpers: tuple[str, ...] = getattr(self.config(most), "helper_threads", ())
        check_threads(most, helpers + self.display_threads)
        for count in self.threads:
            self.config(count)  # the command's own checks, at every count

    @property
    def record(self) -> Command[Any]:
        return registry.command(self.command)

    @property
    def scaling(self) -> ThreadScaling | None:
        return self.record.scaling

    def config(self, threads: int) -> Any:
        assert self.scaling is not None
        return dataclasses.replace(self.base, **{self.scaling.param: threads})

    def points(self) -> list[ThreadPoint]:
        return [
            ThreadPoint(t, r) for t in self.threads for r in range(1, self.repeats + 1)
        ]

    def run_order(self) -> list[ThreadPoint]:
        points = self.points()
        order = np.random.default_rng(self.seed).permutation(len(points))
        return [points[i] for i in order]

    def file_name(self, point: ThreadPoint) -> str:
        return f"{self.command}-t{point.threads}-r{point.repeat}.json"


@dataclass
class ThreadSweepOutcome:
    points: int
    finished: list[tuple[Path, ThreadPoint, RunResult]] = dataclasses.field(
        default_factory=list
    )
    stopped: bool = False
    unwritten: OutputError | None = None

    @property
    def failed(self) -> list[Path]:
        return [path for path, _, run in self.finished if run.failed]

    def document(
        self, grid: ThreadGrid, stopped_by: str | None = None
    ) -> ScalingDocument:
        assert grid.scaling is not None
        complete = not self.stopped and len(self.finished) == self.points
        return build_scaling(
            [(str(path), point.repeat, run) for path, point, run in self.finished],
            grid.command,
            grid.scaling,
            complete,
            stopped_by,
        )


def check_resources(grid: ThreadGrid, notice: Callable[[str], None]) -> None:
    """The runs against the machine: the biggest one's memory, and all of
    them against an hour (ctbench.preflight)."""
    record = grid.record
    biggest = record.memory(grid.config(max(grid.threads)))
    check_memory(biggest.bytes, biggest.connections, grid.force)
    estimates = [record.estimate(grid.config(p.threads)) for p in grid.points()]
    total = Estimate(
        sum(e.seconds for e in estimates), all(e.calibrated for e in estimates)
    )
    said = check_time(total, grid.force)
    if said is not None:
        notice(said)


RunPoint = Callable[[ThreadPoint, Any], RunResult]
OnPoint = Callable[[int, int, ThreadPoint, Path, str], None]


def run_thread_grid(
    grid: ThreadGrid,
    points_dir: Path,
    output: Path,
    *,
    run_point: RunPoint | None = None,
    interrupted: Callable[[], bool] = never,
    on_point: OnPoint = lambda index, total, point, path, step: None,
    notice: Callable[[str], None] = lambda line: None,
    on_start: Callable[[], object] = lambda: None,
) -> ThreadSweepOutcome:
    """Run every point of ``grid`` into ``points_dir``, keeping the scaling
    file ``output`` current; ``on_point`` hears each point's "start",
    "done" or "cut" (interrupted, not kept)."""
    paths = [points_dir / grid.file_name(p) for p in grid.points()]
    existing = [path for path in paths if path.exists() or path.is_symlink()]
    if existing:
        raise ExistingPointsError(
            f"{points_dir} already holds {len(existing)} of this sweep's results "
            f"files ({existing[0].name}, ...): remove them, or give another -o "
            "or --points-dir"
        )
    check_resources(grid, notice)
    try:
        points_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create {points_dir}: {exc.strerror or exc}"
        ) from None
    on_start()
    record = grid.record

    def default_run(point: ThreadPoint, config: Any) -> RunResult:
        return record.run(config, no_progress, interrupted)

    run_one = run_point or default_run
    outcome = ThreadSweepOutcome(len(paths))
    order = grid.run_order()
    try:
        for index, point in enumerate(order, start=1):
            path = points_dir / grid.file_name(point)
            if interrupted():
                outcome.stopped = True
                break
            on_point(index, len(order), point, path, "start")
            run = run_one(point, grid.config(point.threads))
            if interrupted():
                on_point(index, len(order), point, path, "cut")
                outcome.stopped = True
                break
            results.save(run, path)
            outcome.finished.append((path, point, run))
            on_point(index, len(order), point, path, "done")
            doc = outcome.document(grid)
            doc.complete = False
            files.write_file(output, dumps_scaling(doc, output))
    except OutputError as exc:
        outcome.unwritten = exc
        outcome.stopped = True
    return outcome
