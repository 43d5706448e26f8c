"""How the CLI tests run ctbench: through its real entry point, main().

``run_cli`` runs it in-process, exit status included (the funnel in
``ctbench.cli.main`` turns errors into one line and a status); ``run_process``
runs the installed module in a real process, for what only a process shows
(signals, pipes, the interpreter's exit).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from click.testing import CliRunner

from ctbench.cli import main

ROOT = Path(__file__).resolve().parents[1]


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
