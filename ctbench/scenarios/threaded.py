"""What the threaded scenarios share: threads that meet at barriers, a
timed phase from the first barrier to the second, and a stop that keeps
every sample gathered.

``benchmark`` and ``create-rate`` run N_THREADS workers on one shared model,
as ovstest's ``benchmark`` runs its threads: the main thread is the
barriers' last party and times the run from the first barrier to the
second (ovstest's ``conntrack:  NNN ms``).  A scenario may add helper
threads (create-rate's flusher and sweeper): they start at the first
barrier with the workers and stop once the second has passed.  They are not
parties to the second barrier, so the end of the timed phase does not wait
for a helper's call in progress.

Each thread keeps what it writes (its samples, its counts) to itself; the
main thread reads them only once every thread has been joined.

Each thread reads its involuntary context switches, its CPU time and its
run-queue wait once as its timed section starts and once as it ends
(:class:`ctbench.disturbance.ThreadSection`): a read per batch would cost
more than a batch (each is a system call), twice per thread costs nothing
the run can see.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from ctbench import environment
from ctbench.disturbance import Disturbance, ThreadSection
from ctbench.report.numbers import plural
from ctbench.results import BackendResult
from ctbench.results.merge import is_number
from ctbench.scenarios.harness import ConfigError, Turn

# Batches a worker runs between two looks at the stop flags and two updates
# of its progress count: at about 30 us per 32-packet batch that is every
# 30 ms or so, and the check costs nothing per batch.
CHECK_EVERY_BATCHES: Final = 1024
# How often the main thread refreshes the progress display while it waits.
PROGRESS_INTERVAL_S: Final = 0.1
# A pooled file lists each run's barrier-to-barrier time: no single one is
# the pool's (ctbench.results.merge).
WALLS_KEY: Final = "wall_ms_per_run"


def parallel_threads() -> bool:
    """Can this interpreter run Python code in several threads at once?"""
    return not environment.gil_enabled()


@dataclass
class Meeting:
    """Where a timed run's threads meet, and how they are told to stop."""

    start: threading.Barrier  # the workers, the helpers and the main thread
    end: threading.Barrier  # the workers and the main thread
    interrupted: Callable[[], bool]  # the user's stop, looked at between batches
    # A thread failed, or the main thread gave up: stop at once.
    abort: threading.Event = field(default_factory=threading.Event)
    # The timed phase is over: the helpers stop.
    ended: threading.Event = field(default_factory=threading.Event)
    # Each thread reads its ThreadSection; not in a run counted by
    # callgrind, whose threads should do the same work on every run.
    sections: bool = True

    @classmethod
    def of(
        cls,
        workers: int,
        helpers: int,
        interrupted: Callable[[], bool],
        *,
        sections: bool = True,
    ) -> Meeting:
        return cls(
            threading.Barrier(workers + helpers + 1),
            threading.Barrier(workers + 1),
            interrupted,
            sections=sections,
        )

    def give_up(self) -> None:
        self.abort.set()
        self.start.abort()
        self.end.abort()

    def stopping(self) -> bool:
        """Should a worker stop before its work is done?"""
        return self.abort.is_set() or self.interrupted()

    def over(self) -> bool:
        """Should a helper stop?"""
        return self.ended.is_set() or self.abort.is_set()


class TimedThread:
    """One thread of a timed run: its set-up (untimed), the first barrier,
    its work, and, for a worker, the second barrier.  An exception is kept
    for the main thread to raise, and stops the others."""

    def __init__(self, name: str, meeting: Meeting, *, worker: bool = True) -> None:
        self.name = name
        self.meeting = meeting
        self.worker = worker
        self.finished = threading.Event()
        self.error: BaseException | None = None
        self.section = ThreadSection()

    def prepare(self) -> None:
        """Before the first barrier, in the thread itself: what it makes
        there stays its own (an object another thread made costs an atomic
        reference count at each use on the free-threaded build)."""

    def work(self) -> None:
        raise NotImplementedError

    def run(self) -> None:
        meeting = self.meeting
        try:
            self.prepare()
            meeting.start.wait()
            if not meeting.sections:
                self.work()
            else:
                self.section.begin()
                try:
                    self.work()
                finally:
                    self.section.end()
            self.finished.set()
            if self.worker:
                meeting.end.wait()
        except threading.BrokenBarrierError:
            pass  # the main thread gave up on the run: leave quietly
        except BaseException as exc:  # re-raised by the main thread
            self.error = exc
            meeting.give_up()
        finally:
            self.finished.set()


