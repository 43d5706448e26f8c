"""benchmark-zones: ovstest's zone scenario (tests/test-conntrack.c,
test_benchmark_zones), for several backends in one run.

Per backend, on a fresh model:

1. build ENTRIES packets: ovstest's frame with source port ``i >> 16`` and
   destination port ``i & 0xffff`` (0 becomes 65535);
2. fill zones 0..ZONES-1, committing every packet in each;
3. ITERATIONS rounds of four separately timed phases, in ovstest's order
   (:data:`PHASES`): flush zone 1, commit the packets into zone 1, execute
   them again without commit, flush zone 65535 (which holds nothing).

Every execute passes the same logical ``now``, as ovstest passes the time
taken at start.  Unlike ovstest, no cleaner runs unless ``sweep_every`` asks
for one (see ``SweepEmulation``).  A round's samples are kept only once the
round is whole, so an interrupted run has the same number of samples in
every phase.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Final

from ctbench.disturbance import (
    RECORD_KEY,
    Disturbance,
    PhaseSwitches,
    involuntary_switches,
)
from ctbench.memory import DEFAULT_SAMPLE_CONNS, measure_memory
from ctbench.model import SWEEP_BATCH_DIVISOR, Conntrack, FlushResult, Limits
from ctbench.packets import ovstest_frame, zone_benchmark_ports
from ctbench.results import Memory, PhaseResult, Pooling, RunResult
from ctbench.scenarios.harness import (
    MAX_BATCH_SIZE,
    PROCESS_BYTES,
    CommonConfig,
    ConfigError,
    Progress,
    Turn,
    add_counts,
    execute_counts,
    never,
    no_progress,
    recorded,
    run_workload,
    section_clock,
)
from ctbench.units import DEFAULT_MEASURE

COMMAND: Final = "benchmark-zones"
# test-conntrack.c: the zone refilled and flushed each round, and the empty one.
FULL_ZONE: Final = 1
EMPTY_ZONE: Final = 0xFFFF
# Every execute passes this frozen logical time, as ovstest passes the time
# taken at start.
NOW: Final = 0
# test-conntrack.c bounds: n_conns in [1, 2^32), n_zones in [1, 2^16 - 1).
MAX_ENTRIES: Final = 2**32 - 1
MAX_ZONES: Final = 2**16 - 2
# tracemalloc roughly doubles what it traces and is not in the memory check:
# a million connections is plenty for a per-connection figure.
MAX_MEMORY_SAMPLE: Final = 1_000_000
# A sweep period beyond a year is a typo, not an emulation (and inf or nan
# cannot become nanoseconds).
MAX_SWEEP_S: Final = 365 * 24 * 3600
# Upper bound for the memory check: RSS from outside measured 142 (per-zone)
# and 195 (single) bytes per stored connection, 3 M stored (docs/performance.md, "How
# fast is ctbench's model?"); 250 leaves headroom for growth steps.
ESTIMATE_BYTES_PER_CONN: Final = 250
# One ovstest frame (42-byte bytes object, 75 bytes) and its list slot (8),
# plus its key (48) and slots while a chunk of the execute is in flight.
ESTIMATE_BYTES_PER_PACKET: Final = 150
# 65,536 empty dicts of the per-zone design, measured at about 4.8 MB.
ESTIMATE_FIXED_BYTES: Final = 8 * 2**20
# What each kept round adds while its backend runs: four samples, each a
# float with its counts (a dict, and ints past 256) until the run ends.
# Measured peak RSS slopes (`python -m bench.experiments.estimates --constants`): 1,245
# bytes a round at ENTRIES 1, 1,459 at ENTRIES 300.
ESTIMATE_BYTES_PER_ROUND: Final = 1500
# What a finished backend's round keeps while the next backends run (its
# four samples as floats in lists): 258 bytes measured, same command.
ESTIMATE_BYTES_PER_EARLIER_ROUND: Final = 260


@dataclass(frozen=True)
class ZoneConfig(CommonConfig):
    entries: int
    zones: int
    iterations: int
    batch_size: int = 1
    warmup: int = 0
    sweep_every: float | None = None
    ovs_stats: bool = False
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
        super().__post_init__()
        if self.warmup < 0:
            raise ConfigError(f"--warmup must be 0 or more (got {self.warmup})")
        if self.sweep_every is not None and not 0 < self.sweep_every <= MAX_SWEEP_S:
            raise ConfigError(
                f"--sweep-every must be a number of seconds above 0 and at most "
                f"{MAX_SWEEP_S:,} (got {self.sweep_every})"
            )
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
        return Limits(conn_limit=self.conn_limit).stored(self.requested)

    def estimated_bytes(self) -> int:
        """Peak memory of the run: the process, one table (one is alive at a
        time), the packets, the last backend's rounds as it keeps them and
        the earlier backends' samples."""
        per_round = ESTIMATE_BYTES_PER_ROUND + ESTIMATE_BYTES_PER_EARLIER_ROUND * (
            len(self.backends) - 1
        )
        return (
            PROCESS_BYTES
            + self.expected_stored * ESTIMATE_BYTES_PER_CONN
            + self.entries * ESTIMATE_BYTES_PER_PACKET
            + ESTIMATE_FIXED_BYTES
            + self.iterations * per_round
        )

    def params(self) -> dict[str, object]:
        common = self.common_params()
        return {
            "entries": self.entries,
            "zones": self.zones,
            "iterations": self.iterations,
            "batch_size": self.batch_size,
            "conn_limit": common["conn_limit"],
            "warmup": self.warmup,
            "gc": common["gc"],
            "sweep_every": self.sweep_every,
            "ovs_stats": self.ovs_stats,
            "backends": common["backends"],
        }


