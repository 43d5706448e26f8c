"""Real runs for history's tests: ctbench benchmark-zones runs of a test
backend, ``probe``, whose lookups do a set amount of extra work.

``probe`` is the single map with one change: ``ProbeTable.extra`` = (A, B)
makes A of every B lookups probe the map once more before the probe whose
answer counts ((0, 1): never), as a change to a lookup's code would cost
more work per lookup.
Setting it between runs puts a real step into a project's history at a
known run; the lookup's own code is the same before and after, so the step
is the extra probes' work alone.  One extra probe per lookup measured 12%
more on execute without commit and 4% on execute with commit (whose
lookups are a smaller part of its work); (2, 3) puts in about two thirds
of that (tests/data/history/README.md has what the method measured).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers.cli import run_cli
from tests.helpers.probe import ProbeTable, probe_registered

# The scenario of every run: small, so a run takes about a second.
SCENARIO = ("benchmark-zones", "1000", "10", "30", "-q", "--memory-sample", "0")


def make_runs(
    directory: Path, count: int, step_at: int | None, extra: tuple[int, int]
) -> list[Path]:
    """``count`` runs of SCENARIO on ``probe`` into ``directory``, tagged
    run=1..count; from run ``step_at`` (1-based) on, with ``extra``
    (ProbeTable.extra)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    with probe_registered():
        for n in range(1, count + 1):
            slowed = step_at is not None and n >= step_at
            ProbeTable.extra = extra if slowed else (0, 1)
            path = directory / f"run-{n:02d}.json"
            code, _, err = run_cli(
                *SCENARIO, "-b", "probe", "--tag", f"run={n}", "-o", path
            )
            assert code == 0, err
            paths.append(path)
    ProbeTable.extra = (0, 1)
    return paths


def main(argv: Any = None) -> None:
    """python -m tests.helpers.history_runs DIR COUNT STEP_AT A B (STEP_AT 0: none)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    directory, (count, step_at, a, b) = Path(args[0]), map(int, args[1:5])
    make_runs(directory, count, step_at or None, (a, b))


if __name__ == "__main__":
    main()
