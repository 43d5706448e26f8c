"""create-rate: how fast threads sharing one conntrack create connections.

ovstest has no such command: in its ``benchmark`` every packet after a
thread's first batch finds its connection, so ``ct_lock``, which OVS takes
only to create or remove a connection, is never taken again.  Here every
packet is a new connection, so every packet takes it.

Per backend, on a fresh model shared by every thread
(``Conntrack(..., thread_safe=True)``):

1. each of N_THREADS threads builds its N_CONNS frames, in batches of
   BATCH_SIZE (the last one shorter when BATCH_SIZE does not divide
   N_CONNS): ovstest's frame with connection ``j = tid * N_CONNS + k``'s
   ports (:func:`connection_ports`), so no two threads share a connection;
2. the threads and the main thread meet at a barrier; the timed phase
   starts;
3. each thread executes its batches with commit, in zone ``tid + 1``
   (``zone_layout`` per-thread) or all in zone 1 (shared);
4. a second barrier ends the timed phase.

Every execute passes the logical time 0, as ovstest's threads pass the
time they started at.  Each batch's execute is timed on its own (phase
``ct_execute_batch``), as benchmark's are.

Beside the workers, from the first barrier to the second, may run:

- a flusher, flushing the workers' zones one after the other, round-robin,
  as fast as it can (``conntrack_flush_zone()``; OVS flushes when asked,
  by ``ovs-appctl dpctl/flush-conntrack zone=N``);
- a sweeper, making OVS's clean-thread passes (``conntrack_clean()``: the
  expiration lists from where the last pass stopped, until more than
  ``n_conn_limit / 64`` connections were visited) back to back, with its
  clock past every connection's expiration: every connection it visits is
  cleaned.  OVS waits 200 ms after such a pass; the sweeper does not, so
  that it contends for ``ct_lock`` through the whole timed phase.  It
  stands for a table whose old connections expire as fast as new ones come.

Both remove each connection under ``ct_lock`` on its own (``conn_clean()``),
as OVS does.  ``lock_wait`` times every wait for that lock (two clock reads
each time it is taken, in every thread), from the model's
``time_lock_waits()``.
"""

from __future__ import annotations

import math
import time
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import numpy as np

from ctbench.disturbance import RECORD_KEY, Disturbance
from ctbench.model import (
    SWEEP_BATCH_DIVISOR,
    UDP_TIMEOUTS_S,
    Conntrack,
    Counters,
    shared_slots,
)
from ctbench.model.shared import ThreadContext
from ctbench.packets import ovstest_frame
from ctbench.results import BackendResult, PhaseResult, Pooling, RunResult
from ctbench.scenarios.harness import (
    MAX_BATCH_SIZE,
    PROCESS_BYTES,
    CommonConfig,
    ConfigError,
    Progress,
    Turn,
    execute_counts,
    never,
    no_progress,
    recorded,
    run_workload,
)
from ctbench.scenarios.threaded import (
    CHECK_EVERY_BATCHES,
    WALLS_KEY,
    Meeting,
    TimedThread,
    parallel_threads,
    pooled_rate,
    run_timed,
    thread_record,
)

