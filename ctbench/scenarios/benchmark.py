"""benchmark: ovstest's threaded scenario (tests/test-conntrack.c,
test_benchmark), for several backends in one run.

Per backend, on a fresh model shared by every thread
(``Conntrack(..., thread_safe=True)``):

1. each of N_THREADS threads builds one batch of BATCH_SIZE packets from
   ovstest's frame: source port ``1 + thread index``, destination port 2;
   with CHANGE_CONN each packet of the batch gets destination port
   ``2 + packet index``, so it is a connection of its own (what ovstest's
   documentation promises and its code no longer does, see docs/commands/benchmark.md,
   "Where ctbench differs from ovstest");
2. the threads and the main thread meet at a barrier; the timed phase starts;
3. each thread executes its batch with commit in zone 0 until it has sent
   N_PKTS packets, as ovstest's ``for (i = 0; i < n_pkts; i += batch_size)``
   loop does: ``ceil(N_PKTS / BATCH_SIZE)`` batches, so up to BATCH_SIZE - 1
   packets more than N_PKTS when it does not divide (the exact count is
   recorded);
4. a second barrier ends the timed phase: that wall time is ovstest's
   ``conntrack:  NNN ms`` line.

Every execute passes the same logical ``now`` (ovstest passes the time taken
when the thread starts), so no connection expires.

Each batch's execute is also timed on its own (phase ``ct_execute_batch``).
Under a GIL that latency includes the time a thread waits for the GIL or the
model's lock while another thread runs, so it is the latency a batch sees,
not its CPU cost.

Samples: every batch's latency is kept, as an 8-byte integer per batch
(``array('q')``) while the threads run, and all of them go into the results,
so the statistics are exact.  ``4 33554432 32`` gives 4,194,304 samples:
about 34 MB while running, about 140 MB as the result's float list, and a
56 MB results file; writing it peaks at about 570 MB RSS.
``estimated_bytes()`` lets the CLI refuse a run that would not fit in
memory.
"""

from __future__ import annotations

import math
import time
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, ClassVar, Final

import numpy as np

