"""Run an external binary with a time bound; measure its wall time and peak RSS.

:func:`run_binary` is the one way ctbench runs a program it did not write
(ovstest here; ``pcap --ovstest`` can use it too).  It returns what the
program printed, how long it took, its peak resident set and its exit
status, or raises :class:`BinaryError` with one line saying what went wrong
(missing, not executable, timed out, interrupted).  A nonzero exit or a
signal is returned, not raised: :meth:`BinaryRun.failure` words it, and the
caller decides.

Peak RSS: Linux's ``ru_maxrss`` of a process keeps the high-water mark of
the memory it had before ``exec`` (fs/exec.c, ``setmax_mm_hiwater_rss``), so
a binary started straight from ctbench reports at least ctbench's own peak
(71 MiB for ovstest's 64.5 MiB after a small run here, and gigabytes after a
large one).  A small helper (:data:`HELPER`, a bare ``python -I -S``) starts
the binary instead and measures it with ``os.wait4()``: the figure then
includes at most the helper's own few MiB (about 10 MiB here: a figure at
or below the helper's peak, :attr:`BinaryRun.rss_floor_bytes`, is an upper
bound, not the binary's), and the helper times the binary from spawn to
exit, without its own start-up.

The helper runs in its own session, so a Ctrl-C at the terminal reaches
ctbench (which keeps its results) and not the binary; on a timeout or an
interrupt the whole process group is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from ctbench.errors import CtbenchError

# How often ctbench looks at the stop flag while the binary runs: a Ctrl-C
# is acted on within this time; the helper's timing does not depend on it.
POLL_S: Final = 0.05
# What is kept of the program's output: ovstest prints a few hundred bytes;
# a program gone wrong may print without end.
MAX_OUTPUT_BYTES: Final = 1 << 20
# Linux's ru_maxrss is in KiB (getrusage(2)); macOS's in bytes.
RSS_UNIT: Final = 1 if sys.platform == "darwin" else 1024
# The helper: spawn argv[2:], wait for it, write its wait status, peak RSS
# and wall time as JSON to the file descriptor argv[1].
HELPER: Final = """
import json, os, sys, time
fd, argv = int(sys.argv[1]), sys.argv[2:]
floor = 0  # the helper's own high-water mark since its exec, in KiB
try:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                floor = int(line.split()[1])
except OSError:
    pass
start = time.perf_counter()
try:
    pid = os.posix_spawn(argv[0], argv, os.environ)
except OSError as exc:
    os.write(fd, json.dumps({"error": exc.strerror or str(exc)}).encode())
    sys.exit(127)
_, status, usage = os.wait4(pid, 0)
end = time.perf_counter()
report = {
    "status": status, "maxrss": usage.ru_maxrss, "floor": floor, "wall_s": end - start
}
os.write(fd, json.dumps(report).encode())
"""


class BinaryError(CtbenchError):
    """A binary that could not be run to its end: one line says why."""


class BinaryInterrupted(BinaryError):
    """The stop flag was raised while the binary ran; it was killed."""


@dataclass(frozen=True)
class BinaryRun:
    argv: tuple[str, ...]
    stdout: str
    stderr: str
    wall_s: float
    peak_rss_bytes: int | None
    # The exit status as subprocess reports it: negative for a signal.
    exit_status: int
    # The helper's own peak when it started the binary (Linux's VmHWM, which
    # an exec resets, unlike ru_maxrss): a peak_rss_bytes at or below it
    # only says the binary's peak was no higher.
    rss_floor_bytes: int | None = None

    @property
    def peak_rss_exact(self) -> bool:
        """Whether peak_rss_bytes is the binary's own, not an upper bound."""
        floor = self.rss_floor_bytes or 0
        return self.peak_rss_bytes is not None and self.peak_rss_bytes > floor

    def failure(self) -> str | None:
        """'exited with status 1: <last line on stderr>', 'killed by
        SIGSEGV', or None when it exited 0."""
        if self.exit_status == 0:
            return None
        if self.exit_status < 0:
            try:
                name = signal.Signals(-self.exit_status).name
            except ValueError:
                name = f"signal {-self.exit_status}"
            what = f"killed by {name}"
        else:
            what = f"exited with status {self.exit_status}"
        last = next(
            (
                line.strip()
                for line in reversed(self.stderr.splitlines())
                if line.strip()
            ),
            "",
        )
        return f"{what}: {last[:200]}" if last else what


