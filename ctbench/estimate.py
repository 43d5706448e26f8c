"""How long a run will take, known before it starts.

The estimate is the run's work (how many commits, lookups, nodes visited and
removed, batches) times each operation's cost, measured on this machine by a
short calibration of each backend on a table of 32,768 connections.  Checked
against real runs: `benchmark-zones 10000 1000 1000` was estimated at 182-203
s and took 173 s; `10000 300 20` at 10 s and took 10-13 s (the small table's
costs per node are, if anything, higher than a large one's).

Calibrating costs about 0.1 s per backend, so it is done only when an upper
bound from generous fixed costs says the run could last more than a minute;
below that the run just starts.  The command line prints an estimate over a
minute and refuses one over an hour unless --force.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from ctbench.backends import BackendSpec, create_table
from ctbench.model import Conntrack, Limits
from ctbench.packets import ovstest_frame, zone_benchmark_ports

# Below this the run starts without a word; above it the estimate is shown.
QUIET_BELOW_S: Final = 60.0
# Above this a run is refused unless --force.
REFUSE_ABOVE_S: Final = 3600.0
# Generous per-operation costs, for the bound that decides whether to
# calibrate: 5-10x what this machine measured (README, "How fast is
# ctbench's model?": a commit costs 0.5-1.3 us a frame, a lookup 0.2-0.3 us,
# a visited node 16-20 ns, a per-frame batch of 32 frames 25-30 us).
BOUND_COMMIT_S: Final = 10e-6
BOUND_LOOKUP_S: Final = 3e-6
BOUND_VISIT_S: Final = 200e-9
BOUND_BATCH_FRAME_S: Final = 10e-6
# Every backend's memory sample, set-up and report: a second at most.
FIXED_S: Final = 1.0
# Starting one of benchmark's threads (it builds its batch, then waits at
# the barrier): `ctbench benchmark 16000 1 1 -b single` took 28.2 s and
# `benchmark 1 1 1` 0.44 s on the 2-vCPU AMD VM, 1.7 ms a thread; 4,000
# threads took 1.1 ms each.
THREAD_START_S: Final = 1.7e-3
# Frames per calibration execute and zones it fills: enough for the bulk
# path and stable timings, small enough to stay near 0.1 s per backend.
CALIBRATION_FRAMES: Final = 4096
CALIBRATION_ZONES: Final = 8


@dataclass(frozen=True)
class Estimate:
    seconds: float
    calibrated: bool  # False: the generous bound, which was short anyway

    @property
    def words(self) -> str:
        """'about 0:42', 'about 5:28:57', 'about 3 days', 'over 99 days'."""
        if not math.isfinite(self.seconds) or self.seconds > 99 * 86400:
            return "over 99 days"
        total = int(self.seconds + 0.5)
        hours, rest = divmod(total, 3600)
        minutes, seconds = divmod(rest, 60)
        if hours >= 48:
            return f"about {hours / 24:.0f} days"
        if hours:
            return f"about {hours}:{minutes:02d}:{seconds:02d}"
        return f"about {minutes}:{seconds:02d}"


@dataclass(frozen=True)
class Costs:
    """One backend's measured costs, in seconds."""

    commit: float  # per frame that creates a connection
    refused: float  # per frame that finds nothing and creates nothing
    lookup: float  # per frame that finds its connection
    visit: float  # per node a zone iteration visits
    remove: float  # per connection a flush removes
    scans_all: bool  # a zone iteration visits every node of the table


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def calibrate(spec: BackendSpec) -> Costs:
    """Measure one backend's costs on a small table (about 0.1 s)."""
    frames = [
        ovstest_frame(*zone_benchmark_ports(i)) for i in range(CALIBRATION_FRAMES)
    ]
    n = len(frames)
    model = Conntrack(create_table(spec), Limits(conn_limit=0))
    fill = _timed(
        lambda: [model.execute(frames, z, True, 0) for z in range(CALIBRATION_ZONES)]
    )
    lookup = _timed(lambda: model.execute(frames, 0, False, 0))
    refused = _timed(lambda: model.execute(frames, 0xFFFE, False, 0))
    table = model.table
    nodes = len(table)
    empty_walk = _timed(lambda: table.zone_values(0xFFFE))
    scans_all = len(table.zone_values(0xFFFE)) >= nodes
    full_walk = _timed(lambda: table.zone_values(1))
    flush = _timed(lambda: model.flush(1))
    visit = (empty_walk / nodes) if scans_all else full_walk / n
    walked = nodes if scans_all else n
    return Costs(
        commit=fill / (n * CALIBRATION_ZONES),
        refused=refused / n,
        lookup=lookup / n,
        visit=visit,
        remove=max(flush - walked * visit, 0.0) / n,
        scans_all=scans_all,
    )


