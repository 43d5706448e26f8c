"""What the scenarios share: the progress callback, the config error, the
paused garbage collector, and the loop that runs each backend in turn."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ctbench import __version__, environment
from ctbench.backends import BackendSpec
from ctbench.results import BackendResult, RunResult

# progress(backend label, stage, done, total): called between timed sections.
Progress = Callable[[str, str, int, int], None]


class ConfigError(ValueError):
    """An argument outside what ovstest (or ctbench) accepts."""


@contextmanager
def gc_paused(enabled: bool) -> Iterator[None]:
    """Keep the cyclic collector out of the timed phases: collect once, freeze
    what exists, disable it; restore on the way out.  Connections hold no
    cycles, so nothing is lost, and a collection can no longer land inside a
    sample at random."""
    if enabled:
        yield
        return
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def no_progress(backend: str, stage: str, done: int, total: int) -> None:
    pass


def never() -> bool:
    return False


def new_run(command: str, params: dict[str, Any]) -> RunResult:
    return RunResult(
        command=command,
        params=params,
        environment=environment.describe(),
        started=environment.now_iso(),
        harness=environment.timer_overhead_ns(),
        tool_version=__version__,
    )


def run_backends(
    run: RunResult,
    specs: Iterable[BackendSpec],
    run_one: Callable[[BackendSpec, BackendResult], bool],
    interrupted: Callable[[], bool],
) -> RunResult:
    """Run ``run_one`` for each backend in turn, one table alive at a time.

    ``run_one`` fills the result it is given as it goes and returns whether it
    was interrupted; the run then stops, keeping what was gathered, and is
    marked incomplete.
    """
    specs = list(specs)
    stopped = False
    try:
        for spec in specs:
            if interrupted():
                stopped = True
                break
            result = BackendResult(backend=spec.name, options=dict(spec.options))
            run.results.append(result)
            stopped = run_one(spec, result)
            gc.collect()  # release this table before the next one is built
            if stopped:
                break
    except KeyboardInterrupt:
        stopped = True
    run.complete = not stopped and len(run.results) == len(specs)
    run.finished = environment.now_iso()
    return run
