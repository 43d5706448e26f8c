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
import threading
import time
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, ClassVar, Final

import numpy as np

from ctbench import environment
from ctbench.model import Conntrack, Counters, shared_slots
from ctbench.packets import ovstest_frame
from ctbench.report.numbers import plural
from ctbench.results import BackendResult, PhaseResult, Pooling, RunResult
from ctbench.results.merge import is_number
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
# Batches a thread runs between two looks at the interrupted flag and two
# updates of its progress count: at about 30 us per 32-packet batch that is
# every 30 ms or so, and the check costs nothing per batch.
CHECK_EVERY_BATCHES: Final = 1024
# How often the main thread refreshes the progress display while it waits.
PROGRESS_INTERVAL_S: Final = 0.1
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


def parallel_threads() -> bool:
    """Can this interpreter run Python code in several threads at once?"""
    return not environment.gil_enabled()


class _Worker:
    """One benchmark thread: its batch, its samples, its progress count."""

    def __init__(
        self,
        tid: int,
        config: ThreadsConfig,
        model: Conntrack,
        barrier: threading.Barrier,
        abort: threading.Event,
        interrupted: Callable[[], bool],
    ) -> None:
        self.tid = tid
        self.config = config
        # Made by the thread itself, in run(): what one thread writes stays
        # that thread's (an object another thread made costs an atomic
        # reference count at each use on the free-threaded build).
        self.batch: list[bytes] = []
        self.n_batches = config.batches_per_thread
        self.model = model
        self.barrier = barrier
        self.abort = abort
        self.interrupted = interrupted
        self.samples_ns = array("q")
        self.batches_done = 0
        self.elapsed_ns = 0
        self.finished = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            config = self.config
            self.batch = thread_batch(
                self.tid, config.batch_size, bool(config.change_conn)
            )
            self.samples_ns = array("q")
            if self.model.thread_safe:
                self.model.context()  # its views, counts and slots
            self.barrier.wait()
            self._loop()
            self.finished.set()
            self.barrier.wait()
        except threading.BrokenBarrierError:
            pass  # the main thread gave up on the run: leave quietly
        except BaseException as exc:  # re-raised by the main thread
            self.error = exc
            self.abort.set()
            self.barrier.abort()
        finally:
            self.finished.set()

    def _loop(self) -> None:
        # The hot loop: everything it touches is a local.
        execute = self.model.execute
        batch = self.batch
        clock = time.perf_counter_ns
        mark = section_clock(self.config.measure)  # or callgrind's marks
        record = self.samples_ns.append
        aborted = self.abort.is_set
        interrupted = self.interrupted
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
            if aborted() or interrupted():
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
        # The main thread is the barriers' last party, as in ovstest: it
        # times the run from the first barrier to the second.
        barrier = threading.Barrier(config.n_threads + 1)
        abort = threading.Event()  # a worker failed or a second Ctrl-C came
        workers = [
            _Worker(tid, config, model, barrier, abort, turn.interrupted)
            for tid in range(config.n_threads)
        ]
        threads = [
            threading.Thread(
                target=w.run, name=f"ctbench-{result.label}-{w.tid}", daemon=True
            )
            for w in workers
        ]
        total = config.n_threads * config.packets_per_thread
        clock = time.perf_counter_ns
        before = model.counters.snapshot()
        start: int | None = None
        end = 0
        try:
            for thread in threads:
                thread.start()
        except RuntimeError as exc:  # e.g. a container's thread or pid limit
            abort.set()
            barrier.abort()
            for thread in threads:
                if thread.ident is not None:
                    thread.join()
            raise ConfigError(
                f"cannot start {plural(config.n_threads, 'thread')}: {exc}"
            ) from None
        turn.progress(STAGE, 0, total)
        try:
            barrier.wait()
            start = clock()
            for worker in workers:
                while not worker.finished.wait(PROGRESS_INTERVAL_S):
                    done = sum(w.batches_done for w in workers) * config.batch_size
                    turn.progress(STAGE, done, total)
            barrier.wait()
            end = clock()
        except threading.BrokenBarrierError:
            end = clock()  # a worker failed; its error is raised below
        except KeyboardInterrupt:
            end = clock()
            abort.set()
            barrier.abort()
            raise
        finally:
            wall_ns = end - start if start is not None else 0
            stopped_again = _shielded(
                lambda: _join(threads, abort, barrier),
                lambda: _fill_result(config, result, model, before, workers, wall_ns),
            )
        if stopped_again:
            raise KeyboardInterrupt
        for worker in workers:
            if worker.error is not None:
                raise worker.error
        done = sum(w.batches_done for w in workers) * config.batch_size
        turn.progress(STAGE, done, total)
        return any(w.batches_done < w.n_batches for w in workers)


