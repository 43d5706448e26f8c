"""A/B the model at another revision against the working tree, side by side.

Loads ``ctbench/model.py`` and ``ctbench/packets.py`` from a git revision as a
second model, builds one model of each over the same backend with the same
fill, then alternates the two for every operation and keeps each one's
minimum.  Interleaving in one
process makes the ratio robust to a noisy machine, where two separate runs
are not.

    python bench/ab_model.py --rev HEAD~3 --zones 100 --entries 10000
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from _repo import ROOT  # the working tree's ctbench first

from ctbench import model as current
from ctbench.backends import BackendSpec, create_table
from ctbench.scenarios.zones import build_batches


def _load(name: str, source: str, directory: Path) -> ModuleType:
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_revision(rev: str) -> ModuleType:
    """``ctbench/model.py`` at ``rev``, with the ``ctbench/packets.py`` of the
    same revision (parsing is part of what an execute costs); the backends
    are the working tree's."""

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "show", f"{rev}:{path}"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout

    directory = Path(tempfile.mkdtemp())
    _load("packets_at_rev", show("ctbench/packets.py"), directory)
    model = show("ctbench/model.py").replace(
        "from ctbench.packets import", "from packets_at_rev import"
    )
    return _load("model_at_rev", model, directory)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True)
    parser.add_argument("--zones", type=int, default=100)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--conn-limit",
        type=int,
        default=0,
        help="table limit (0: none); 3000000 with --zones 1000 fills like the "
        "headline run, refused commits and all (two 3 M tables: about 2.5 GB)",
    )
    parser.add_argument("--backend", action="append", default=None)
    args = parser.parse_args()
    old = load_revision(args.rev)
    batches = build_batches(args.entries, 1)
    gc.collect()
    gc.freeze()
    gc.disable()
    print(f"min of {args.rounds} interleaved rounds, microseconds; new/old ratio")
    for backend in args.backend or ["single", "per-zone"]:
        models: dict[str, Any] = {}
        fill: dict[str, float] = {}
        for name, mod in (("old", old), ("new", current)):
            ct = mod.Conntrack(
                create_table(BackendSpec(backend)), mod.Limits(args.conn_limit)
            )
            start = time.perf_counter_ns()
            for zone in range(args.zones):
                ct.execute_batches(batches, zone, True, 0)
            fill[name] = (time.perf_counter_ns() - start) / 1e3
            models[name] = ct
        best: dict[tuple[str, str], float] = {}
        for _ in range(args.rounds):
            for name, ct in models.items():
                ops = {
                    "flush full zone": lambda ct=ct: ct.flush(1),
                    "ct execute (commit)": lambda ct=ct: ct.execute_batches(
                        batches, 1, True, 0
                    ),
                    "ct execute (no commit)": lambda ct=ct: ct.execute_batches(
                        batches, 1, False, 0
                    ),
                    "flush empty zone": lambda ct=ct: ct.flush(65535),
                }
                for op, fn in ops.items():
                    t = timed(fn)
                    best[(op, name)] = min(best.get((op, name), t), t)
        print(
            f"{backend}: fill old {fill['old'] / 1e3:.0f} ms, "
            f"new {fill['new'] / 1e3:.0f} ms"
        )
        for op in (
            "ct execute (commit)",
            "ct execute (no commit)",
            "flush full zone",
            "flush empty zone",
        ):
            o, n = best[(op, "old")], best[(op, "new")]
            print(f"  {op:<24} old {o:10.1f}  new {n:10.1f}  ratio {n / o:5.2f}")
        del models
        gc.collect()


if __name__ == "__main__":
    main()