def check_executable(path: Path, what: str | None = None) -> None:
    """Refuse, in one line, a path that cannot be run; ``what`` names it
    in the message (the path by default)."""
    what = what or str(path)
    if not path.exists():
        raise BinaryError(f"{what}: no such file")
    if path.is_dir():
        raise BinaryError(f"{what}: is a directory, not a program")
    if not os.access(path, os.X_OK):
        raise BinaryError(f"{what}: not executable (chmod +x?)")


def _read(file: IO[bytes], limit: int = MAX_OUTPUT_BYTES) -> str:
    file.seek(0)
    return file.read(limit).decode("utf-8", errors="replace")


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_binary(
    path: Path,
    args: Sequence[str],
    timeout_s: float,
    interrupted: Callable[[], bool] = lambda: False,
    what: str | None = None,
    max_output: int = MAX_OUTPUT_BYTES,
) -> BinaryRun:
    """Run ``path`` with ``args``, for at most ``timeout_s`` seconds.

    Raises BinaryError when it cannot start or runs past the bound, and
    BinaryInterrupted when ``interrupted()`` turns true meanwhile; either
    way the program and its children are killed first.  ``what`` names it
    in the messages (the path by default; ``--ovstest per-zone=PATH``).
    ``max_output`` bounds the bytes of standard output kept.
    """
    what = what or str(path)
    check_executable(path, what)
    argv = (str(path), *args)
    read_end, write_end = os.pipe()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", HELPER, str(write_end), *argv],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                pass_fds=(write_end,),
                start_new_session=True,
            )
        finally:
            os.close(write_end)
        with os.fdopen(read_end, "rb") as report_pipe:
            try:
                stopped = _wait(proc, time.perf_counter() + timeout_s, interrupted)
            finally:
                # Anything it left behind in its group; and on a second
                # Ctrl-C (KeyboardInterrupt), the binary itself.
                _kill_group(proc.pid)
                proc.wait()
            report = report_pipe.read()
        if stopped == "interrupted":
            raise BinaryInterrupted(f"{what}: interrupted, killed")
        if stopped == "timeout":
            raise BinaryError(
                f"{what}: no result within {timeout_s:g} s (hung?), killed"
            )
        try:
            measured = json.loads(report)
        except ValueError:
            raise BinaryError(
                f"{what}: the helper that runs it failed (exit status "
                f"{proc.returncode}): {_read(err).strip()[-200:]}"
            ) from None
        if "error" in measured:
            raise BinaryError(f"{what}: cannot run: {measured['error']}")
        maxrss, floor = int(measured["maxrss"]), int(measured["floor"])
        return BinaryRun(
            argv=argv,
            stdout=_read(out, max_output),
            stderr=_read(err),
            wall_s=float(measured["wall_s"]),
            peak_rss_bytes=maxrss * RSS_UNIT if maxrss else None,
            exit_status=os.waitstatus_to_exitcode(int(measured["status"])),
            rss_floor_bytes=floor * RSS_UNIT if floor else None,
        )


def _wait(
    proc: subprocess.Popen[bytes], deadline: float, interrupted: Callable[[], bool]
) -> str | None:
    """Wait for the helper; on the deadline or the stop flag kill its group
    and say which: "timeout" or "interrupted"."""
    while True:
        try:
            proc.wait(min(POLL_S, max(deadline - time.perf_counter(), 0)))
            return None
        except subprocess.TimeoutExpired:
            pass
        stopped = (
            "interrupted"
            if interrupted()
            else "timeout"
            if time.perf_counter() >= deadline
            else None
        )
        if stopped:
            _kill_group(proc.pid)
            proc.wait()
            return stopped
