"""The harness every scenario runs in; a scenario is then only its workload.

The harness owns what ``benchmark-zones``, ``benchmark`` and the commands to
come share: the configuration fields every one has and their checks, the
default backends, opening a model for a backend, the counters a phase
records, labels for backends that repeat, and running the backends one
after the other, one table alive at a time, with a backend's failure
recorded and the next one run.
"""

from __future__ import annotations

import gc
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Protocol

from ctbench import __version__, environment
from ctbench.backends import BackendSpec, create_table, effective_options
from ctbench.errors import CtbenchError
from ctbench.model import DEFAULT_CONN_LIMIT, Conntrack, Limits
from ctbench.results import (
    COMPLETE,
    FAILED,
    INTERRUPTED,
    BackendResult,
    RunResult,
    distinct_labels,
)
from ctbench.units import DEFAULT_MEASURE, UnitError, measured_by

# progress(backend label, stage, done, total): called between timed sections.
Progress = Callable[[str, str, int, int], None]
DEFAULT_BACKENDS: Final = (BackendSpec("single"), BackendSpec("per-zone"))
# NETDEV_MAX_BURST (lib/netdev.h): the datapath's largest batch.
MAX_BATCH_SIZE: Final = 32
# A run's process before its table and samples (the interpreter, numpy,
# rich, ctbench): `benchmark-zones 1 2 1` peaks at 39.6 MiB RSS
# (`python -m bench.experiments.estimates --constants`).
PROCESS_BYTES: Final = 40 * 2**20


class ConfigError(CtbenchError, ValueError):
    """An argument outside what ovstest (or ctbench) accepts."""


@dataclass(frozen=True, kw_only=True)
class CommonConfig:
    """What every scenario is configured with."""

    backends: tuple[BackendSpec, ...] = DEFAULT_BACKENDS
    conn_limit: int = DEFAULT_CONN_LIMIT
    gc_enabled: bool = False
    # What a sample is (ctbench.units): "time", or a count callgrind makes
    # of a run whose timed sections are marked (section_clock()).
    measure: str = DEFAULT_MEASURE

    def __post_init__(self) -> None:
        if not self.backends:
            raise ConfigError("at least one backend is needed")
        if self.conn_limit < 0:
            raise ConfigError(f"--conn-limit must be 0 or more (got {self.conn_limit})")
        try:
            measured_by(self.measure)
        except UnitError as exc:
            raise ConfigError(str(exc)) from None

    def common_params(self) -> dict[str, Any]:
        return {
            "conn_limit": self.conn_limit,
            "gc": "enabled" if self.gc_enabled else "frozen",
            "backends": [spec.label for spec in self.backends],
        }


def recorded(
    params: Mapping[str, Any], keys: Iterable[str], stand_ins: Mapping[str, Any]
) -> dict[str, Any]:
    """A config's keyword arguments from the parameters a run recorded, so
    that the config's own checks judge them: each of ``keys`` recorded, and
    for a required argument that is not, a stand-in the config accepts (a
    parameter a file does not record is not checked)."""
    return {**stand_ins, **{key: params[key] for key in keys if key in params}}


@contextmanager
def gc_frozen(frozen: bool = True) -> Iterator[None]:
    """Keep the cyclic collector out of the timed phases when ``frozen``:
    collect once, freeze what exists, disable it; restore on the way out.
    Connections hold no cycles, so nothing is lost, and a collection can no
    longer land inside a sample at random.

    ``gc.unfreeze`` thaws everything, so it is called only when nothing was
    frozen before: where the caller froze objects of its own (as CPython's
    documentation advises before a fork, and as the test suite does with
    what lives before each test), they stay frozen, and what the run left
    alive with them.  Reference counting still frees those; only a cycle
    among them waits for the caller's own ``gc.unfreeze``."""
    if not frozen:
        yield
        return
    was_enabled = gc.isenabled()
    caller_froze = gc.get_freeze_count() > 0
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if not caller_froze:
            gc.unfreeze()
        if was_enabled:
            gc.enable()


# What the section marks' closing reading adds per section: the clock reads
# nanoseconds, and a scenario turns a section's reading into microseconds,
# so the sample it keeps is the section's ordinal.
_ORDINAL_NS: Final = 1000


class SectionMarks:
    """The edges of a run's timed sections, for callgrind to cut its counts
    at (``--dump-before=sched_yield``, :mod:`ctbench.callgrind`).

    Read as a scenario reads its clock, :attr:`edge` calls
    ``os.sched_yield()``, which dumps the counts since the previous edge:
    the dump at a closing edge is the section's work.  The opening edge
    reads 0 and the closing edge 1,000 x the section's ordinal (0, 1, 2...
    in the order the process runs them), so the sample a scenario keeps, in
    "microseconds", is the section's ordinal, and whatever the scenario
    keeps or drops (warm-up rounds, a round cut short) the counts find
    their sample.  The bookkeeping is done before the opening yield and
    after the closing one, outside the section, on closure cells: inside
    it, no attribute is looked up, so CPython's type attribute cache, whose
    misses vary from process to process, has no part in a section's count
    but the work's own.  One per process (:data:`MARKS`), as callgrind's
    dumps are.
    """

    def __init__(self) -> None:
        edges = 0
        sched_yield = os.sched_yield

        def edge() -> int:
            nonlocal edges
            n = edges
            if n & 1:
                sched_yield()
                edges = n + 1
                return (n >> 1) * _ORDINAL_NS
            edges = n + 1
            sched_yield()
            return 0

        def count() -> int:
            return edges

        self.edge: Callable[[], int] = edge
        self._count = count

    @property
    def edges(self) -> int:
        """The edges marked so far: twice the sections, plus one while a
        section is open."""
        return self._count()