def check_params(params: Mapping[str, Any]) -> None:
    """Refuse (ConfigError) recorded parameters (a results file's, or
    ovstest's imported arguments) that benchmark-zones refuses as options."""
    ZoneConfig(
        **recorded(
            params,
            (
                "entries",
                "zones",
                "iterations",
                "batch_size",
                "conn_limit",
                "warmup",
                "sweep_every",
            ),
            {"entries": 1, "zones": 1, "iterations": 1},
        )
    )


def build_frames(entries: int, start: int = 0) -> list[bytes]:
    """ovstest's ENTRIES frames, in order (from frame ``start`` on)."""
    return [ovstest_frame(*zone_benchmark_ports(i)) for i in range(start, entries)]


# The fill executes a zone's frames in calls of this many, and looks at the
# stop flag between them: Ctrl-C during a 30 M-frame zone is seen within one
# call (about 0.1 s at the single map's 0.8 M attempts/s) rather than after
# the zone.  Any size tracks the same frames in the same order; this one is
# far above BULK_MIN_FRAMES, so each call stays on the bulk path.
FILL_CHUNK_FRAMES: Final = 1 << 16

# lib/conntrack.c: CT_CLEAN_MIN_INTERVAL_MS, how soon the clean thread runs
# again after a pass that stopped at its bound.
CLEAN_MIN_INTERVAL_S: Final = 0.2