from ctbench.disturbance import RECORD_KEY, Disturbance
from ctbench.model import Conntrack, Counters, shared_slots
from ctbench.packets import ovstest_frame
from ctbench.results import BackendResult, PhaseResult, Pooling, RunResult
from ctbench.scenarios.harness import (
    MAX_BATCH_SIZE,
    CommonConfig,
    ConfigError,
    Progress,
    Turn,
    execute_counts,
    never,
    no_progress,
    recorded,
    run_workload,
    section_clock,
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
from ctbench.units import DEFAULT_MEASURE

COMMAND: Final = "benchmark"
PHASE: Final = "ct_execute_batch"
# An ovstest run's one figure, "conntrack:  N ms" (barrier to barrier), held
# as a phase of its own (ctbench.ovstest.records): it is not a batch's time.
OVSTEST_TOTAL_PHASE: Final = "conntrack_total"
STAGE: Final = "packets"
# test-conntrack.c: every thread executes in zone 0, source port 1 + tid,
# destination port 2 (CHANGE_CONN: ctbench uses 2 + packet index).
ZONE: Final = 0
BASE_SRC_PORT: Final = 1
BASE_DST_PORT: Final = 2
# Source ports are 16 bits: 1 + tid must stay a distinct, non-zero port.
MAX_THREADS: Final = 0xFFFF - BASE_SRC_PORT + 1
# Memory per timed batch: 8 bytes in the array, a float object (24) and its
# list slot (8) in the result, and the results file's JSON while it is built.
# Measured: `benchmark 4 33554432 32 1 -b per-zone -o FILE` peaked at 569 MB
# RSS for 4,194,304 batches with an indented JSON file (about 125 bytes a
# batch) and at 541 MB with the compact one written now.
# `python -m bench.experiments.estimates --constants` measures more as the peak RSS
# slope of `benchmark 1 N 1 -o FILE`: 217 bytes a batch; the larger holds.
ESTIMATE_BYTES_PER_BATCH: Final = 220
# What a finished backend's samples keep while the next backends run (a
# float list): the same command with two backends adds 48 bytes a batch.
ESTIMATE_BYTES_PER_EARLIER_BATCH: Final = 50
# Interpreter, model, numpy and the rest of a run: 45 MB RSS for
# `benchmark 1 1000000 32`.
ESTIMATE_FIXED_BYTES: Final = 64 * 2**20


@dataclass(frozen=True)
class ThreadsConfig(CommonConfig):
    n_threads: int
    n_pkts: int
    batch_size: int
    change_conn: int = 0

    def __post_init__(self) -> None:
        # ovstest's checks first, in its order.
        if self.n_threads < 1:
            raise ConfigError(f"N_THREADS must be at least 1 (got {self.n_threads})")
        if self.n_threads > MAX_THREADS:
            raise ConfigError(
                f"N_THREADS must be at most {MAX_THREADS}, so that source port "
                f"1 + thread index stays a 16-bit port (got {self.n_threads})"
            )
        if self.n_pkts < 1:
            raise ConfigError(f"N_PKTS must be at least 1 (got {self.n_pkts})")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ConfigError(
                f"BATCH_SIZE must be between 1 and {MAX_BATCH_SIZE} "
                f"(NETDEV_MAX_BURST) (got {self.batch_size})"
            )
        if self.change_conn not in (0, 1):
            raise ConfigError(f"CHANGE_CONN must be 0 or 1 (got {self.change_conn})")
        super().__post_init__()
        if self.measure != DEFAULT_MEASURE and self.n_threads > 1:
            raise ConfigError(
                f"--measure {self.measure} counts one thread: valgrind runs "
                f"threads one at a time, so {self.n_threads} threads would "
                "count their waits for each other, not their work; use "
                "N_THREADS 1"
            )

    @property
    def helper_threads(self) -> tuple[str, ...]:
        """The threads the run starts beside its N_THREADS workers: none
        (the main thread times them)."""
        return ()

    @property
    def batches_per_thread(self) -> int:
        return math.ceil(self.n_pkts / self.batch_size)

    @property
    def packets_per_thread(self) -> int:
        return self.batches_per_thread * self.batch_size

    @property
    def expected_conns(self) -> int:
        per_thread = self.batch_size if self.change_conn else 1
        conns = self.n_threads * per_thread
        return min(conns, self.conn_limit) if self.conn_limit else conns

    def estimated_bytes(self) -> int:
        """Peak memory of the run: its per-batch samples dominate, the last
        backend's as it keeps them and the earlier backends' as floats."""
        per_batch = ESTIMATE_BYTES_PER_BATCH + ESTIMATE_BYTES_PER_EARLIER_BATCH * (
            len(self.backends) - 1
        )
        return self.n_threads * self.batches_per_thread * per_batch + (
            ESTIMATE_FIXED_BYTES
        )

    def params(self) -> dict[str, object]:
        common = self.common_params()
        return {
            "n_threads": self.n_threads,
            "n_pkts": self.n_pkts,
            "batch_size": self.batch_size,
            "change_conn": self.change_conn,
            "conn_limit": common["conn_limit"],
            "gc": common["gc"],
            "backends": common["backends"],
            "parallel": parallel_threads(),
        }


def check_params(params: Mapping[str, Any]) -> None:
    """Refuse (ConfigError) recorded parameters (a results file's, or
    ovstest's imported arguments) that benchmark refuses as arguments."""
    ThreadsConfig(
        **recorded(
            params,
            ("n_threads", "n_pkts", "batch_size", "change_conn", "conn_limit"),
            {"n_threads": 1, "n_pkts": 1, "batch_size": 1},
        )
    )


def thread_batch(tid: int, batch_size: int, change_conn: bool) -> list[bytes]:
    """Thread ``tid``'s batch: ovstest's frame from port 1 + tid to port 2, or,
    with ``change_conn``, to port 2 + packet index (one connection each)."""
    src = BASE_SRC_PORT + tid
    if change_conn:
        return [ovstest_frame(src, BASE_DST_PORT + i) for i in range(batch_size)]
    frame = ovstest_frame(src, BASE_DST_PORT)
    return [frame] * batch_size


class _Worker(TimedThread):
    """One benchmark thread: its batch, its samples, its progress count."""

    def __init__(
        self, tid: int, config: ThreadsConfig, model: Conntrack, meeting: Meeting
    ) -> None:
        super().__init__(str(tid), meeting)
        self.tid = tid
        self.config = config
        self.batch: list[bytes] = []  # made by the thread itself, in prepare()
        self.n_batches = config.batches_per_thread
        self.model = model
        self.samples_ns = array("q")
        self.batches_done = 0
        self.elapsed_ns = 0

    def prepare(self) -> None:
        config = self.config
        self.batch = thread_batch(self.tid, config.batch_size, bool(config.change_conn))
        self.samples_ns = array("q")
        if self.model.thread_safe:
            self.model.context()  # its views, counts and slots

    def work(self) -> None:
        # The hot loop: everything it touches is a local.
        execute = self.model.execute
        batch = self.batch
        clock = time.perf_counter_ns
        mark = section_clock(self.config.measure)  # or callgrind's marks
        record = self.samples_ns.append
        stopping = self.meeting.stopping
        now = 0  # the logical clock; every execute passes this frozen value
        done = 0
        remaining = self.n_batches
        start = clock()
        while remaining:
            chunk = min(remaining, CHECK_EVERY_BATCHES)
            for _ in repeat(None, chunk):
                t0 = mark()
                execute(batch, ZONE, True, now)
                record(mark() - t0)
            remaining -= chunk
            done += chunk
            self.batches_done = done
            if stopping():
                break
        self.elapsed_ns = clock() - start


class ThreadsWorkload:
    command: ClassVar[str] = COMMAND
    thread_safe: ClassVar[bool] = True

    def __init__(self, config: ThreadsConfig) -> None:
        self._config = config

    @property
    def config(self) -> ThreadsConfig:
        return self._config

    def params(self) -> dict[str, Any]:
        return self._config.params()

    @property
    def slots(self) -> int:
        """The shared model's connection slots (ctbench.model.shared_slots)."""
        config = self._config
        return shared_slots(config.expected_conns, config.n_threads)

    def run(self, turn: Turn) -> bool:
        """Threads, barriers, the timed phase.  Fills the result with
        whatever was gathered, also when interrupted."""
        config, model, result = self._config, turn.model, turn.result
        # A counted run keeps no record: its clock is callgrind's.
        counted = config.measure != DEFAULT_MEASURE
        meeting = Meeting.of(
            config.n_threads, 0, turn.interrupted, sections=not counted
        )
        workers = [
            _Worker(tid, config, model, meeting) for tid in range(config.n_threads)
        ]
        before = model.counters.snapshot()
        disturbance = None if counted else Disturbance(counted_over="thread")

        def done() -> int:
            return sum(w.batches_done for w in workers) * config.batch_size

        run_timed(
            turn,
            meeting,
            workers,
            stage=STAGE,
            total=config.n_threads * config.packets_per_thread,
            done=done,
            fill=lambda wall_ns: _fill_result(
                config, result, model, before, workers, wall_ns, disturbance
            ),
        )
        return any(w.batches_done < w.n_batches for w in workers)


def _fill_result(
    config: ThreadsConfig,
    result: BackendResult,
    model: Conntrack,
    before: Counters,
    workers: Sequence[_Worker],
    wall_ns: int,
    disturbance: Disturbance | None,
) -> None:
    # First: the machine's figures span the threads' run, not what follows.
    record = (
        None
        if disturbance is None
        else thread_record(
            disturbance, PHASE, workers, [len(w.samples_ns) for w in workers]
        )
    )
    samples_ns = np.concatenate(
        [np.frombuffer(w.samples_ns, dtype=np.int64) for w in workers]
    )
    result.phases = {
        PHASE: PhaseResult(
            samples=(samples_ns / 1e3).tolist(),
            counters=execute_counts(model.counters.minus(before)),
        )
    }
    thread_packets = [w.batches_done * config.batch_size for w in workers]
    packets = sum(thread_packets)
    wall_s = wall_ns / 1e9
    pps = packets / wall_s if wall_s > 0 else 0.0
    result.extra = {
        "wall_ms": wall_ns / 1e6,
        "packets": packets,
        "pps": pps,
        "pps_per_thread": pps / config.n_threads,
        "thread_packets": thread_packets,
        "thread_batches": [w.batches_done for w in workers],
        "thread_ms": [w.elapsed_ns / 1e6 for w in workers],
        "connections": model.n_conns,
    }
    if record is not None:
        result.extra[RECORD_KEY] = record


def run_threads(
    config: ThreadsConfig,
    progress: Progress = no_progress,
    interrupted: Callable[[], bool] = never,
) -> RunResult:
    """Run every backend in turn, one model (and its threads) at a time."""
    return run_workload(ThreadsWorkload(config), progress, interrupted)


def _pooled_rates(
    pooled: dict[str, Any],
    extras: Sequence[Mapping[str, Any]],
    params: Sequence[Mapping[str, Any]],
) -> dict[str, float]:
    """Throughput over the pooled runs: their packets over their
    barrier-to-barrier times added up, as _fill_result computes one run's."""
    rates = pooled_rate(pooled, "packets", params[0].get("n_threads"))
    if rates is None:
        return {}
    pps, per_thread = rates
    if per_thread is None:
        return {"pps": pps}
    return {"pps": pps, "pps_per_thread": per_thread}


# The extra figures (_fill_result): totals over the run and per thread;
# the barrier-to-barrier time, one per run; the rates over it.
POOLING: Final = Pooling(
    summed=("packets",),
    summed_per_thread=("thread_packets", "thread_batches", "thread_ms"),
    listed={"wall_ms": WALLS_KEY},
    rates=("pps", "pps_per_thread"),
    rate=_pooled_rates,
)
