"""benchmark-zones: ovstest's zone scenario (tests/test-conntrack.c,
test_benchmark_zones), for several backends in one run.

Per backend, on a fresh model:

1. build ENTRIES packets: ovstest's frame with source port ``i >> 16`` and
   destination port ``i & 0xffff`` (0 becomes 65535);
2. fill zones 0..ZONES-1, committing every packet in each;
3. ITERATIONS rounds of four separately timed phases, in ovstest's order:
   flush zone 1, commit the packets into zone 1, execute them again without
   commit, flush zone 65535 (which holds nothing).

Every execute passes the same logical ``now``, as ovstest passes the time
taken at start.  Unlike ovstest, no cleaner runs unless ``sweep_every`` asks
for one (see ``SweepEmulation``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from ctbench.backends import BackendSpec, create_table
from ctbench.memory import DEFAULT_SAMPLE_CONNS, measure_memory
from ctbench.model import (
    DEFAULT_CONN_LIMIT,
    SWEEP_BATCH_DIVISOR,
    Conntrack,
    Counters,
    Limits,
)
from ctbench.packets import ovstest_frame, zone_benchmark_ports
from ctbench.results import BackendResult, Memory, PhaseResult, RunResult
from ctbench.scenarios.common import (
    ConfigError,
    Progress,
    gc_paused,
    never,
    new_run,
    no_progress,
    run_backends,
)

COMMAND: Final = "benchmark-zones"
# Phases in the order the report shows them (the patch's table order).
PHASES: Final = (
    "ct_execute_commit",
    "ct_execute_no_commit",
    "flush_full_zone",
    "flush_empty_zone",
)
PHASE_LABELS: Final = {
    "ct_execute_commit": "ct execute (commit)",
    "ct_execute_no_commit": "ct execute (no commit)",
    "flush_full_zone": "flush full zone",
    "flush_empty_zone": "flush empty zone",
}
# test-conntrack.c: the zone refilled and flushed each round, and the empty one.
FULL_ZONE: Final = 1
EMPTY_ZONE: Final = 0xFFFF
# test-conntrack.c bounds: n_conns in [1, 2^32), n_zones in [1, 2^16 - 1).
MAX_ENTRIES: Final = 2**32 - 1
MAX_ZONES: Final = 2**16 - 2
# tracemalloc roughly doubles what it traces and is not in the memory check:
# a million connections is plenty for a per-connection figure.
MAX_MEMORY_SAMPLE: Final = 1_000_000
# A sweep period beyond a year is a typo, not an emulation (and inf or nan
# cannot become nanoseconds).
MAX_SWEEP_S: Final = 365 * 24 * 3600
# NETDEV_MAX_BURST (lib/netdev.h): the datapath's largest batch.
MAX_BATCH_SIZE: Final = 32
DEFAULT_BACKENDS: Final = (BackendSpec("single"), BackendSpec("per-zone"))
# Upper bound for the memory check: ctbench.memory measured 367-373 bytes per
# connection for single and per-zone on CPython 3.11 (`ctbench backends
# --memory`); 450 leaves headroom for dict growth steps.
ESTIMATE_BYTES_PER_CONN: Final = 450
# One ovstest frame (42-byte bytes object, 75 bytes) in a one-item list (64)
# plus its slot in the list of batches (8).
ESTIMATE_BYTES_PER_PACKET: Final = 150
# 65,536 empty dicts of the per-zone design, measured at about 4.8 MB.
ESTIMATE_FIXED_BYTES: Final = 8 * 2**20


@dataclass(frozen=True)
class ZoneConfig:
    entries: int
    zones: int
    iterations: int
    backends: tuple[BackendSpec, ...] = DEFAULT_BACKENDS
    batch_size: int = 1
    conn_limit: int = DEFAULT_CONN_LIMIT
    warmup: int = 0
    gc_enabled: bool = False
    sweep_every: float | None = None
    ovs_stats: bool = False
    seed: int = 0
    memory_sample: int = DEFAULT_SAMPLE_CONNS

    def __post_init__(self) -> None:
        if not 1 <= self.entries <= MAX_ENTRIES:
            raise ConfigError(
                f"ENTRIES must be between 1 and 2^32-1 (got {self.entries})"
            )
        if not 1 <= self.zones <= MAX_ZONES:
            raise ConfigError(f"ZONES must be between 1 and 65534 (got {self.zones})")
        if self.iterations < 1:
            raise ConfigError(f"ITERATIONS must be at least 1 (got {self.iterations})")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ConfigError(
                f"--batch-size must be between 1 and {MAX_BATCH_SIZE} "
                f"(NETDEV_MAX_BURST) (got {self.batch_size})"
            )
        if self.conn_limit < 0:
            raise ConfigError(f"--conn-limit must be 0 or more (got {self.conn_limit})")
        if self.warmup < 0:
            raise ConfigError(f"--warmup must be 0 or more (got {self.warmup})")
        if self.sweep_every is not None and not 0 < self.sweep_every <= MAX_SWEEP_S:
            raise ConfigError(
                f"--sweep-every must be a number of seconds above 0 and at most "
                f"{MAX_SWEEP_S:,} (got {self.sweep_every})"
            )
        if not self.backends:
            raise ConfigError("at least one backend is needed")
        if not 0 <= self.memory_sample <= MAX_MEMORY_SAMPLE:
            raise ConfigError(
                f"--memory-sample must be from 0 to {MAX_MEMORY_SAMPLE:,} "
                f"(got {self.memory_sample})"
            )

    @property
    def requested(self) -> int:
        return self.entries * self.zones

    @property
    def expected_stored(self) -> int:
        if self.conn_limit:
            return min(self.requested, self.conn_limit)
        return self.requested

    def estimated_bytes(self) -> int:
        """Peak memory of one backend's run: one table is alive at a time."""
        return (
            self.expected_stored * ESTIMATE_BYTES_PER_CONN
            + self.entries * ESTIMATE_BYTES_PER_PACKET
            + ESTIMATE_FIXED_BYTES
        )

    def params(self) -> dict[str, object]:
        return {
            "entries": self.entries,
            "zones": self.zones,
            "iterations": self.iterations,
            "batch_size": self.batch_size,
            "conn_limit": self.conn_limit,
            "seed": self.seed,
            "warmup": self.warmup,
            "gc": "enabled" if self.gc_enabled else "frozen",
            "sweep_every": self.sweep_every,
            "ovs_stats": self.ovs_stats,
            "backends": [spec.label for spec in self.backends],
        }