def thread_record(
    disturbance: Disturbance,
    phase: str,
    workers: Sequence[TimedThread],
    samples: Sequence[int],
    helpers: Sequence[TimedThread] = (),
) -> dict[str, object]:
    """The run's disturbance record: each worker's switches over its
    ``samples`` of ``phase``, and every timed thread's CPU time and
    run-queue wait (workers' and helpers')."""
    disturbance.add_threads(phase, [w.section for w in workers], samples)
    return disturbance.finish([t.section for t in (*workers, *helpers)])


def run_timed(
    turn: Turn,
    meeting: Meeting,
    workers: Sequence[TimedThread],
    helpers: Sequence[TimedThread] = (),
    *,
    stage: str,
    total: int,
    done: Callable[[], int],
    fill: Callable[[int], None],
) -> None:
    """Start the threads, time the phase from the first barrier to the
    second, join them, and ``fill(wall_ns)`` the result with whatever they
    gathered, also when a Ctrl-C or a thread's failure cut the run short
    (a thread's error is raised once the result is filled).  ``done()``
    counts the work done of ``total``, for the progress display."""
    threads = [
        threading.Thread(
            target=t.run, name=f"ctbench-{turn.result.label}-{t.name}", daemon=True
        )
        for t in (*workers, *helpers)
    ]
    clock = time.perf_counter_ns
    start: int | None = None
    end = 0
    try:
        for thread in threads:
            thread.start()
    except RuntimeError as exc:  # e.g. a container's thread or pid limit
        meeting.give_up()
        for thread in threads:
            if thread.ident is not None:
                thread.join()
        started = plural(len(threads), "thread")
        raise ConfigError(f"cannot start {started}: {exc}") from None
    turn.progress(stage, 0, total)
    try:
        meeting.start.wait()
        start = clock()
        for worker in workers:
            while not worker.finished.wait(PROGRESS_INTERVAL_S):
                turn.progress(stage, done(), total)
        meeting.end.wait()
        end = clock()
    except threading.BrokenBarrierError:
        end = clock()  # a thread failed; its error is raised below
    except KeyboardInterrupt:
        end = clock()
        meeting.give_up()
        raise
    finally:
        meeting.ended.set()
        wall_ns = end - start if start is not None else 0
        stopped_again = shielded(
            lambda: join_threads(threads, meeting), lambda: fill(wall_ns)
        )
    if stopped_again:
        raise KeyboardInterrupt
    for t in (*workers, *helpers):
        if t.error is not None:
            raise t.error
    turn.progress(stage, done(), total)


def join_threads(threads: Sequence[threading.Thread], meeting: Meeting) -> None:
    """Wait for every thread; a Ctrl-C meanwhile stops them at their next
    check (every CHECK_EVERY_BATCHES batches) and is raised again."""
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        meeting.give_up()
        raise


def shielded(*steps: Callable[[], None]) -> bool:
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


def wall_times(result: BackendResult) -> list[float]:
    """Each run's barrier-to-barrier time: the run's own, or a pool's list."""
    wall_ms = result.extra.get("wall_ms")
    if is_number(wall_ms):
        return [float(wall_ms)]
    walls = result.extra.get(WALLS_KEY)
    if isinstance(walls, list) and all(map(is_number, walls)):
        return [float(ms) for ms in walls]
    return []


def pooled_rate(
    pooled: dict[str, object], count_key: str, n_threads: object
) -> tuple[float, float | None] | None:
    """A pool's rate of ``count_key`` over its runs' barrier-to-barrier
    times added up, as one run's is computed, and that rate per thread
    (None without a thread count); None without the figures."""
    count, walls = pooled.get(count_key), pooled.get(WALLS_KEY)
    if not is_number(count) or not isinstance(walls, list):
        return None
    wall_s = sum(walls) / 1e3
    rate = count / wall_s if wall_s > 0 else 0.0
    per_thread = rate / n_threads if is_number(n_threads) and n_threads > 0 else None
    return rate, per_thread