def _join(
    threads: Sequence[threading.Thread],
    abort: threading.Event,
    barrier: threading.Barrier,
) -> None:
    """Wait for every thread; a Ctrl-C meanwhile stops them at their next
    check (every CHECK_EVERY_BATCHES batches) and is raised again."""
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        abort.set()
        barrier.abort()
        raise


def _shielded(*steps: Callable[[], None]) -> bool:
    """Run each step to its end, however many Ctrl-C come meanwhile: once the
    threads have stopped, joining them and gathering their samples is what
    keeps the run (a further Ctrl-C there would lose every sample).  Each
    step must be safe to start again.  Returns whether a Ctrl-C came."""
    interrupted = False
    for step in steps:
        while True:
            try:
                step()
                break
            except KeyboardInterrupt:
                interrupted = True
    return interrupted


def _fill_result(
    config: ThreadsConfig,
    result: BackendResult,
    model: Conntrack,
    before: Counters,
    workers: Sequence[_Worker],
    wall_ns: int,
) -> None:
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


def run_threads(
    config: ThreadsConfig,
    progress: Progress = no_progress,
    interrupted: Callable[[], bool] = never,
) -> RunResult:
    """Run every backend in turn, one model (and its threads) at a time."""
    return run_workload(ThreadsWorkload(config), progress, interrupted)


# A pooled file lists each run's barrier-to-barrier time: no single one is
# the pool's (ctbench.results.merge).
WALLS_KEY: Final = "wall_ms_per_run"


def wall_times(result: BackendResult) -> list[float]:
    """Each run's barrier-to-barrier time: the run's own, or a pool's list."""
    wall_ms = result.extra.get("wall_ms")
    if is_number(wall_ms):
        return [float(wall_ms)]
    walls = result.extra.get(WALLS_KEY)
    if isinstance(walls, list) and all(map(is_number, walls)):
        return [float(ms) for ms in walls]
    return []


def _pooled_rates(
    pooled: dict[str, Any],
    extras: Sequence[Mapping[str, Any]],
    params: Sequence[Mapping[str, Any]],
) -> dict[str, float]:
    """Throughput over the pooled runs: their packets over their
    barrier-to-barrier times added up, as _fill_result computes one run's."""
    packets, walls = pooled.get("packets"), pooled.get(WALLS_KEY)
    if not is_number(packets) or not isinstance(walls, list):
        return {}
    wall_s = sum(walls) / 1e3
    pps = packets / wall_s if wall_s > 0 else 0.0
    n_threads = params[0].get("n_threads")
    rates = {"pps": pps}
    if is_number(n_threads) and n_threads > 0:
        rates["pps_per_thread"] = pps / n_threads
    return rates


# The extra figures (_fill_result): totals over the run and per thread;
# the barrier-to-barrier time, one per run; the rates over it.
POOLING: Final = Pooling(
    summed=("packets",),
    summed_per_thread=("thread_packets", "thread_batches", "thread_ms"),
    listed={"wall_ms": WALLS_KEY},
    rates=("pps", "pps_per_thread"),
    rate=_pooled_rates,
)
