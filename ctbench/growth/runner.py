"""Running a sweep's points one after the other, each into its own file.

Points run one at a time on this machine: two at once would share its
cores and caches and spoil each other's timings (to spread a sweep over
machines, run its plan's commands there and merge the files).  Each
finished point is written as an ordinary results file at once, so an
interrupt, a crash or a full disk loses at most the point that was
running; ``resume`` keeps every point whose file is a finished run of
exactly that point (each such file is loaded once), and without it a
grid whose files exist already is refused.  The points left to run are
checked against the machine's memory and an hour (``--force`` lifts
both) before the first one starts.  After each finished point the sweep
file is rewritten, fitted on the points so far, so that it is current
whenever the sweep stops.  A point cut short by an interrupt is not
written.  A file that cannot be written (a full disk) stops the sweep as
an interrupt does: the points finished so far are kept, and the error is
returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from ctbench import files, registry, results
from ctbench.errors import CtbenchError, OutputError
from ctbench.estimate import estimate_zones_grid
from ctbench.growth.build import build_sweep
from ctbench.growth.document import SweepDocument, dumps_sweep
from ctbench.growth.grid import Point, SweepConfig
from ctbench.preflight import check_memory, check_time
from ctbench.results import ResultsError, RunResult
from ctbench.scenarios.benchmark_zones import COMMAND, ZoneConfig, run_zones
from ctbench.scenarios.harness import never, no_progress
from ctbench.units import MICROSECONDS, unit_of


class ResumeError(CtbenchError):
    """A grid whose points' files exist already, without ``resume``."""


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
    points: int  # in the grid
    finished: list[tuple[Path, RunResult]] = field(default_factory=list)
    stopped: bool = False
    # Why the sweep stopped when a point's file or a checkpoint could not be
    # written; the point whose file failed is not in ``finished``.
    unwritten: OutputError | None = None

    @property
    def failed(self) -> list[tuple[Path, RunResult]]:
        """Points where a backend failed (the others' results are kept)."""
        return [(path, run) for path, run in self.finished if run.failed]

    def document(self, statistic: str, stopped_by: str | None = None) -> SweepDocument:
        """The sweep of the finished points: complete when every point of
        the grid finished and nothing stopped it."""
        named = [(str(path), run) for path, run in self.finished]
        complete = not self.stopped and len(named) == self.points
        return build_sweep(named, statistic, complete, stopped_by)


RunPoint = Callable[[Point, ZoneConfig], RunResult]


def check_points_dir(points_dir: Path) -> None:
    """Refuse a points directory that cannot be, before any work."""
    if points_dir.exists() and not points_dir.is_dir():
        raise OutputError(f"--points-dir {points_dir}: not a directory")
    if not points_dir.exists() and not points_dir.parent.is_dir():
        raise OutputError(
            f"--points-dir {points_dir}: directory {points_dir.parent} does not exist"
        )


def _make_points_dir(points_dir: Path) -> None:
    """Created once the sweep is sure to run: a refused one leaves nothing."""
    try:
        points_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create {points_dir}: {exc.strerror or exc}"
        ) from None


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
    if run.unit != MICROSECONDS.key:
        return None, f"holds {unit_of(run.unit).noun}, not times"
    if not run.complete:
        return None, "holds an incomplete run"
    return run, ""


def _kept_points(
    config: SweepConfig, points_dir: Path, resume: bool
) -> dict[Point, tuple[RunResult | None, str]]:
    """Each point's finished run from its file, loaded once, with why it
    must run again when it cannot be kept (:func:`finished_point`); {}
    without ``resume``, which refuses a grid whose files exist."""
    if not resume:
        existing = point_files(config, points_dir)
        if existing:
            raise ResumeError(
                f"{points_dir} already holds {len(existing)} of this grid's "
                f"{'results file' if len(existing) == 1 else 'results files'} "
                f"({existing[0].name}, ...): give --resume to keep the "
                "finished ones, or remove them"
            )
        return {}
    return {
        point: finished_point(config, point, points_dir / point.file_name())
        for point in config.points()
    }


def _check_resources(
    config: SweepConfig, todo: list[Point], notice: Callable[[str], None]
) -> None:
    """The points left to run against the machine: the biggest one's memory,
    and all of them against an hour (ctbench.preflight)."""
    if not todo:
        return
    configs = [config.zone_config(p) for p in todo]
    biggest = max(configs, key=lambda c: c.estimated_bytes())
    check_memory(biggest.estimated_bytes(), biggest.expected_stored, config.force)
    said = check_time(
        estimate_zones_grid(
            config.backends,
            [(p.entries, p.zones) for p in todo],
            config.warmup + config.iterations,
            config.conn_limit,
        ),
        config.force,
    )
    if said is not None:
        notice(said)


def run_sweep(
    config: SweepConfig,
    points_dir: Path,
    output: Path,
    statistic: str,
    *,
    resume: bool = False,
    run_point: RunPoint | None = None,
    interrupted: Callable[[], bool] = never,
    on_event: Callable[[Event], None] = lambda event: None,
    notice: Callable[[str], None] = lambda line: None,
    on_start: Callable[[], object] = lambda: None,
) -> SweepOutcome:
    """Run every point not already finished, in the config's run order,
    into ``points_dir``, keeping the sweep file ``output`` current.

    Before any point: the grid's existing files are refused, or with
    ``resume`` each is loaded once to keep it; the points left to run are
    checked against the machine (``notice`` gets how long they should
    take, when that is worth saying); ``points_dir`` is created.
    ``on_start`` is called then, once, before the first point (the command
    line installs its stop handler there).  ``run_point`` runs one point
    (default: benchmark-zones with no progress display).
    """
    kept = _kept_points(config, points_dir, resume)
    todo = [p for p in config.points() if kept.get(p, (None, ""))[0] is None]
    _check_resources(config, todo, notice)
    _make_points_dir(points_dir)
    on_start()

    def default_run(point: Point, zone_config: ZoneConfig) -> RunResult:
        return run_zones(zone_config, no_progress, interrupted)

    def checkpoint(done: list[tuple[Path, RunResult]]) -> None:
        doc = build_sweep([(str(p), r) for p, r in done], statistic, complete=False)
        files.write_file(output, dumps_sweep(doc, output))

    run_one = run_point or default_run
    outcome = SweepOutcome(len(config.points()))
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
                found, why = kept[point]
                if found is not None:
                    outcome.finished.append((path, found))
                    event(Step.KEPT, run=found)
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
            run.tags = dict(config.tags)
            results.save(run, path)
            outcome.finished.append((path, run))
            event(Step.DONE, run=run)
            checkpoint(outcome.finished)
    except OutputError as exc:
        outcome.unwritten = exc
        outcome.stopped = True
    return outcome
