"""How much slower a counted run is: ``--measure instructions`` and
``--measure cycles`` against ``--measure time``, for the constants of
ctbench.estimate (CALLGRIND_SLOWDOWN, CALLGRIND_START_S, CALLGRIND_EDGE_S).

Each command runs in a process of its own, ``-q --memory-sample 0`` where
it applies, REPEAT times; the least wall time of each is kept (the machine
is shared).  Printed per command and measure: the whole command's wall
time, and the run's own time as it records it (benchmark-zones'
``wall_s``: the fill and the rounds, without the interpreter's start),
with its ratio to the time run's.  A tiny run (``benchmark-zones 1 1 1``)
gives the start-up cost under callgrind; runs of many short sections give
the cost of a dump per section edge.

    python -m bench.experiments.callgrind_slowdown
    python -m bench.experiments.callgrind_slowdown --repeat 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MEASURES = ("time", "instructions", "cycles")
# Work of a few seconds as a time run: its fill and rounds dominate.
WORK = ("benchmark-zones", "5000", "20", "40", "-b", "single")
# The interpreter and ctbench starting, nearly nothing else.
TINY = ("benchmark-zones", "1", "1", "1", "-b", "single")
# Many sections of almost no work: 4 x 3,000 of one frame each.
EDGES = ("benchmark-zones", "1", "1", "3000", "-b", "single")


def one(args: tuple[str, ...], measure: str, out: Path) -> tuple[float, float]:
    """The command's wall time and the run's own (``wall_s``), seconds."""
    command = [sys.executable, "-m", "ctbench", *args, "-q", "--memory-sample", "0"]
    command += ["--measure", measure, "--force", "-o", str(out)]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    doc = json.loads(out.read_text())
    return wall, float(doc["results"][0]["extra"]["wall_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        for args in (TINY, EDGES, WORK):
            base = None
            for measure in MEASURES:
                walls, runs = zip(
                    *(one(args, measure, out) for _ in range(repeat)), strict=True
                )
                wall, run = min(walls), min(runs)
                base = run if measure == "time" else base
                ratio = f"x{run / base:.0f}" if base else ""
                print(
                    f"{' '.join(args):<44} {measure:<12} command {wall:7.2f} s  "
                    f"run {run:7.2f} s  {ratio}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
