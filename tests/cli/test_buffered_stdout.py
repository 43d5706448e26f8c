"""A full standard output with Python's own buffering, as users run it.

Shells that set PYTHONUNBUFFERED (as some sessions and CI images do) hide
the case: with a buffer, what ctbench wrote stays buffered after the
one-line error, and the interpreter's final flush failed again, printed
"Exception ignored on flushing sys.stdout" and exited 120.  tox, which
passes a clean environment, showed it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.paths import ROOT


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["backends"], ["--help"]])
def test_a_full_buffered_stdout_is_one_line_and_status_2(args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "ctbench", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
    assert proc.stderr.splitlines() == [
        "ctbench: error: cannot write standard output: No space left on device"
    ]
    assert proc.returncode == 2
