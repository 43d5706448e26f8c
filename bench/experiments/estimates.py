"""ctbench's run estimates (time and memory) against real runs.

Each point runs ``python -m ctbench ...`` in a process of its own, with
``-q --force -o FILE`` (the results file is part of the run's cost), and
takes its wall time and peak RSS (``os.wait4`` in a small helper that
starts it, as ``--ovstest`` measures a binary).  Beside them: the time
estimate, calibrated on this machine as the command line would calibrate it
for a long run, and the memory estimate the command line checks against
the memory available.  A point passes when both estimates are within 2x of
what was measured.

    python -m bench.experiments.estimates                 # the validation grid
    python -m bench.experiments.estimates --constants     # the per-round constants
    python -m bench.experiments.estimates --only Z1,R1    # some points of the grid

``--constants`` measures what the estimates take as constants, on points
that are not in the grid: a process's own RSS, the bytes each round (each
sample) adds, and the report's and results file's time per sample.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ctbench.backends import BackendSpec
from ctbench.capture.track import TrackConfig
from ctbench.estimate import (
    CALIBRATION_CONNS,
    calibrate,
    estimate_replay,
    estimate_threads,
    estimate_zones,
)
from ctbench.ovstest.runner import run_binary
from ctbench.render import lay_out
from ctbench.report.build import build_report
from ctbench.results.files import dumps
from ctbench.scenarios.benchmark import ThreadsConfig
from ctbench.scenarios.benchmark_zones import ZoneConfig, run_zones
from ctbench.scenarios.replay import (
    ReplayConfig,
    estimated_bytes,
    load_captures,
)

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = ROOT / "tests" / "data" / "captures"
# A point passes when each estimate is within this factor of the real run.
WITHIN = 2.0


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_bytes: int


def measure(args: list[str]) -> Measured:
    """``ctbench ARGS -q --force -o FILE`` in a process of its own, started
    by ovstest's small helper: Linux's ru_maxrss would carry this process's
    own peak (its calibrations) across a fork and exec."""
    with tempfile.TemporaryDirectory() as tmp:
        command = ["-m", "ctbench", *args, "-q", "--force"]
        command += ["-o", str(Path(tmp) / "run.json")]
        run = run_binary(Path(sys.executable), command, timeout_s=3 * 3600)
        if run.failure() is not None or run.peak_rss_bytes is None:
            raise SystemExit(f"estimates: {' '.join(args)}: {run.failure()}")
    return Measured(run.wall_s, run.peak_rss_bytes)


def _specs(backends: list[str]) -> tuple[BackendSpec, ...]:
    return tuple(BackendSpec.parse(b) for b in backends)


def zones_point(
    entries: int,
    zones: int,
    rounds: int,
    backends: list[str],
    conn_limit: int = 3_000_000,
) -> tuple[list[str], Callable[[], tuple[float, int]]]:
    args = ["benchmark-zones", str(entries), str(zones), str(rounds)]
    args += [f"--backend={b}" for b in backends]
    args += ["--conn-limit", str(conn_limit)]

    def estimate() -> tuple[float, int]:
        config = ZoneConfig(
            entries=entries,
            zones=zones,
            iterations=rounds,
            conn_limit=conn_limit,
            backends=_specs(backends),
        )
        seconds = estimate_zones(
            config.backends, entries, zones, rounds, conn_limit, calibrate_above=0
        ).seconds
        return seconds, config.estimated_bytes()

    return args, estimate


def threads_point(
    n_threads: int, n_pkts: int, batch_size: int, backends: list[str]
) -> tuple[list[str], Callable[[], tuple[float, int]]]:
    args = ["benchmark", str(n_threads), str(n_pkts), str(batch_size)]
    args += [f"--backend={b}" for b in backends]

    def estimate() -> tuple[float, int]:
        config = ThreadsConfig(
            n_threads=n_threads,
            n_pkts=n_pkts,
            batch_size=batch_size,
            backends=_specs(backends),
        )
        seconds = estimate_threads(
            config.backends,
            n_threads,
            config.batches_per_thread,
            batch_size,
            calibrate_above=0,
        ).seconds
        return seconds, config.estimated_bytes()

    return args, estimate


def replay_point(
    capture: str, repeat: int, batch_size: int, zones: int, backends: list[str]
) -> tuple[list[str], Callable[[], tuple[float, int]]]:
    path = CAPTURES / capture
    args = ["replay", str(path), "--repeat", str(repeat)]
    args += ["--batch-size", str(batch_size), "--zones", str(zones)]
    args += [f"--backend={b}" for b in backends]

    def estimate() -> tuple[float, int]:
        config = ReplayConfig(
            files=(str(path),),
            track=TrackConfig(batch_size=batch_size, zones=zones),
            repeat=repeat,
            backends=_specs(backends),
        )
        loaded = load_captures([path])
        seconds = estimate_replay(config, loaded, calibrate_above=0).seconds
        return seconds, estimated_bytes(config, loaded)

    return args, estimate


# The validation grid: none of these points is one --constants measures,
# and the corners are in: ENTRIES 1, ZONES 1 and 2, many rounds, every zone,
# a clipped fill, ENTRIES past the calibration's 4,096 frames.
GRID = {
    "Z1": zones_point(1, 1, 400_000, ["single"]),
    "Z2": zones_point(1, 2, 400_000, ["per-zone", "single"]),
    "Z3": zones_point(3, 2, 200_000, ["lazy-per-zone"]),
    "Z4": zones_point(50, 2, 40_000, ["sharded"]),
    "Z5": zones_point(1, 65534, 20, ["single"]),
    "Z6": zones_point(1000, 100, 2000, ["single", "per-zone"]),
    "Z7": zones_point(10_000, 300, 20, ["single"]),
    "Z8": zones_point(100_000, 20, 10, ["per-zone"]),
    "Z9": zones_point(20_000, 200, 10, ["single"], conn_limit=1_000_000),
    "T1": threads_point(1, 2_000_000, 1, ["single"]),
    "T2": threads_point(4, 1_000_000, 32, ["per-zone", "single"]),
    "R1": replay_point("mixed.pcap", 60_000, 1, 1, ["single"]),
    "R2": replay_point("tcp-http.fixcsum.pcap", 20_000, 32, 8, ["single", "per-zone"]),
}


def validate(names: list[str]) -> int:
    print(
        f"{'point':<5} {'command':<58} {'est s':>8} {'run s':>8} {'ratio':>6} "
        f"{'est MiB':>8} {'RSS MiB':>8} {'ratio':>6}  within {WITHIN:g}x"
    )
    failed = 0
    for name in names:
        args, estimate = GRID[name]
        seconds, peak = estimate()
        real = measure(args)
        t_ratio = seconds / real.seconds
        m_ratio = peak / real.peak_bytes
        ok = all(1 / WITHIN <= r <= WITHIN for r in (t_ratio, m_ratio))
        failed += not ok
        command = " ".join(a.replace(str(CAPTURES) + "/", "") for a in args)
        print(
            f"{name:<5} {command:<58} {seconds:8.1f} {real.seconds:8.1f} "
            f"{t_ratio:6.2f} {peak / 2**20:8.0f} {real.peak_bytes / 2**20:8.0f} "
            f"{m_ratio:6.2f}  {'yes' if ok else 'NO'}",
            flush=True,
        )
    print(f"{len(names) - failed} of {len(names)} points within {WITHIN:g}x")
    return 1 if failed else 0


def _slope(args: list[str], sizes: tuple[int, int], at: int) -> float:
    """Peak RSS bytes per unit of args[at] between its two sizes."""
    peaks = []
    for size in sizes:
        point = list(args)
        point[at] = str(size)
        peaks.append(measure(point).peak_bytes)
    return (peaks[1] - peaks[0]) / (sizes[1] - sizes[0])


def constants() -> None:
    base = measure(["benchmark-zones", "1", "2", "1", "-b", "single"])
    print(f"process peak RSS, benchmark-zones 1 2 1: {base.peak_bytes / 2**20:.1f} MiB")
    rounds = (100_000, 300_000)
    one = ["benchmark-zones", "1", "2", "N", "-b", "single", "--memory-sample", "0"]
    per_round = _slope(one, rounds, 3)
    print(f"bytes per round, ENTRIES 1, one backend: {per_round:,.0f}")
    big = ["benchmark-zones", "300", "10", "N", "-b", "single", "--memory-sample", "0"]
    per_round_big = _slope(big, (20_000, 60_000), 3)
    print(f"bytes per round, ENTRIES 300 (counts past 256): {per_round_big:,.0f}")
    two = [*one, "-b", "single"]
    per_round_two = _slope(two, rounds, 3)
    print(
        f"bytes per round, two backends: {per_round_two:,.0f} (an earlier "
        f"backend's round: {per_round_two - per_round:,.0f})"
    )
    replay = ["replay", str(CAPTURES / "mixed.pcap"), "--repeat", "N"]
    replay += ["--batch-size", "1", "-b", "single"]
    per_batch = _slope(replay, (10_000, 40_000), 3) / 52  # 52 one-packet batches
    print(f"replay: bytes per batch sample, one backend: {per_batch:,.1f}")
    replay_two = [*replay, "-b", "per-zone"]
    per_batch_two = _slope(replay_two, (10_000, 40_000), 3) / 52
    print(f"replay: bytes per batch sample, two backends: {per_batch_two:,.1f}")
    threads = ["benchmark", "1", "N", "1", "-b", "single"]
    per_thread_batch = _slope(threads, (500_000, 1_500_000), 2)
    print(f"benchmark: bytes per batch, one backend: {per_thread_batch:,.1f}")
    threads_two = [*threads, "-b", "per-zone"]
    per_thread_batch_two = _slope(threads_two, (500_000, 1_500_000), 2)
    print(f"benchmark: bytes per batch, two backends: {per_thread_batch_two:,.1f}")
    config = ZoneConfig(
        entries=1,
        zones=2,
        iterations=100_000,
        memory_sample=0,
        backends=_specs(["single", "per-zone"]),
    )
    run = run_zones(config)
    samples = sum(len(p.samples) for r in run.results for p in r.phases.values())
    start = time.perf_counter()
    lay_out(build_report(run), "patch")
    report = time.perf_counter() - start
    start = time.perf_counter()
    dumps(run)
    save = time.perf_counter() - start
    print(
        f"report {report / samples * 1e6:.2f} us and results file "
        f"{save / samples * 1e6:.2f} us per sample ({samples:,} samples)"
    )


def large_table(backend: str, entries: int = 10_000, zones: int = 300) -> None:
    """How much dearer a commit, a scanned node and a round are with ENTRIES x
    ZONES stored (3 M by default) than the calibration measures them, on a
    table of 32,768 connections and on its own largest table."""
    spec = BackendSpec(backend)
    config = ZoneConfig(
        entries=entries,
        zones=zones,
        iterations=10,
        memory_sample=0,
        conn_limit=0,
        backends=(spec,),
    )
    result = run_zones(config).results[0]
    stored = result.fill.stored
    median_s = {
        name: statistics.median(p.samples) / 1e6 for name, p in result.phases.items()
    }
    commit = result.fill.insert_us / 1e6 / stored
    scans_all = result.phases["flush_empty_zone"].counters.get("visited", 0) > 0
    visit = median_s["flush_empty_zone"] / stored if scans_all else 0.0
    harness = float(result.extra["harness_untimed_us_per_round"]) / 1e6
    round_s = sum(median_s.values()) - 2 * stored * visit + harness
    for table in (32_768, CALIBRATION_CONNS):
        small = calibrate(spec, entries, table)
        scaled = small.round * entries / small.frames
        print(
            f"{backend}, {stored:,} stored against a calibration on {table:,}: "
            f"commit {commit * 1e6:.2f} / {small.commit * 1e6:.2f} us = "
            f"x{commit / small.commit:.2f}, round {round_s * 1e3:.2f} / "
            f"{scaled * 1e3:.2f} ms = x{round_s / scaled:.2f}"
            + (
                f", scanned node {visit * 1e9:.1f} / {small.visit * 1e9:.1f} ns "
                f"= x{visit / small.visit:.2f}"
                if scans_all
                else ""
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--constants", action="store_true")
    parser.add_argument(
        "--large-table",
        action="store_true",
        help="how much dearer each cost is on a table of 3 M connections",
    )
    parser.add_argument("--only", help="comma-separated grid points, e.g. Z1,R2")
    opts = parser.parse_args()
    if opts.constants:
        constants()
        return
    if opts.large_table:
        for backend in ("single", "sharded", "per-zone"):
            large_table(backend)
        return
    names = opts.only.split(",") if opts.only else list(GRID)
    unknown = [n for n in names if n not in GRID]
    if unknown:
        parser.error(f"no grid point {', '.join(unknown)} (points: {', '.join(GRID)})")
    sys.exit(validate(names))


if __name__ == "__main__":
    main()