def build_frames(entries: int) -> list[bytes]:
    """ovstest's ENTRIES frames, in order."""
    return [ovstest_frame(*zone_benchmark_ports(i)) for i in range(entries)]


def build_batches(entries: int, batch_size: int) -> list[list[bytes]]:
    frames = build_frames(entries)
    return [frames[i : i + batch_size] for i in range(0, entries, batch_size)]


# lib/conntrack.c: CT_CLEAN_MIN_INTERVAL_MS, how soon the clean thread runs
# again after a pass that stopped at its bound.
CLEAN_MIN_INTERVAL_S: Final = 0.2


class SweepEmulation:
    """OVS's clean thread, emulated between phases on the wall clock.

    The executes keep passing the frozen start time, while the sweeper's
    clock moves with the wall clock, exactly the mismatch that makes a long
    ovstest run lose its background zones (see README, "Where ctbench
    differs from ovstest").  Each due pass is one ``conntrack_clean()``: it
    visits lists until more than n_conn_limit / 64 connections were visited;
    a pass that stopped early is due again after 200 ms, a finished one
    after ``every_s`` (OVS's clean thread: CT_CLEAN_MIN_INTERVAL_MS and the
    sweep interval).
    """

    def __init__(
        self,
        every_s: float,
        base_ms: int,
        conn_limit: int,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.every_ns = int(every_s * 1e9)
        self.base_ms = base_ms
        self.max_visited = conn_limit // SWEEP_BATCH_DIVISOR if conn_limit else None
        self.clock = clock
        self.start_ns = clock()
        self.due_ns = self.start_ns + self.every_ns
        self.swept = 0
        self.passes = 0

    def maybe_sweep(self, model: Conntrack) -> None:
        now_ns = self.clock()
        if now_ns < self.due_ns:
            return
        now_ms = self.base_ms + (now_ns - self.start_ns) // 1_000_000
        result = model.sweep(now_ms, self.max_visited)
        self.swept += result.cleaned
        self.passes += 1
        stopped_early = (
            self.max_visited is not None and result.visited > self.max_visited
        )
        wait_s = CLEAN_MIN_INTERVAL_S if stopped_early else self.every_ns / 1e9
        self.due_ns = now_ns + int(wait_s * 1e9)


@dataclass
class _Phases:
    phases: dict[str, PhaseResult] = field(
        default_factory=lambda: {name: PhaseResult() for name in PHASES}
    )

    def add_counts(self, name: str, counts: dict[str, int]) -> None:
        counters = self.phases[name].counters
        for key, value in counts.items():
            counters[key] = counters.get(key, 0) + value


def _run_backend(
    config: ZoneConfig,
    spec: BackendSpec,
    result: BackendResult,
    frames: list[bytes],
    progress: Progress,
    interrupted: Callable[[], bool],
) -> bool:
    """One backend, start to end, filling ``result`` as it goes so that an
    interrupt leaves the samples gathered so far.  Returns whether it was
    interrupted."""
    label = spec.label
    clock = time.perf_counter_ns
    now = 0  # the logical clock; every execute passes this frozen value
    if config.memory_sample:
        progress(label, "memory", 0, 1)
        figures = measure_memory(
            spec, config.entries, config.zones, config.memory_sample
        )
        result.memory = Memory(
            bytes_per_conn=figures.bytes_per_conn,
            fixed_bytes=figures.fixed_bytes,
            sample_conns=figures.sample_conns,
        )
        progress(label, "memory", 1, 1)
    if interrupted():
        return True
    table = create_table(spec)
    result.options = {**dict(spec.options), **dict(getattr(table, "options", {}))}
    model = Conntrack(table, Limits(conn_limit=config.conn_limit))
    sweeper = (
        SweepEmulation(config.sweep_every, now, config.conn_limit)
        if config.sweep_every
        else None
    )
    state = _Phases()
    result.phases = state.phases
    stopped = False
    start_wall = clock()
    with gc_paused(config.gc_enabled):
        # Fill: every zone, every packet, with commit.
        fill_start = clock()
        for zone in range(config.zones):
            model.execute(frames, zone, True, now)
            progress(label, "fill", zone + 1, config.zones)
            if interrupted():
                stopped = True
                break
        result.fill.insert_us = (clock() - fill_start) / 1e3
        result.fill.requested = config.requested
        result.fill.stored = model.n_conns
        result.fill.refused = model.counters.refused_full + model.counters.refused_zone
        rounds = config.warmup + config.iterations
        commit_phase = state.phases["ct_execute_commit"].samples_us
        lookup_phase = state.phases["ct_execute_no_commit"].samples_us
        full_phase = state.phases["flush_full_zone"].samples_us
        empty_phase = state.phases["flush_empty_zone"].samples_us
        execute = model.execute
        flush = model.flush
        timed_ns = 0  # inside the four timed sections, every round
        done = 0
        rounds_start = clock()
        for i in range(0 if stopped else rounds):
            counted = i >= config.warmup
            # 1. flush full zone
            t0 = clock()
            full = flush(FULL_ZONE)
            t1 = clock()
            timed_ns += t1 - t0
            if counted:
                full_phase.append((t1 - t0) / 1e3)
                state.add_counts(
                    "flush_full_zone",
                    {"visited": full.visited, "removed": full.removed},
                )
            if sweeper:
                sweeper.maybe_sweep(model)
            # 2. ct execute (commit)
            before = model.counters.snapshot()
            t0 = clock()
            execute(frames, FULL_ZONE, True, now)
            t1 = clock()
            timed_ns += t1 - t0
            if counted:
                commit_phase.append((t1 - t0) / 1e3)
                state.add_counts("ct_execute_commit", _exec_counts(model, before))
            if interrupted():
                stopped = True
                break
            if sweeper:
                sweeper.maybe_sweep(model)
            # 3. ct execute (no commit)
            before = model.counters.snapshot()
            t0 = clock()
            execute(frames, FULL_ZONE, False, now)
            t1 = clock()
            timed_ns += t1 - t0
            if counted:
                lookup_phase.append((t1 - t0) / 1e3)
                state.add_counts("ct_execute_no_commit", _exec_counts(model, before))
            if sweeper:
                sweeper.maybe_sweep(model)
            # 4. flush empty zone
            t0 = clock()
            empty = flush(EMPTY_ZONE)
            t1 = clock()
            timed_ns += t1 - t0
            if counted:
                empty_phase.append((t1 - t0) / 1e3)
                state.add_counts(
                    "flush_empty_zone",
                    {"visited": empty.visited, "removed": empty.removed},
                )
            done = i + 1
            progress(label, "iterations", done, rounds)
            if interrupted():
                stopped = True
                break
            if sweeper:
                sweeper.maybe_sweep(model)
        untimed_ns = clock() - rounds_start - timed_ns
    result.extra = {
        "wall_s": (clock() - start_wall) / 1e9,
        "stored_at_end": model.n_conns,
        "swept": sweeper.swept if sweeper else 0,
        # What the harness spends between the timed sections (counter
        # snapshots, sample storage, progress, sweeps): outside the samples.
        "harness_untimed_us_per_round": untimed_ns / 1e3 / done if done else 0.0,
    }
    return stopped


def _exec_counts(model: Conntrack, before: Counters) -> dict[str, int]:
    diff = model.counters.minus(before)
    return {
        "lookups": diff["packets"],
        "created": diff["created"],
        "removed": diff["removed"],
        "refused": diff["refused_full"] + diff["refused_zone"],
        "invalid": diff["invalid"],
    }


def run_zones(
    config: ZoneConfig,
    progress: Progress = no_progress,
    interrupted: Callable[[], bool] = never,
) -> RunResult:
    """Run every backend in turn; one table is alive at a time."""
    run = new_run(COMMAND, config.params())
    start = time.perf_counter_ns()
    # Batch boundaries change nothing in the model (every frame is tracked in
    # order), so the phases execute the frames as one call, as
    # Conntrack.execute_batches() would; flattening happens here, untimed.
    frames = [
        f for batch in build_batches(config.entries, config.batch_size) for f in batch
    ]
    generate_us = (time.perf_counter_ns() - start) / 1e3

    def run_one(spec: BackendSpec, result: BackendResult) -> bool:
        result.fill.generate_us = generate_us
        return _run_backend(config, spec, result, frames, progress, interrupted)

    return run_backends(run, config.backends, run_one, interrupted)
