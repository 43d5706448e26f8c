"""The figures behind ctbench.disturbance's bounds: the same run alone and
beside a competing load (one busy-looping process per CPU), alternately,
printing what each run's disturbance record says.

For each run: the largest share of a phase's samples with an involuntary
context switch (at most, for a command whose count spans many samples),
other processes' CPU (with steal) in cores, the run's CPU share (its
thread's CPU over its wall time, or a threaded run's over what its threads
could have had: ctbench.disturbance.run_cpu_share), and the median of the
first backend's first phase.  A bound sits between the two groups; a
machine shared with other work makes the "alone" runs noisier than a quiet
machine's, so say so beside the figures.

    python -m bench.experiments.disturbance_bounds [--runs 3] [--args "1000 20 300"]
    python -m bench.experiments.disturbance_bounds --command benchmark \
        --args "2 200000 32"
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from ctbench.disturbance import (
    RUN_CPU,
    SWITCHED_ROUNDS,
    run_cpu_share,
    switched_share,
)

ROOT = Path(__file__).resolve().parents[2]


def spin() -> None:
    while True:
        pass


def one_run(command: str, args: list[str], out: Path) -> dict[str, float]:
    subprocess.run(
        [sys.executable, "-m", "ctbench", command, *args, "-q", "-o", str(out)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result = json.loads(out.read_text())["results"][0]
    record = result["extra"]["disturbance"]
    switched = max(switched_share(p) for p in record["phases"].values())
    others = (record.get("others_cpu_s", 0) + record.get("steal_s", 0)) / record[
        "wall_s"
    ]
    first = next(iter(result["phases"].values()))
    median = statistics.median(first["samples"])
    own = run_cpu_share(record) or 0.0
    return {"switched": switched, "others": others, "own": own, "median_us": median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--command", default="benchmark-zones")
    parser.add_argument("--args", default="1000 20 300")
    parser.add_argument("--backend", default="single")
    args = parser.parse_args()
    run_args = [*args.args.split(), "-b", args.backend]
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print("run        switched samples  others' cores  run's cpu share  median us")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        for i in range(args.runs):
            for loaded in (False, True):
                spinners = []
                if loaded:
                    spinners = [
                        multiprocessing.Process(target=spin, daemon=True)
                        for _ in range(os.cpu_count() or 1)
                    ]
                    for p in spinners:
                        p.start()
                try:
                    figures = one_run(args.command, run_args, out)
                finally:
                    for p in spinners:
                        p.terminate()
                        p.join()
                name = f"{'loaded' if loaded else 'alone'} {i + 1}"
                print(
                    f"{name:<10} {figures['switched']:>16.1%}  "
                    f"{figures['others']:>13.2f}  {figures['own']:>15.0%}  "
                    f"{figures['median_us']:>9.1f}"
                )
    print(
        f"bounds in use: switched samples {SWITCHED_ROUNDS:.0%}, "
        f"the run's cpu share under {RUN_CPU:.0%}"
    )


if __name__ == "__main__":
    main()