class SweepEmulation:
    """OVS's clean thread, emulated between phases on the wall clock.

    The executes keep passing the frozen start time, while the sweeper's
    clock moves with the wall clock, exactly the mismatch that makes a long
    ovstest run lose its background zones (see docs/model.md, "Where ctbench
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


def _flush_counts(value: object, diff: dict[str, int]) -> dict[str, int]:
    assert isinstance(value, FlushResult)
    return {"visited": value.visited, "removed": value.removed}


def _execute_counts(value: object, diff: dict[str, int]) -> dict[str, int]:
    return execute_counts(diff)


@dataclass(frozen=True)
class TimedPhase:
    """One of a round's timed sections: the call it times, bound once per
    backend to a C-level partial so that timing adds no Python frame, and
    the counters it records."""

    name: str
    label: str
    bind: Callable[[Conntrack, list[bytes]], Callable[[], object]]
    counts: Callable[[object, dict[str, int]], dict[str, int]]
    diffs: bool  # its counters come from the model's counter difference


# A round, in ovstest's order; the report shows them in PHASE_ORDER.
PHASES: Final = (
    TimedPhase(
        "flush_full_zone",
        "flush full zone",
        lambda m, f: partial(m.flush, FULL_ZONE),
        _flush_counts,
        diffs=False,
    ),
    TimedPhase(
        "ct_execute_commit",
        "ct execute (commit)",
        lambda m, f: partial(m.execute, f, FULL_ZONE, True, NOW),
        _execute_counts,
        diffs=True,
    ),
    TimedPhase(
        "ct_execute_no_commit",
        "ct execute (no commit)",
        lambda m, f: partial(m.execute, f, FULL_ZONE, False, NOW),
        _execute_counts,
        diffs=True,
    ),
    TimedPhase(
        "flush_empty_zone",
        "flush empty zone",
        lambda m, f: partial(m.flush, EMPTY_ZONE),
        _flush_counts,
        diffs=False,
    ),
)
# The patch's table order: the executes, then the flushes.
PHASE_ORDER: Final = (
    "ct_execute_commit",
    "ct_execute_no_commit",
    "flush_full_zone",
    "flush_empty_zone",
)


class ZoneWorkload:
    command: ClassVar[str] = COMMAND
    thread_safe: ClassVar[bool] = False

    def __init__(self, config: ZoneConfig) -> None:
        self._config = config
        # Batch boundaries change nothing in the model (every frame is
        # tracked in order), so each phase executes the frames as one call,
        # as Conntrack.execute_batches() would.  Built by the first backend's
        # turn, untimed, and shared by the others.
        self.frames: list[bytes] = []
        self.generate_us = 0.0

    def _generate(self, turn: Turn) -> bool:
        """Build the frames, FILL_CHUNK_FRAMES at a time, so that a stop
        (30 M frames take half a minute) is seen within one chunk.  Returns
        whether it was interrupted."""
        entries, chunk = self._config.entries, FILL_CHUNK_FRAMES
        if len(self.frames) == entries:
            return False  # built by an earlier backend's turn
        start = time.perf_counter_ns()
        try:
            while len(self.frames) < entries:
                if turn.interrupted():
                    return True
                done = len(self.frames)
                self.frames += build_frames(min(done + chunk, entries), done)
                turn.progress("packets", len(self.frames), entries)
        finally:
            self.generate_us += (time.perf_counter_ns() - start) / 1e3
        return False

    @property
    def config(self) -> ZoneConfig:
        return self._config

    def params(self) -> dict[str, Any]:
        return self._config.params()

    def run(self, turn: Turn) -> bool:
        config = self._config
        result = turn.result
        # Set before anything can stop the run: a run stopped during the
        # memory sample requested the fill and attempted none of it.
        result.fill.requested = config.requested
        result.fill.attempted = 0
        stopped = self._generate(turn)
        result.fill.generate_us = self.generate_us
        if stopped:
            return True
        if config.memory_sample:
            turn.progress("memory", 0, 1)
            figures = measure_memory(
                turn.spec, config.entries, config.zones, config.memory_sample
            )
            result.memory = Memory(
                figures.bytes_per_conn, figures.fixed_bytes, figures.sample_conns
            )
            turn.progress("memory", 1, 1)
        if turn.interrupted():
            return True
        start = time.perf_counter_ns()
        timing = _Timing()
        try:
            if not self._fill(turn):
                self._rounds(turn, timing)
        finally:
            # Written however the run ends (a second Ctrl-C raises anywhere),
            # so that a partial file is as complete as a whole one.
            result.extra["wall_s"] = (time.perf_counter_ns() - start) / 1e9
            result.extra["stored_at_end"] = turn.model.n_conns
            result.extra["swept"] = timing.swept
            result.extra["rounds"] = timing.kept
            # What the harness spends between the timed sections (counter
            # snapshots, sample storage, progress, sweeps): outside the samples.
            done = timing.done
            result.extra["harness_untimed_us_per_round"] = (
                timing.untimed_ns / 1e3 / done if done else 0.0
            )
        return timing.done < config.warmup + config.iterations

    def _fill(self, turn: Turn) -> bool:
        """Every zone, every packet, with commit.  Returns whether it was
        interrupted; the counts say what was attempted either way."""
        config, model, fill = self._config, turn.model, turn.result.fill
        frames, chunk = self.frames, FILL_CHUNK_FRAMES
        start = time.perf_counter_ns()
        attempted = 0
        try:
            for zone in range(config.zones):
                for first in range(0, len(frames), chunk):
                    if turn.interrupted():
                        return True
                    # A zone of one chunk (the usual case) is not copied.
                    whole = len(frames) <= chunk
                    part = frames if whole else frames[first : first + chunk]
                    model.execute(part, zone, True, NOW)
                    attempted += len(part)
                    turn.progress("fill", attempted, config.requested)
        finally:
            fill.insert_us = (time.perf_counter_ns() - start) / 1e3
            fill.attempted = attempted
            fill.stored = model.n_conns
            counters = model.counters
            fill.refused = counters.refused_full + counters.refused_zone
        return False

    def _rounds(self, turn: Turn, timing: _Timing) -> None:
        """The timed rounds.  A round is kept once it is whole: its samples
        and counters go into the result only then, and whatever stops the
        loop (the flag, or a KeyboardInterrupt anywhere) leaves the result
        with the same whole rounds in every phase."""
        config, model = self._config, turn.model
        kept: dict[str, list[tuple[float, dict[str, int]]]] = {
            p.name: [] for p in PHASES
        }
        sweeper = (
            SweepEmulation(config.sweep_every, NOW, config.conn_limit)
            if config.sweep_every
            else None
        )
        bound = [(p, p.bind(model, self.frames)) for p in PHASES]
        clock = time.perf_counter_ns
        # The timed sections' edges: the clock, or callgrind's marks.
        mark = section_clock(config.measure)
        # Read just outside each clock pair: the disturbance record
        # (ctbench.disturbance) costs harness time, never a sample's.  A run
        # counted by callgrind keeps none: what runs between its sections
        # should be the same on every run, and the machine's figures (their
        # integers allocated or not, their lines of /proc as long as they
        # are) are not.
        counted = config.measure != DEFAULT_MEASURE
        switches = _no_switches if counted else involuntary_switches
        record = None if counted else Disturbance()
        tally = {
            p.name: record.phase(p.name) if record else PhaseSwitches() for p in PHASES
        }
        rounds = config.warmup + config.iterations
        timed_ns = 0
        rounds_start = clock()
        try:
            for i in range(rounds):
                taken: list[tuple[str, float, dict[str, int], int]] = []
                for phase, call in bound:
                    # Only an execute's counters come from the model's; the
                    # snapshot is not taken for a flush, whose call is so
                    # short that what precedes it shows in its time.
                    before = model.counters.snapshot() if phase.diffs else None
                    s0 = switches()
                    t0 = mark()
                    value = call()
                    t1 = mark()
                    s1 = switches()
                    timed_ns += t1 - t0
                    diff = model.counters.minus(before) if before else {}
                    counts = phase.counts(value, diff)
                    # Freed here, untimed: left bound, it would be freed when
                    # the next phase's timed call rebinds it, and an execute's
                    # list of ENTRIES states took 4.7 us of a 1.1 us empty
                    # flush at 10,000 frames (found by ctbench sweep).
                    del value
                    taken.append((phase.name, (t1 - t0) / 1e3, counts, s1 - s0))
                    if sweeper:
                        sweeper.maybe_sweep(model)
                    if turn.interrupted():
                        return  # this round is cut: none of it is kept
                if i >= config.warmup:
                    for name, sample, counts, switched in taken:
                        kept[name].append((sample, counts))
                        tally[name].add(switched)
                timing.done = i + 1
                turn.progress("iterations", timing.done, rounds)
        finally:
            whole = min(map(len, kept.values()))
            phases = {name: PhaseResult() for name in PHASE_ORDER}
            for name, taken_rounds in kept.items():
                for sample, counts in taken_rounds[:whole]:
                    phases[name].samples.append(sample)
                    add_counts(phases[name].counters, counts)
            turn.result.phases = phases
            timing.kept = whole
            timing.swept = sweeper.swept if sweeper else 0
            timing.untimed_ns = clock() - rounds_start - timed_ns
            if record is not None:
                turn.result.extra[RECORD_KEY] = record.finish()


def _no_switches() -> int:
    return 0


@dataclass
class _Timing:
    """How far the rounds got, for the result's extra figures."""

    done: int = 0  # rounds run whole, warm-up included
    kept: int = 0  # rounds whose samples were kept
    swept: int = 0
    untimed_ns: int = 0


def run_zones(
    config: ZoneConfig,
    progress: Progress = no_progress,
    interrupted: Callable[[], bool] = never,
) -> RunResult:
    """Run every backend in turn; one table is alive at a time."""
    return run_workload(ZoneWorkload(config), progress, interrupted)


# Pooled runs ran the sum of their ITERATIONS.  The extra figures
# (ZoneWorkload.run): totals over the run, and the harness's time per round;
# stored_at_end is per run.
POOLING: Final = Pooling(
    summed_params=("iterations",),
    summed=("rounds", "swept", "wall_s"),
    per_round=("harness_untimed_us_per_round",),
)
