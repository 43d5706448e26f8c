"""Stand-ins for an ovstest binary: small Python scripts the tests write
into a temporary directory and make executable.  Each answers the binary
check (``test-conntrack benchmark-zones 1 1 1``) with ovstest's real output
for it, unless told otherwise, and then does what the test needs for the
real run: replay a real output, hang, crash, fail, or print garbage."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from tests.helpers.paths import OVSTEST_DATA

CHECK_OUTPUT = OVSTEST_DATA / "local-benchmark-zones-1-1-1.after.txt"
CHECK_ARGS = ["test-conntrack", "benchmark-zones", "1", "1", "1"]

# What a stand-in does for the real run (or for the check, with check=).
REPLAY = "sys.stdout.write(pathlib.Path({path!r}).read_text())"
HANG = "time.sleep(600)"
CRASH = "os.kill(os.getpid(), signal.SIGSEGV)"
FAIL = "sys.stderr.write('test-conntrack: boom\\n'); sys.exit(3)"
GARBAGE = "sys.stdout.write('\\x00\\x01 not a table\\n| x | y |\\n' * 50)"


def replay(name: str) -> str:
    return REPLAY.format(path=str(OVSTEST_DATA / name))


def stand_in(
    directory: Path,
    name: str,
    run: str,
    check: str | None = None,
    record: Path | None = None,
) -> Path:
    """An executable script: ``check`` (default: the real check output) for
    the binary check, ``run`` otherwise; ``record`` gets each argv, a line
    each."""
    path = directory / name
    check_code = check or REPLAY.format(path=str(CHECK_OUTPUT))
    record_code = (
        f"open({str(record)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')"
        if record
        else "pass"
    )
    path.write_text(
        f"#!{sys.executable}\n"
        "import os, pathlib, signal, sys, time\n"
        f"{record_code}\n"
        f"if sys.argv[1:] == {CHECK_ARGS!r}:\n"
        f"    {check_code}\n"
        "else:\n"
        f"    {run}\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path
