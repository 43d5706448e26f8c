"""How the CLI tests run ctbench: through its real entry point, main().

``run_cli`` runs it in-process, exit status included (the funnel in
``ctbench.cli.main`` turns errors into one line and a status); ``run_process``
runs the installed module in a real process, for what only a process shows
(signals, pipes, the interpreter's exit).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from click.testing import CliRunner

from ctbench.cli import main
from tests.helpers.paths import ROOT


class CliResult(NamedTuple):
    code: int
    out: str
    err: str


def run_cli(*args: object, env: Mapping[str, str | None] | None = None) -> CliResult:
    """``ctbench ARGS`` in this process: exit status, stdout, stderr."""
    with CliRunner().isolation(env=env) as streams:
        stdout, stderr = streams[0], streams[1]
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        out = stdout.getvalue().decode("utf-8", "replace")
        err = stderr.getvalue().decode("utf-8", "replace")
    return CliResult(code, out, err)


def assert_one_line_error(
    result: CliResult | subprocess.CompletedProcess[str],
    *,
    status: int = 2,
    prefix: str = "ctbench: error: ",
) -> str:
    """The project's standard for bad input: exit status 2 (or STATUS),
    nothing on stdout, and one line on stderr, ``ctbench: error: ...``, never
    a traceback.  Returns that line, for the test to check its words."""
    if isinstance(result, CliResult):
        code, out, err = result
    else:
        code, out, err = result.returncode, result.stdout, result.stderr
    assert code == status, (code, err)
    assert out == "", out
    assert err.startswith(prefix), err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err


def run_process(
    *args: object,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``python -m ctbench ARGS`` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "ctbench", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=None if env is None else dict(env),
        timeout=timeout,
    )


# ctbench in a process of its own that says, by files in MARKS, when its
# rounds have begun ("running") and when its results file is being written
# ("writing"), and takes WRITE_S seconds over that write, so that a test
# can act (send a signal, start a second run) at those moments.
_MARKED_RUN = """
import os, sys, time
from pathlib import Path
from ctbench.cli import main
from ctbench.cli.progress_display import ProgressDisplay

marks, write_s = Path(sys.argv[1]), float(sys.argv[2])
real_call = ProgressDisplay.__call__
real_fsync = os.fsync

def call(self, backend, stage, done, total):
    real_call(self, backend, stage, done, total)
    if stage == "iterations" and done == 1:
        (marks / "running").touch()

def slow_fsync(fd):
    (marks / "writing").touch()
    deadline = time.monotonic() + write_s
    while time.monotonic() < deadline:
        time.sleep(0.01)
    real_fsync(fd)

ProgressDisplay.__call__ = call
os.fsync = slow_fsync
main(sys.argv[3:])
"""


def start_marked_run(
    marks: Path, *args: object, write_s: float = 0
) -> subprocess.Popen[str]:
    """``ctbench ARGS`` in a process that marks its moments (see above)."""
    return subprocess.Popen(
        [sys.executable, "-c", _MARKED_RUN, str(marks), str(write_s)]
        + [str(a) for a in args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def wait_for(mark: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    """Until ``mark`` exists; fails if the process ends first."""
    deadline = time.monotonic() + timeout
    while not mark.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"no {mark.name} after {timeout} s"
        time.sleep(0.01)