COMMAND: Final = "create-rate"
PHASE: Final = "ct_execute_batch"
STAGE: Final = "connections"
PER_THREAD: Final = "per-thread"
SHARED: Final = "shared"
ZONE_LAYOUTS: Final = (PER_THREAD, SHARED)
# Zones are 16 bits and thread tid's zone is tid + 1.
MAX_THREADS: Final = 0xFFFF
# Ports run from 1 to 65535 (0 is not a port a connection is made from).
PORTS: Final = 0xFFFF
# Every connection of the run has its own (source, destination) port pair.
MAX_CONNECTIONS: Final = PORTS * PORTS
# Every execute passes this frozen logical time, as ovstest's threads do.
NOW: Final = 0
# The sweeper's clock: past every connection's expiration (a UDP
# connection created at NOW expires at most the longest UDP timeout later).
SWEEP_NOW_MS: Final = NOW + max(UDP_TIMEOUTS_S) * 1000
# Memory, from the peak RSS of `create-rate 1 N B -b single -o FILE` at
# N = 250,000 and 1,000,000 (2-vCPU VM, CPython 3.11): 285 bytes a
# connection with B = 32 (per-zone: 284), 417 with B = 1, so about 281 a
# connection (its frame, 75 bytes and a list slot; the table's node and
# key; two column slots, shared_slots()) and 136 a batch (its list, its
# sample as an integer, a float and JSON).  Rounded up: an upper bound.
ESTIMATE_BYTES_PER_CONN: Final = 290
ESTIMATE_BYTES_PER_BATCH: Final = 140
# The run's fixed part: 40.7 MB measured (the same runs' intercept);
# PROCESS_BYTES and 65,536 empty per-zone dicts (about 4.8 MB,
# benchmark-zones' ESTIMATE_FIXED_BYTES).
ESTIMATE_FIXED_BYTES: Final = PROCESS_BYTES + 8 * 2**20
# A finished backend's samples, kept as floats while the next ones run:
# benchmark's measured 48 bytes a batch.
ESTIMATE_BYTES_PER_EARLIER_BATCH: Final = 50


