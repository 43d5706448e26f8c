"""A/B the model at another revision against the working tree, side by side.

Loads ctbench's whole package as it is at a git revision, under another name
(``ctbench_at_rev``), with that revision's backends, beside the working
tree's.  It builds one model of each over the same design with the same fill,
then alternates the two for every operation and keeps each one's minimum.
Interleaving in one process makes the ratio robust to a noisy machine, where
two separate runs are not.

    python -m bench.experiments.ab_model --rev HEAD~3 --zones 100 --entries 10000
    python -m bench.experiments.ab_model --rev main --zones 300 \\
        --conn-limit 3000000 --rounds 20

With --bookkeeping (no --rev), it A/Bs the harness instead: the working
tree's model alone, each operation timed bare and timed with benchmark-zones'
disturbance bookkeeping around it (an involuntary-switch read just outside
each clock pair, ctbench.disturbance), alternately; it prints each phase's
minimum both ways, their ratio (the bookkeeping's effect on the sample), and
what the two reads cost beside the phase (harness time, outside samples).

    python -m bench.experiments.ab_model --bookkeeping --zones 100 \\
        --entries 1000 --rounds 200

With --threaded (and --rev), it A/Bs ``benchmark``'s work instead: a
thread-safe model of each revision (``Conntrack(..., thread_safe=True)``, as
``ctbench benchmark`` builds it), driven from one thread by ovstest's
32-frame batches with commit in zone 0, and with CHANGE_CONN (each frame of
the batch a connection of its own).  A sample is --batches executes of one
batch, so that it is well above the clock's resolution; the first execute
creates the connections and is not timed.

    python -m bench.experiments.ab_model --rev 973be8b --threaded --rounds 30
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from ctbench import backends as current_backends
from ctbench import model as current_model
from ctbench.backends import BackendSpec
from ctbench.disturbance import involuntary_switches
from ctbench.packets import ovstest_frame
from ctbench.scenarios.benchmark_zones import build_frames

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_AT_REV = "ctbench_at_rev"
_IMPORT = re.compile(r"\b(from|import) ctbench(?=[\s.])")


def _refuse(message: str) -> NoReturn:
    """A one-line error and exit status 2, as ctbench gives for bad input."""
    print(f"ab_model: {message}", file=sys.stderr)
    raise SystemExit(2)


def _git(*args: str) -> bytes:
    done = subprocess.run(["git", *args], capture_output=True, cwd=ROOT)
    if done.returncode:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        _refuse(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return done.stdout


def _import_package(package: Path) -> None:
    """Imports the package in folder PACKAGE under the folder's name, so that
    its submodules import from there, without putting its parent on sys.path
    (importlib's documented recipe for importing a source file directly)."""
    spec = importlib.util.spec_from_file_location(
        package.name,
        package / "__init__.py",
        submodule_search_locations=[str(package)],
    )
    if spec is None or spec.loader is None:
        _refuse(f"cannot import {package}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[package.name] = module
    spec.loader.exec_module(module)


class Revision:
    """ctbench's package at ``rev``, imported as ctbench_at_rev, and its
    backends by name."""

    def __init__(self, rev: str) -> None:
        commit = _git("rev-parse", "--verify", f"{rev}^{{commit}}").decode().strip()
        directory = Path(tempfile.mkdtemp(prefix="ctbench-ab-"))
        with tarfile.open(
            fileobj=io.BytesIO(_git("archive", commit, "ctbench"))
        ) as tar:
            tar.extractall(directory, filter="data")
        package = directory / PACKAGE_AT_REV
        (directory / "ctbench").rename(package)
        for source in package.rglob("*.py"):
            text = source.read_text()
            source.write_text(_IMPORT.sub(rf"\1 {PACKAGE_AT_REV}", text))
        _import_package(package)
        self.commit = commit
        self.model = importlib.import_module(f"{PACKAGE_AT_REV}.model")
        project = tomllib.loads(_git("show", f"{commit}:pyproject.toml").decode())
        self._entry_points: dict[str, str] = project["project"]["entry-points"][
            "ctbench.backends"
        ]

    def table(self, spec: BackendSpec) -> Any:
        target = self._entry_points.get(spec.name)
        if target is None:
            _refuse(f"{spec.name!r} is not a backend at {self.commit[:12]}")
        module, _, name = target.partition(":")
        module = module.replace("ctbench", PACKAGE_AT_REV, 1)
        factory = getattr(importlib.import_module(module), name)
        return factory(**dict(spec.options))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / 1e3


def timed_with_bookkeeping(fn: Callable[[], object]) -> tuple[float, float]:
    """The sample as benchmark-zones takes it, with the switch reads around
    the clock pair; and the whole, reads included, in microseconds."""
    outer = time.perf_counter_ns()
    involuntary_switches()
    start = time.perf_counter_ns()
    fn()
    end = time.perf_counter_ns()
    involuntary_switches()
    return (end - start) / 1e3, (time.perf_counter_ns() - outer) / 1e3


def bookkeeping(args: argparse.Namespace, frames: list[bytes]) -> None:
    """Bare against with-bookkeeping, interleaved on one model per backend."""
    print(
        f"bookkeeping off/on, min of {args.rounds} interleaved rounds, "
        "microseconds; on/off ratio of the sample; the reads' cost beside it"
    )
    for backend in args.backend or ["single", "per-zone"]:
        spec = BackendSpec.parse(backend)
        ct = current_model.Conntrack(
            current_backends.create_table(spec), current_model.Limits(args.conn_limit)
        )
        for zone in range(args.zones):
            ct.execute(frames, zone, True, 0)
        ops: dict[str, Callable[[], object]] = {
            "flush full zone": partial(ct.flush, 1),
            "ct execute (commit)": partial(ct.execute, frames, 1, True, 0),
            "ct execute (no commit)": partial(ct.execute, frames, 1, False, 0),
            "flush empty zone": partial(ct.flush, 65535),
        }
        best: dict[tuple[str, str], float] = {}
        for i in range(args.rounds):
            # Which goes first alternates, so neither always follows the other.
            for with_reads in (i % 2 == 0, i % 2 == 1):
                for op, fn in ops.items():
                    if with_reads:
                        sample, whole = timed_with_bookkeeping(fn)
                        best[(op, "whole")] = min(best.get((op, "whole"), whole), whole)
                    else:
                        sample = timed(fn)
                    key = (op, "on" if with_reads else "off")
                    best[key] = min(best.get(key, sample), sample)
        print(f"{backend}:")
        for op in PHASES:
            off, on = best[(op, "off")], best[(op, "on")]
            reads = best[(op, "whole")] - on
            print(
                f"  {op:<24} off {off:10.2f}  on {on:10.2f}  ratio {on / off:5.3f}"
                f"  reads {reads:6.2f} us ({reads / off:.1%} of the phase)"
            )


def threaded(args: argparse.Namespace, old: Revision) -> None:
    """benchmark's batches on each revision's thread-safe model, interleaved."""
    batch = args.batch_size
    # test-conntrack.c: source port 1 + thread index, destination port 2;
    # CHANGE_CONN gives each frame of the batch its own destination port.
    batches = {
        "benchmark": [ovstest_frame(1, 2)] * batch,
        "benchmark CHANGE_CONN": [ovstest_frame(1, 2 + i) for i in range(batch)],
    }
    print(
        f"old = {old.commit[:12]}, new = the working tree; thread-safe models, "
        f"{args.batches} executes of {batch} frames a sample, min of "
        f"{args.rounds} interleaved rounds, microseconds; new/old ratio"
    )
    for backend in args.backend or ["single", "per-zone"]:
        spec = BackendSpec.parse(backend)
        best: dict[tuple[str, str], float] = {}
        models: dict[str, dict[str, Any]] = {}
        tables = {
            name: {w: factory(spec) for w in batches}
            for name, factory in (
                ("old", old.table),
                ("new", current_backends.create_table),
            )
        }
        for name, model_module in (("old", old.model), ("new", current_model)):
            models[name] = {}
            for workload, frames in batches.items():
                ct = model_module.Conntrack(
                    tables[name][workload],
                    model_module.Limits(args.conn_limit),
                    thread_safe=True,
                )
                ct.execute(frames, 0, True, 0)
                models[name][workload] = ct
        for i in range(args.rounds):
            order = ("old", "new") if i % 2 == 0 else ("new", "old")
            for name in order:
                for workload, frames in batches.items():
                    execute = models[name][workload].execute
                    start = time.perf_counter_ns()
                    for _ in range(args.batches):
                        execute(frames, 0, True, 0)
                    t = (time.perf_counter_ns() - start) / 1e3
                    key = (workload, name)
                    best[key] = min(best.get(key, t), t)
        print(f"{backend}:")
        for workload in batches:
            o, n = best[(workload, "old")], best[(workload, "new")]
            print(f"  {workload:<24} old {o:10.1f}  new {n:10.1f}  ratio {n / o:5.2f}")
        del models, tables
        gc.collect()


PHASES = (
    "ct execute (commit)",
    "ct execute (no commit)",
    "flush full zone",
    "flush empty zone",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev")
    parser.add_argument(
        "--bookkeeping",
        action="store_true",
        help="A/B the disturbance bookkeeping on the working tree (no --rev)",
    )
    parser.add_argument("--zones", type=int, default=100)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--conn-limit",
        type=int,
        default=0,
        help="table limit (0: none); 3000000 with --zones 1000 fills like the "
        "headline run, refused commits and all",
    )
    parser.add_argument("--backend", action="append", default=None)
    parser.add_argument(
        "--threaded",
        action="store_true",
        help="A/B benchmark's 32-frame executes on thread-safe models (--rev)",
    )
    parser.add_argument("--batches", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    if args.bookkeeping == bool(args.rev):
        _refuse("give either --rev REV or --bookkeeping")
    if args.threaded and args.bookkeeping:
        _refuse("--threaded A/Bs two revisions: give it with --rev, not --bookkeeping")
    frames = build_frames(args.entries)
    gc.collect()
    gc.freeze()
    gc.disable()
    if args.bookkeeping:
        bookkeeping(args, frames)
        return
    old = Revision(args.rev)
    if args.threaded:
        threaded(args, old)
        return
    print(
        f"old = {old.commit[:12]}, new = the working tree; min of {args.rounds} "
        "interleaved rounds, microseconds; new/old ratio"
    )
    for backend in args.backend or ["single", "per-zone"]:
        spec = BackendSpec.parse(backend)
        current_backends.backend_kwargs(spec)
        models: dict[str, Any] = {}
        fill: dict[str, float] = {}
        tables = (old.table(spec), current_backends.create_table(spec))
        for name, model_module, table in zip(
            ("old", "new"), (old.model, current_model), tables, strict=True
        ):
            ct = model_module.Conntrack(table, model_module.Limits(args.conn_limit))
            start = time.perf_counter_ns()
            for zone in range(args.zones):
                ct.execute(frames, zone, True, 0)
            fill[name] = (time.perf_counter_ns() - start) / 1e3
            models[name] = ct
        best: dict[tuple[str, str], float] = {}
        for _ in range(args.rounds):
            for name, ct in models.items():
                ops: dict[str, Callable[[], object]] = {
                    "flush full zone": partial(ct.flush, 1),
                    "ct execute (commit)": partial(ct.execute, frames, 1, True, 0),
                    "ct execute (no commit)": partial(ct.execute, frames, 1, False, 0),
                    "flush empty zone": partial(ct.flush, 65535),
                }
                for op, fn in ops.items():
                    t = timed(fn)
                    best[(op, name)] = min(best.get((op, name), t), t)
        attempts = args.zones * args.entries
        print(
            f"{backend}: fill ({attempts:,} attempts) old {fill['old'] / 1e3:.0f} ms, "
            f"new {fill['new'] / 1e3:.0f} ms, ratio {fill['new'] / fill['old']:.2f}"
        )
        for op in PHASES:
            o, n = best[(op, "old")], best[(op, "new")]
            print(f"  {op:<24} old {o:10.1f}  new {n:10.1f}  ratio {n / o:5.2f}")
        del models
        gc.collect()


if __name__ == "__main__":
    main()