MARKS: Final = SectionMarks()


def section_clock(measure: str) -> Callable[[], int]:
    """What a scenario reads at each edge of a timed section: the clock in
    nanoseconds when it measures time, else the section marks."""
    return time.perf_counter_ns if measure == DEFAULT_MEASURE else MARKS.edge


def no_progress(backend: str, stage: str, done: int, total: int) -> None:
    pass


def never() -> bool:
    return False


def execute_counts(diff: dict[str, int]) -> dict[str, int]:
    """An execute phase's counters from the model's counter difference."""
    return {
        "lookups": diff["packets"],
        "created": diff["created"],
        "removed": diff["removed"],
        "refused": diff["refused_full"] + diff["refused_zone"],
        "invalid": diff["invalid"],
    }


def add_counts(into: dict[str, int], counts: dict[str, int]) -> None:
    for key, value in counts.items():
        into[key] = into.get(key, 0) + value


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type, its message, and where it was
    raised (the innermost frame), so a plugin's bug can be found."""
    message = " ".join(str(exc).split()) or "(no message)"
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {message}{where}"


@dataclass
class Turn:
    """One backend's turn: what the harness hands the workload."""

    spec: BackendSpec
    result: BackendResult
    model: Conntrack
    progress: Callable[[str, int, int], None]  # (stage, done, total)
    interrupted: Callable[[], bool]


class Workload(Protocol):
    """A scenario's own part: its command, parameters, and what it does
    with each backend's model."""

    command: ClassVar[str]
    thread_safe: ClassVar[bool]

    @property
    def config(self) -> CommonConfig: ...

    def params(self) -> dict[str, Any]: ...

    def run(self, turn: Turn) -> bool:
        """Fill ``turn.result`` as it goes, so that whatever stops it keeps
        what was gathered; return True when it stopped early."""
        ...


def new_run(
    command: str, params: dict[str, Any], measure: str = DEFAULT_MEASURE
) -> RunResult:
    """A run's record before its first backend.  A run counted by callgrind
    does not time the clock: its 20,001 reads are integers allocated or not
    as the machine's timing has it, and what runs before the sections
    should be the same on every run (the runner records how it counted
    instead)."""
    timed = measure == DEFAULT_MEASURE
    return RunResult(
        command=command,
        params=params,
        environment=environment.describe(),
        started=environment.now_iso(),
        harness=environment.timer_overhead_ns() if timed else {},
        tool_version=__version__,
    )


def run_workload(
    workload: Workload,
    progress: Progress = no_progress,
    interrupted: Callable[[], bool] = never,
) -> RunResult:
    """Run the workload on each backend in turn, one table alive at a time.

    An interrupt (the flag, or a KeyboardInterrupt) stops the run and keeps
    what was gathered.  Anything else a backend raises marks that backend
    failed with the error in one line, and the next backend runs: a
    MemoryError, a plugin's bug, and also a plugin's ``sys.exit()``
    (SystemExit), GeneratorExit or own BaseException subclass, which would
    otherwise end the process with the finished backends' results unsaved.
    """
    config = workload.config
    run = new_run(workload.command, workload.params(), config.measure)
    labels = distinct_labels([spec.label for spec in config.backends])
    stopped = False
    for spec, label in zip(config.backends, labels, strict=True):
        if interrupted():
            stopped = True
            break
        result = BackendResult(
            backend=spec.name, options=dict(spec.options), label=label
        )
        run.results.append(result)
        try:
            stopped = _run_one(workload, spec, result, progress, interrupted)
        except KeyboardInterrupt:
            stopped = True
            result.status = INTERRUPTED
        except BaseException as exc:  # recorded, then the next backend runs
            if _holds_interrupt(exc):
                stopped = True
                result.status = INTERRUPTED
            else:
                result.status = FAILED
                result.error = one_line(exc)
        gc.collect()  # release this table before the next one is built
        if stopped:
            break
    run.complete = not stopped and all(r.status == COMPLETE for r in run.results)
    run.finished = environment.now_iso()
    return run


def _holds_interrupt(exc: BaseException) -> bool:
    """A group of exceptions (from a plugin's task group) with a Ctrl-C in
    it is still the user's stop, not the backend's failure."""
    return (
        isinstance(exc, BaseExceptionGroup)
        and exc.subgroup(KeyboardInterrupt) is not None
    )


def _run_one(
    workload: Workload,
    spec: BackendSpec,
    result: BackendResult,
    progress: Progress,
    interrupted: Callable[[], bool],
) -> bool:
    table = create_table(spec)
    result.options = effective_options(spec, table)
    config = workload.config
    model = Conntrack(
        table,
        Limits(conn_limit=config.conn_limit),
        thread_safe=workload.thread_safe,
        verify_l4=getattr(config, "verify_l4", True),
        # A thread-safe model's columns are allocated once: a workload that
        # shares its model says how many slots it needs (shared_slots()).
        capacity=getattr(workload, "slots", None),
    )
    label = result.label

    def report(stage: str, done: int, total: int) -> None:
        progress(label, stage, done, total)

    turn = Turn(spec, result, model, report, interrupted)
    with gc_frozen(not config.gc_enabled):
        try:
            stopped = workload.run(turn)
        except KeyboardInterrupt:
            result.status = INTERRUPTED
            return True
    result.status = INTERRUPTED if stopped else COMPLETE
    return stopped
