"""Checks made before any work: a run that the machine cannot hold or
that would take too long, an output that cannot be written.

Each refuses with a one-line :class:`ctbench.errors.CtbenchError`, before
the run rather than after it: a long run that ends on a full directory,
in a swap storm or after thousands of threads were started has been
wasted.  Nothing here prints; what is worth saying before a run starts is
returned for the command line to say.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from ctbench import environment, files
from ctbench.environment import available_memory
from ctbench.errors import CtbenchError, OutputError
from ctbench.estimate import QUIET_BELOW_S, REFUSE_ABOVE_S, Estimate
from ctbench.report.numbers import fmt_bytes, plural


class ResourceError(CtbenchError):
    """A run that would not fit the machine."""


def check_output(output: Path | None, inputs: Iterable[Path] = ()) -> None:
    """Refuse an unusable --output before any work, not after a long run:
    one that is an input (writing it would destroy what is read), one that
    cannot be created."""
    if output is None:
        return
    for source in inputs:
        if files.same_file(output, source):
            raise OutputError(
                f"--output {output} is the same file as the input {source}: "
                "name another file"
            )
    # Check what will be written: a symlink's target, beside which the
    # temporary file goes.
    path = Path(os.path.realpath(output))
    if path.exists() and not path.is_file():
        raise OutputError(f"--output {output}: not a regular file")
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"--output {output}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"--output {output}: directory {parent} is not writable")
    # os.access says yes to root anywhere, /proc and read-only mounts
    # included: create (and remove) a file where the real one will go.
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    except OSError as exc:
        raise OutputError(
            f"--output {output}: cannot create a file in {parent}: "
            f"{exc.strerror or exc}"
        ) from None
    os.close(fd)
    os.unlink(probe)


def check_threads(workers: int, helpers: Sequence[str] = ()) -> None:
    """Refuse, before the run, threads the machine cannot start: a run past
    the limit would fail only once thousands of threads were up.  Every
    thread the run starts counts: its N_THREADS ``workers`` and, beside
    them, each of ``helpers`` (what each is: create-rate's flusher or
    sweeper, the progress display's refresh thread)."""
    headroom = environment.thread_headroom()
    total = workers + len(helpers)
    if headroom is None or total <= headroom[0]:
        return
    room, limit = headroom
    started = plural(total, "thread")
    if helpers:
        started += f" ({plural(workers, 'worker')}, {', '.join(helpers)})"
    raise ResourceError(
        f"N_THREADS must be at most {max(room - len(helpers), 0):,} on this "
        f"machine (got {workers:,}): the run starts {started} and {limit} "
        "leaves no room for more"
    )


def check_memory(needed: int, conns: int, force: bool) -> None:
    available = available_memory()
    if force or available is None or needed <= available:
        return
    raise ResourceError(
        f"this run needs about {fmt_bytes(needed)} ({plural(conns, 'connection')} and "
        f"the run's packets and samples) but only {fmt_bytes(available)} is "
        "available; use smaller arguments, or --force"
    )


def check_time(estimate: Estimate, force: bool) -> str | None:
    """Refuse a run estimated over an hour (unless --force); for one over a
    minute, how long it will take, to say before it starts."""
    if estimate.seconds > REFUSE_ABOVE_S and not force:
        raise ResourceError(
            f"this run would take {estimate.words} (estimated from the "
            "work and a calibration of each backend on this machine); use "
            "smaller arguments, or --force"
        )
    if estimate.seconds > QUIET_BELOW_S:
        return f"this run should take {estimate.words}"
    return None