@dataclass(frozen=True)
class CreateRateConfig(CommonConfig):
    n_threads: int
    n_conns: int
    batch_size: int
    zone_layout: str = PER_THREAD
    flusher: bool = False
    sweeper: bool = False
    lock_wait: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.n_threads <= MAX_THREADS:
            raise ConfigError(
                f"N_THREADS must be between 1 and {MAX_THREADS}, so that thread "
                f"i's zone i + 1 is a 16-bit zone (got {self.n_threads})"
            )
        if self.n_conns < 1:
            raise ConfigError(f"N_CONNS must be at least 1 (got {self.n_conns})")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ConfigError(
                f"BATCH_SIZE must be between 1 and {MAX_BATCH_SIZE} "
                f"(NETDEV_MAX_BURST) (got {self.batch_size})"
            )
        if self.zone_layout not in ZONE_LAYOUTS:
            raise ConfigError(
                f"--zones must be {' or '.join(ZONE_LAYOUTS)} "
                f"(got {self.zone_layout!r})"
            )
        for name in ("flusher", "sweeper", "lock_wait"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false")
        super().__post_init__()
        total = self.total_conns
        if total > MAX_CONNECTIONS:
            raise ConfigError(
                f"N_THREADS x N_CONNS must be at most {MAX_CONNECTIONS:,}, one "
                f"connection per pair of 16-bit ports (got {total:,})"
            )
        if self.conn_limit and total > self.conn_limit and not self.cleaners:
            raise ConfigError(
                f"N_THREADS x N_CONNS is {total:,} connections, over --conn-limit "
                f"{self.conn_limit:,}: the rest would be refused, not created; "
                "make them fewer, raise --conn-limit (0: no limit), or add "
                "--flusher or --sweeper (their refusals are counted)"
            )

    @property
    def total_conns(self) -> int:
        return self.n_threads * self.n_conns

    @property
    def cleaners(self) -> int:
        """Helper threads that remove connections meanwhile."""
        return int(self.flusher) + int(self.sweeper)

    @property
    def helper_threads(self) -> tuple[str, ...]:
        """The threads the run starts beside its N_THREADS workers, each
        said as the thread-limit check names it."""
        named = (("a flusher", self.flusher), ("a sweeper", self.sweeper))
        return tuple(name for name, started in named if started)

    @property
    def batches_per_thread(self) -> int:
        return math.ceil(self.n_conns / self.batch_size)

    @property
    def expected_conns(self) -> int:
        """At most this many connections are in the table at once."""
        total = self.total_conns
        return min(total, self.conn_limit) if self.conn_limit else total

    def zone(self, tid: int) -> int:
        return tid + 1 if self.zone_layout == PER_THREAD else 1

    @property
    def zones(self) -> tuple[int, ...]:
        """The workers' zones, each once."""
        return tuple(dict.fromkeys(self.zone(t) for t in range(self.n_threads)))

    def estimated_bytes(self) -> int:
        """Peak memory: every connection's frame, table entry, slots and
        batch sample, the last backend's alive together, and the earlier
        backends' samples."""
        batches = self.n_threads * self.batches_per_thread
        per_batch = ESTIMATE_BYTES_PER_BATCH + ESTIMATE_BYTES_PER_EARLIER_BATCH * (
            len(self.backends) - 1
        )
        return (
            ESTIMATE_FIXED_BYTES
            + ESTIMATE_BYTES_PER_CONN * self.total_conns
            + per_batch * batches
        )

    def params(self) -> dict[str, object]:
        common = self.common_params()
        return {
            "n_threads": self.n_threads,
            "n_conns": self.n_conns,
            "batch_size": self.batch_size,
            "zone_layout": self.zone_layout,
            "flusher": self.flusher,
            "sweeper": self.sweeper,
            "lock_wait": self.lock_wait,
            "conn_limit": common["conn_limit"],
            "gc": common["gc"],
            "backends": common["backends"],
            "parallel": parallel_threads(),
        }


def check_params(params: Mapping[str, Any]) -> None:
    """Refuse (ConfigError) recorded parameters that create-rate refuses as
    arguments."""
    CreateRateConfig(
        **recorded(
            params,
            (
                "n_threads",
                "n_conns",
                "batch_size",
                "zone_layout",
                "flusher",
                "sweeper",
                "lock_wait",
                "conn_limit",
            ),
            {"n_threads": 1, "n_conns": 1, "batch_size": 1},
        )
    )


def connection_ports(index: int) -> tuple[int, int]:
    """Connection ``index``'s (source, destination) ports: 1-65535 each,
    the destination port advancing first."""
    src, dst = divmod(index, PORTS)
    return 1 + src, 1 + dst


def thread_batches(tid: int, n_conns: int, batch_size: int) -> list[list[bytes]]:
    """Thread ``tid``'s frames, connections ``tid * n_conns`` onwards, in
    batches of ``batch_size`` (the last one holds the rest)."""
    first = tid * n_conns
    frames = [ovstest_frame(*connection_ports(first + k)) for k in range(n_conns)]
    return [frames[i : i + batch_size] for i in range(0, n_conns, batch_size)]


class _Worker(TimedThread):
    """One thread creating its connections: its batches, its samples, its
    own counts (read from its model context once it has stopped)."""

    def __init__(
        self, tid: int, config: CreateRateConfig, model: Conntrack, meeting: Meeting
    ) -> None:
        super().__init__(str(tid), meeting)
        self.tid = tid
        self.config = config
        self.model = model
        self.zone = config.zone(tid)
        self.batches: list[list[bytes]] = []  # made by the thread, in prepare()
        self.n_batches = config.batches_per_thread
        self.samples_ns = array("q")
        self.batches_done = 0
        self.elapsed_ns = 0
        self.counts = Counters()
        self.lock_wait_ns = 0
        self._ctx: ThreadContext | None = None

    def prepare(self) -> None:
        config = self.config
        self.batches = thread_batches(self.tid, config.n_conns, config.batch_size)
        self.samples_ns = array("q")
        self._ctx = self.model.context()  # its views, counts and slots

    def work(self) -> None:
        # The hot loop: everything it touches is a local.
        execute = self.model.execute
        batches = self.batches
        zone = self.zone
        clock = time.perf_counter_ns
        record = self.samples_ns.append
        stopping = self.meeting.stopping
        n_batches = len(batches)
        done = 0
        start = clock()
        try:
            while done < n_batches:
                chunk = batches[done : done + CHECK_EVERY_BATCHES]
                for batch in chunk:
                    t0 = clock()
                    execute(batch, zone, True, NOW)
                    record(clock() - t0)
                done += len(chunk)
                self.batches_done = done
                if stopping():
                    break
        finally:
            self.elapsed_ns = clock() - start
            ctx = self._ctx
            assert ctx is not None
            self.counts = ctx.counts.snapshot()
            self.lock_wait_ns = ctx.lock_wait_ns

    @property
    def sent(self) -> int:
        """Frames executed: whole batches, and the last one's rest."""
        return min(self.batches_done * self.config.batch_size, self.config.n_conns)


class _Cleaner(TimedThread):
    """The flusher or the sweeper: removes connections while the workers
    create them, until the timed phase ends."""

    def __init__(
        self, name: str, config: CreateRateConfig, model: Conntrack, meeting: Meeting
    ) -> None:
        super().__init__(name, meeting, worker=False)
        self.config = config
        self.model = model
        self.passes = 0
        self.visited = 0
        self.removed = 0
        self.lock_wait_ns = 0
        self._ctx: ThreadContext | None = None

    def prepare(self) -> None:
        self._ctx = self.model.context()

    def one_pass(self) -> tuple[int, int]:
        """(visited, removed) of one flush or sweep pass."""
        raise NotImplementedError

    def work(self) -> None:
        over = self.meeting.over
        one_pass = self.one_pass
        # At least one pass, even when the workers are done before this
        # thread is first scheduled: a cleaner that never ran would report
        # nothing about what it costs the workers.
        try:
            while True:
                visited, removed = one_pass()
                self.passes += 1
                self.visited += visited
                self.removed += removed
                if over():
                    break
        finally:
            assert self._ctx is not None
            self.lock_wait_ns = self._ctx.lock_wait_ns


class _Flusher(_Cleaner):
    """conntrack_flush_zone() of the workers' zones in turn, round-robin."""

    def __init__(
        self, config: CreateRateConfig, model: Conntrack, meeting: Meeting
    ) -> None:
        super().__init__("flusher", config, model, meeting)
        self._zones = config.zones
        self._next = 0

    def one_pass(self) -> tuple[int, int]:
        zones = self._zones
        result = self.model.flush(zones[self._next % len(zones)])
        self._next += 1
        return result.visited, result.removed


class _Sweeper(_Cleaner):
    """conntrack_clean() passes, back to back, on a clock past every
    connection's expiration."""

    def __init__(
        self, config: CreateRateConfig, model: Conntrack, meeting: Meeting
    ) -> None:
        super().__init__("sweeper", config, model, meeting)
        # lib/conntrack.c, conntrack_clean(): a pass stops once more than
        # n_conn_limit / 64 connections were visited; with no limit, all.
        limit = config.conn_limit
        self._max_visited = limit // SWEEP_BATCH_DIVISOR if limit else None

    def one_pass(self) -> tuple[int, int]:
        result = self.model.sweep(SWEEP_NOW_MS, self._max_visited)
        return result.visited, result.cleaned


class CreateRateWorkload:
    command: ClassVar[str] = COMMAND
    thread_safe: ClassVar[bool] = True

    def __init__(self, config: CreateRateConfig) -> None:
        self._config = config

    @property
    def config(self) -> CreateRateConfig:
        return self._config

    def params(self) -> dict[str, Any]:
        return self._config.params()

    @property
    def slots(self) -> int:
        """Slots for every connection the run may create, so that none
        waits for a removed one's grace period (ctbench.model.shared_slots)."""
        config = self._config
        return shared_slots(config.total_conns, config.n_threads)

    def run(self, turn: Turn) -> bool:
        """Threads, barriers, the timed phase.  Fills the result with
        whatever was gathered, also when interrupted."""
        config, model, result = self._config, turn.model, turn.result
        if config.lock_wait:
            model.time_lock_waits()  # before any thread makes its context
        meeting = Meeting.of(config.n_threads, config.cleaners, turn.interrupted)
        workers = [
            _Worker(tid, config, model, meeting) for tid in range(config.n_threads)
        ]
        cleaners: list[_Cleaner] = []
        if config.flusher:
            cleaners.append(_Flusher(config, model, meeting))
        if config.sweeper:
            cleaners.append(_Sweeper(config, model, meeting))
        before = model.counters.snapshot()
        disturbance = Disturbance(counted_over="thread")
        run_timed(
            turn,
            meeting,
            workers,
            cleaners,
            stage=STAGE,
            total=config.total_conns,
            done=lambda: sum(w.sent for w in workers),
            fill=lambda wall_ns: _fill_result(
                config, result, model, before, workers, cleaners, wall_ns, disturbance
            ),
        )
        return any(w.batches_done < w.n_batches for w in workers)


def _fill_result(
    config: CreateRateConfig,
    result: BackendResult,
    model: Conntrack,
    before: Counters,
    workers: Sequence[_Worker],
    cleaners: Sequence[_Cleaner],
    wall_ns: int,
    disturbance: Disturbance,
) -> None:
    # First: the machine's figures span the threads' run, not what follows.
    samples = [len(w.samples_ns) for w in workers]
    record = thread_record(disturbance, PHASE, workers, samples, cleaners)
    samples_ns = np.concatenate(
        [np.frombuffer(w.samples_ns, dtype=np.int64) for w in workers]
    )
    counts = execute_counts(model.counters.minus(before))
    result.phases = {
        PHASE: PhaseResult(samples=(samples_ns / 1e3).tolist(), counters=counts)
    }
    thread_created = [w.counts.created for w in workers]
    created = sum(thread_created)
    wall_s = wall_ns / 1e9
    cps = created / wall_s if wall_s > 0 else 0.0
    extra: dict[str, Any] = {
        "wall_ms": wall_ns / 1e6,
        "created": created,
        "refused": sum(w.counts.refused_full + w.counts.refused_zone for w in workers),
        "cps": cps,
        "cps_per_thread": cps / config.n_threads,
        "thread_created": thread_created,
        "thread_batches": [w.batches_done for w in workers],
        "thread_ms": [w.elapsed_ns / 1e6 for w in workers],
        "connections": model.n_conns,
    }
    for cleaner in cleaners:
        extra[f"{cleaner.name}_passes"] = cleaner.passes
        extra[f"{cleaner.name}_visited"] = cleaner.visited
        extra[f"{cleaner.name}_removed"] = cleaner.removed
    if config.lock_wait:
        extra["thread_lock_wait_ms"] = [w.lock_wait_ns / 1e6 for w in workers]
        for cleaner in cleaners:
            extra[f"{cleaner.name}_lock_wait_ms"] = cleaner.lock_wait_ns / 1e6
    extra[RECORD_KEY] = record
    result.extra = extra


def run_create_rate(
    config: CreateRateConfig,
    progress: Progress = no_progress,
    interrupted: Callable[[], bool] = never,
) -> RunResult:
    """Run every backend in turn, one model (and its threads) at a time."""
    return run_workload(CreateRateWorkload(config), progress, interrupted)


def _pooled_rates(
    pooled: dict[str, Any],
    extras: Sequence[Mapping[str, Any]],
    params: Sequence[Mapping[str, Any]],
) -> dict[str, float]:
    """Creations over the pooled runs' barrier-to-barrier times added up,
    as _fill_result computes one run's."""
    rates = pooled_rate(pooled, "created", params[0].get("n_threads"))
    if rates is None:
        return {}
    cps, per_thread = rates
    if per_thread is None:
        return {"cps": cps}
    return {"cps": cps, "cps_per_thread": per_thread}


# The extra figures (_fill_result): totals over the run and per thread;
# the barrier-to-barrier time, one per run; the rates over it.
POOLING: Final = Pooling(
    summed=(
        "created",
        "refused",
        *(
            f"{name}_{figure}"
            for name in ("flusher", "sweeper")
            for figure in ("passes", "visited", "removed", "lock_wait_ms")
        ),
    ),
    summed_per_thread=(
        "thread_created",
        "thread_batches",
        "thread_ms",
        "thread_lock_wait_ms",
    ),
    listed={"wall_ms": WALLS_KEY},
    rates=("cps", "cps_per_thread"),
    rate=_pooled_rates,
)
