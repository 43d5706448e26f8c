"""The rich progress display on stderr, and the Ctrl-C flag.  CLI side only:
the scenarios report through a callback and poll the flag between phases."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Interrupt:
    """Set by the first Ctrl-C; a second one raises KeyboardInterrupt."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    @contextmanager
    def installed(self) -> Iterator[Interrupt]:
        previous = signal.signal(signal.SIGINT, self._handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


class ProgressDisplay:
    """One bar per backend and stage, with an ETA.  Silent when asked or when
    stderr is not a terminal."""

    def __init__(self, quiet: bool) -> None:
        console = Console(file=sys.stderr)
        self.enabled = not quiet and console.is_terminal
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not self.enabled,
        )
        self._tasks: dict[tuple[str, str], TaskID] = {}

    def __enter__(self) -> ProgressDisplay:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(None, None, None)

    def __call__(self, backend: str, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        key = (backend, stage)
        task = self._tasks.get(key)
        if task is None:
            task = self._progress.add_task(f"{backend}: {stage}", total=total)
            self._tasks[key] = task
        self._progress.update(task, completed=done, total=total)
