"""A prototype of issue 23's instruction counts, outside ctbench's commands:
the zone benchmark's four operations on the working tree's model, each
bracketed by os.sched_yield() and run under valgrind's callgrind with
--dump-before=sched_yield, so that each even-numbered dump's "summary:" line
is one operation's instruction count.

It runs the same work twice per backend (PYTHONHASHSEED fixed), checks that
callgrind made exactly two dumps per marked operation, and prints each
phase's median count, the two runs' spread, and the second backend against
the first.  ctbench's own --measure instructions does not exist yet.

    python -m bench.experiments.callgrind_counts --entries 200 --zones 3 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ctbench import backends, model
from ctbench.backends import BackendSpec
from ctbench.scenarios.benchmark_zones import build_frames

ROOT = Path(__file__).resolve().parents[2]

PHASES: tuple[str, ...] = (
    "flush full zone",
    "ct execute (commit)",
    "ct execute (no commit)",
    "flush empty zone",
)
HASH_SEED = "0"
_DUMP = re.compile(r"\.(\d+)-01$")  # OUT.N-TT, thread 01 the main thread


def child(args: argparse.Namespace) -> None:
    """The marked work: run under callgrind by the parent."""
    frames = build_frames(args.entries)
    spec = BackendSpec.parse(args.backend)
    ct = model.Conntrack(backends.create_table(spec), model.Limits(0))
    for zone in range(args.zones):
        ct.execute(frames, zone, True, 0)
    ops: list[Callable[[], object]] = [
        partial(ct.flush, 1),
        partial(ct.execute, frames, 1, True, 0),
        partial(ct.execute, frames, 1, False, 0),
        partial(ct.flush, 65535),
    ]
    for _ in range(args.rounds):
        for op in ops:
            os.sched_yield()
            op()
            os.sched_yield()


def counted(args: argparse.Namespace, backend: str) -> dict[str, list[int]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        valgrind = shutil.which("valgrind")
        if valgrind is None:
            sys.exit("callgrind_counts: valgrind is not on PATH")
        command = [valgrind, "--tool=callgrind", "--dump-before=sched_yield"]
        command += ["--separate-threads=yes", f"--callgrind-out-file={out}"]
        command += [sys.executable, __file__, "--child", "--backend", backend]
        command += ["--entries", str(args.entries), "--zones", str(args.zones)]
        command += ["--rounds", str(args.rounds)]
        env = {**os.environ, "PYTHONHASHSEED": HASH_SEED}
        subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
        dumps: dict[int, int] = {}
        for path in Path(tmp).iterdir():
            match = _DUMP.search(path.name)
            if match:
                text = path.read_text(errors="replace")
                summary = next(x for x in text.splitlines() if x.startswith("summary:"))
                dumps[int(match.group(1))] = int(summary.split()[1])
    sections = args.rounds * len(PHASES)
    if len(dumps) != 2 * sections:
        sys.exit(f"callgrind_counts: {len(dumps)} dumps for {sections} sections")
    counts = [dumps[n] for n in sorted(dumps)][1::2]
    return {p: counts[i :: len(PHASES)] for i, p in enumerate(PHASES)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", action="append", default=None)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--zones", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.child:
        args.backend = args.backend[0]
        child(args)
        return
    names = args.backend or ["single", "per-zone"]
    medians: dict[str, dict[str, float]] = {}
    print(f"instructions per operation, median of {args.rounds} rounds")
    for backend in names:
        runs = [counted(args, backend) for _ in range(2)]
        medians[backend] = {}
        for phase in PHASES:
            a, b = (statistics.median(run[phase]) for run in runs)
            medians[backend][phase] = a
            spread = abs(b - a) / a if a else 0.0
            print(
                f"{backend:<9} {phase:<24} run 1 {a:>12,.0f}  run 2 {b:>12,.0f}  "
                f"spread {spread:.4%}"
            )
    if len(names) > 1:
        base, other = names[0], names[1]
        for phase in PHASES:
            ratio = medians[other][phase] / medians[base][phase]
            print(f"{other}/{base} {phase:<24} {ratio:.3f}")


if __name__ == "__main__":
    main()
