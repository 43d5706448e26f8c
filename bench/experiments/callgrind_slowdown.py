"""How much slower a counted run is: ``--measure instructions`` and
``--measure cycles`` against ``--measure time``, for ctbench.estimate's
constants (CALLGRIND_SLOWDOWN, CALLGRIND_START_S, CALLGRIND_EDGE_S).

Each command runs in a process of its own (``-q --memory-sample 0
--force``), REPEAT times; the least of each figure is kept (the machine is
shared).  Three figures per measure:

- start: the command's wall time less the run's own (``wall_s``, the fill
  and the rounds), on a run of almost nothing (``benchmark-zones 1 1 1``):
  the interpreter and ctbench starting under valgrind;
- slowdown: the fill's time (``fill.insert_us``: 20,000 commits and no
  marked section) against the time run's;
- per edge: what a marked section's two dumps add, from a run of 1,000
  sections of one frame each: its rounds' time less the time run's
  rounds times the slowdown, over its 2,000 edges.

    python -m bench.experiments.callgrind_slowdown
    python -m bench.experiments.callgrind_slowdown --repeat 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

COUNTED = ("instructions", "cycles")
TINY = ("benchmark-zones", "1", "1", "1", "-b", "single")
FILL = ("benchmark-zones", "2000", "10", "1", "-b", "single")
ROUNDS = 250  # of four sections each
EDGES = ("benchmark-zones", "1", "1", str(ROUNDS), "-b", "single")


def one(args: tuple[str, ...], measure: str, out: Path) -> dict[str, Any]:
    """The command's wall time, and the run's own figures, seconds."""
    command = [sys.executable, "-m", "ctbench", *args, "-q", "--memory-sample", "0"]
    command += ["--measure", measure, "--force", "-o", str(out)]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    result = json.loads(out.read_text())["results"][0]
    fill = result["fill"]["insert_us"] / 1e6
    run = float(result["extra"]["wall_s"])
    return {"start": wall - run, "fill": fill, "rounds": run - fill}


def least(args: tuple[str, ...], measure: str, repeat: int, out: Path) -> Any:
    runs = [one(args, measure, out) for _ in range(repeat)]
    return {key: min(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    with TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        fill_time = least(FILL, "time", repeat, out)["fill"]
        rounds_time = least(EDGES, "time", repeat, out)["rounds"]
        for measure in COUNTED:
            start = least(TINY, measure, repeat, out)["start"]
            slowdown = least(FILL, measure, repeat, out)["fill"] / fill_time
            rounds = least(EDGES, measure, repeat, out)["rounds"]
            edge = (rounds - slowdown * rounds_time) / (2 * 4 * ROUNDS)
            print(
                f"{measure:<12} start {start:5.1f} s  slowdown x{slowdown:.0f} "
                f"(fill {fill_time:.3f} s as a time run)  per edge "
                f"{edge * 1e3:.1f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
