"""Running a sweep's points one after the other, each into its own file.

Points run one at a time on this machine: two at once would share its
cores and caches and spoil each other's timings (to spread a sweep over
machines, run its plan's commands there and merge the files).  Each
finished point is written as an ordinary results file at once, so an
interrupt, a crash or a full disk loses at most the point that was
running; ``resume`` keeps every point whose file is a finished run of
exactly that point.  A point cut short by an interrupt is not written.  A
file that cannot be written (a full disk) stops the sweep as an interrupt
does: the points finished so far are kept, and the error is returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from ctbench import registry, results
from ctbench.errors import OutputError
from ctbench.growth.grid import Point, SweepConfig
from ctbench.results import ResultsError, RunResult
from ctbench.scenarios.benchmark_zones import COMMAND, ZoneConfig, run_zones
from ctbench.scenarios.harness import never, no_progress


class Step(Enum):
    KEPT = "kept"  # --resume found it finished
    REDO = "redo"  # --resume found a file it cannot keep
    START = "start"
    DONE = "done"
    CUT = "cut"  # interrupted while running: not written


@dataclass(frozen=True)
class Event:
    step: Step
    point: Point
    index: int  # 1-based, in run order
    total: int
    path: Path
    detail: str = ""
    run: RunResult | None = None


@dataclass
class SweepOutcome:
    finished: list[tuple[Path, RunResult]] = field(default_factory=list)
    stopped: bool = False
    # Why the sweep stopped when a point's file or a checkpoint could not be
    # written; the point whose file failed is not in ``finished``.
    unwritten: OutputError | None = None

    @property
    def failed(self) -> list[tuple[Path, RunResult]]:
        """Points where a backend failed (the others' results are kept)."""
        return [(path, run) for path, run in self.finished if run.failed]


RunPoint = Callable[[Point, ZoneConfig], RunResult]


def point_files(config: SweepConfig, points_dir: Path) -> list[Path]:
    """The grid's results files that exist already."""
    paths = (points_dir / p.file_name() for p in config.points())
    return [path for path in paths if path.exists() or path.is_symlink()]


def finished_point(
    config: SweepConfig, point: Point, path: Path
) -> tuple[RunResult | None, str]:
    """The point's file if it holds a finished run of exactly this point;
    otherwise None and why it must run again ("" when there is no file)."""
    if not path.exists():
        return None, ""
    try:
        run = registry.load(path)
    except ResultsError as exc:
        return None, f"cannot be kept: {exc}"
    if run.command != COMMAND or run.params != config.zone_config(point).params():
        return None, "holds a run with other parameters"
    if not run.complete:
        return None, "holds an incomplete run"
    return run, ""


def run_sweep(
    config: SweepConfig,
    points_dir: Path,
    *,
    resume: bool = False,
    run_point: RunPoint | None = None,
    interrupted: Callable[[], bool] = never,
    on_event: Callable[[Event], None] = lambda event: None,
    checkpoint: Callable[[list[tuple[Path, RunResult]]], None] = lambda done: None,
) -> SweepOutcome:
    """Run every point not already finished, in the config's run order.

    ``run_point`` runs one point (default: benchmark-zones with no progress
    display); ``checkpoint`` is called with every finished point so far each
    time one is added, so the caller can keep its sweep file current.
    """

    def default_run(point: Point, zone_config: ZoneConfig) -> RunResult:
        return run_zones(zone_config, no_progress, interrupted)

    run_one = run_point or default_run
    outcome = SweepOutcome()
    order = config.run_order()
    total = len(order)
    try:
        for index, point in enumerate(order, start=1):
            path = points_dir / point.file_name()

            def event(
                step: Step, detail: str = "", run: RunResult | None = None
            ) -> None:
                on_event(Event(step, point, index, total, path, detail, run))  # noqa: B023

            if resume:
                kept, why = finished_point(config, point, path)
                if kept is not None:
                    outcome.finished.append((path, kept))
                    event(Step.KEPT, run=kept)
                    checkpoint(outcome.finished)
                    continue
                if why:
                    event(Step.REDO, why)
            if interrupted():
                outcome.stopped = True
                break
            event(Step.START)
            run = run_one(point, config.zone_config(point))
            if interrupted():
                event(Step.CUT, run=run)
                outcome.stopped = True
                break
            results.save(run, path)
            outcome.finished.append((path, run))
            event(Step.DONE, run=run)
            checkpoint(outcome.finished)
    except OutputError as exc:
        outcome.unwritten = exc
        outcome.stopped = True
    return outcome
