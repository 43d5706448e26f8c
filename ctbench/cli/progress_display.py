"""The rich progress display on stderr, and the stop flag.  CLI side only:
the scenarios report through a callback and poll the flag between phases."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final

import click
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

# The signals that stop a run and keep what it gathered: Ctrl-C, and what
# `timeout`, `kill` and a CI runner's cancellation send.
STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


# What the first signal promises, said at once on stderr: the scenarios look
# at the flag between calls into the table, never inside one.
STOPPING_NOTICE: Final = (
    "ctbench: {signal}: stopping once the call in progress returns; "
    "Ctrl-C again abandons it"
)


def to_stderr(text: str) -> None:
    """One line on stderr from a signal handler: a write that fails (stderr
    closed, or busy with the line the handler interrupted) loses the line,
    never the run."""
    try:
        click.echo(text, err=True)
    except (OSError, RuntimeError, ValueError):
        pass


class Interrupt:
    """Set by the first SIGINT or SIGTERM, which it remembers and answers
    with a line on stderr (``notice``); a second one raises
    KeyboardInterrupt, which the scenarios also stop on, wherever the main
    thread is: inside a backend's call, that call is abandoned.

    Once the run has stopped, :meth:`hold` makes a further signal wait
    until :meth:`release`, when the results file is written: raised in the
    middle of the write, the KeyboardInterrupt would remove the temporary
    file and lose the run (a 12 MB file takes 3.6 s to build and write,
    and ``timeout`` can send its signal twice by itself).
    """

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        self.notice: Callable[[str], None] = to_stderr
        self._holding = False
        self._held: signal.Signals | None = None

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def __call__(self) -> bool:
        return self.signal is not None

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is None:
            self.signal = signal.Signals(signum)
            if not self._holding:
                self.notice(STOPPING_NOTICE.format(signal=self.signal.name))
        elif self._holding:
            self._held = signal.Signals(signum)
        else:
            raise KeyboardInterrupt

    def hold(self) -> None:
        """From now on a further signal waits for :meth:`release`; a first
        one is recorded as ever (the run has ended, so nothing polls it)."""
        self._holding = True

    def release(self) -> signal.Signals | None:
        """End the hold; the further signal that came meanwhile, if any."""
        self._holding = False
        held, self._held = self._held, None
        return held

    @contextmanager
    def installed(self) -> Iterator[Interrupt]:
        previous = {s: signal.signal(s, self._handler) for s in STOP_SIGNALS}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            self.release()


def display_threads(quiet: bool) -> tuple[str, ...]:
    """The thread a ProgressDisplay starts, for the thread-limit check
    (ctbench.preflight.check_threads): one when it draws, since rich
    redraws the bars from a thread of its own (Live's auto-refresh)."""
    return ("the progress display",) if _draws(quiet, Console(file=sys.stderr)) else ()


def _draws(quiet: bool, console: Console) -> bool:
    return not quiet and console.is_terminal


class ProgressDisplay:
    """One bar per backend and stage, with an ETA.  Silent when asked or when
    stderr is not a terminal."""

    def __init__(self, quiet: bool) -> None:
        console = Console(file=sys.stderr)
        self.enabled = _draws(quiet, console)
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

    def notice(self, text: str) -> None:
        """A line on stderr above the bars (printed through the display, so
        that its next refresh does not draw over it)."""
        if not self.enabled:
            to_stderr(text)
            return
        try:
            self._progress.console.print(text, markup=False, highlight=False)
        except (OSError, RuntimeError, ValueError):
            pass

    def __call__(self, backend: str, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        key = (backend, stage)
        task = self._tasks.get(key)
        if task is None:
            task = self._progress.add_task(f"{backend}: {stage}", total=total)
            self._tasks[key] = task
        self._progress.update(task, completed=done, total=total)