def zones_seconds(
    costs: Costs, entries: int, zones: int, rounds: int, conn_limit: int
) -> float:
    """benchmark-zones' time on one backend with these costs."""
    requested = entries * zones
    stored = min(requested, conn_limit) if conn_limit else requested
    fill = stored * costs.commit + (requested - stored) * costs.refused
    visit_full = (stored if costs.scans_all else entries) * costs.visit
    visit_empty = stored * costs.visit if costs.scans_all else 0.0
    per_round = (
        entries * (costs.commit + costs.lookup + costs.remove)
        + visit_full
        + visit_empty
    )
    return fill + rounds * per_round


BOUND: Final = Costs(
    commit=BOUND_COMMIT_S,
    refused=BOUND_LOOKUP_S,
    lookup=BOUND_LOOKUP_S,
    visit=BOUND_VISIT_S,
    remove=BOUND_LOOKUP_S,
    scans_all=True,
)


def estimate_zones(
    specs: tuple[BackendSpec, ...],
    entries: int,
    zones: int,
    rounds: int,
    conn_limit: int,
) -> Estimate:
    """The whole run, every backend in turn."""
    return estimate_zones_grid(specs, [(entries, zones)], rounds, conn_limit)


def estimate_zones_grid(
    specs: tuple[BackendSpec, ...],
    points: Sequence[tuple[int, int]],
    rounds: int,
    conn_limit: int,
) -> Estimate:
    """Runs of every (ENTRIES, ZONES) point in turn (a sweep), each backend
    calibrated once."""
    bound = sum(
        len(specs) * (FIXED_S + zones_seconds(BOUND, e, z, rounds, conn_limit))
        for e, z in points
    )
    if bound <= QUIET_BELOW_S:
        return Estimate(bound, calibrated=False)
    measured: dict[str, Costs] = {}  # a spec given twice is measured once
    total = 0.0
    for spec in specs:
        costs = measured.get(spec.label) or measured.setdefault(
            spec.label, calibrate(spec)
        )
        total += sum(
            FIXED_S + zones_seconds(costs, e, z, rounds, conn_limit) for e, z in points
        )
    return Estimate(total, calibrated=True)


def estimate_threads(
    specs: tuple[BackendSpec, ...],
    n_threads: int,
    batches_per_thread: int,
    batch_size: int,
) -> Estimate:
    """benchmark's threads share one interpreter lock: their batches add up."""
    batches = n_threads * batches_per_thread
    starts = n_threads * THREAD_START_S
    bound = len(specs) * (FIXED_S + starts + batches * batch_size * BOUND_BATCH_FRAME_S)
    if bound <= QUIET_BELOW_S:
        return Estimate(bound, calibrated=False)
    total = 0.0
    frame = ovstest_frame(1, 2)
    batch = [frame] * batch_size
    for spec in specs:
        model = Conntrack(create_table(spec), Limits(), thread_safe=True)
        model.execute(batch, 0, True, 0)

        def fifty(m: Conntrack = model) -> None:
            for _ in range(50):
                m.execute(batch, 0, True, 0)

        # The least of four: a calibration cut by the scheduler overstates.
        per_batch = min(_timed(fifty) for _ in range(4)) / 50
        total += FIXED_S + starts + batches * per_batch
    return Estimate(total, calibrated=True)
