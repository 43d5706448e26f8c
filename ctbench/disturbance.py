"""Was the run disturbed?  What the operating system says about the timed
sections, beside the samples.

Per backend and phase, per round, ctbench counts the involuntary context
switches that landed in a timed section (the scheduler took the CPU away
mid-sample), read with ``getrusage`` of the running thread
(``RUSAGE_THREAD``, Linux; the process's elsewhere) just outside the clock
reads, so the reads never fall inside a sample.  Per backend it records
the thread's CPU time against the wall time of its rounds, and from
``/proc/stat`` (where readable) the CPU time every other process used and
the hypervisor's steal time over the same window, with the load average
before and after.  ``/proc/stat`` counts in ticks of 10 ms, which is why it
is read per backend's rounds and not per phase.

A phase is *disturbed* when the share of its rounds with an involuntary
switch reaches :data:`SWITCHED_ROUNDS`, or when the backend's thread had
the CPU for less than :data:`RUN_CPU` of its rounds' wall time.  Both are
shares, not counts, so they hold at any run length and core count.  Other
processes' CPU, steal and the load average are shown beside them: on a
machine with more cores than the run uses, other work can be heavy without
taking the run's core, which the first two figures see directly.

``replay`` and the threaded commands (``benchmark``, ``create-rate``)
time a batch per sample: a read on either side of each would cost more
than most batches take.  ``replay`` reads the count around each
repetition, a threaded command around each thread's timed section (each
thread its own, ``RUSAGE_THREAD``), so a count covers many samples and
bounds from above how many of them met a switch (a switch lands in one
sample at most): the record says what a count covered
(``counted_over``), and the phase's share is "at most".

A threaded run's CPU share is not its threads' CPU over their wall time:
a thread waiting for the GIL or for a lock of the model sleeps, which no
neighbour caused.  Its share is the time its threads had a CPU over the
time they were ready to run: their CPU time plus their time waiting on a
run queue (``/proc/thread-self/schedstat``'s run delay, Linux).  For a
thread that never sleeps, as benchmark-zones' and replay's, that is its
CPU time over its wall time, the same figure.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ctbench.report.numbers import plural

# The bounds sit between the same run alone and beside a busy loop per CPU
# (`python -m bench.experiments.disturbance_bounds --runs 3`: benchmark-zones
# 1000 20 300 on single, a 2-vCPU VM that other jobs shared, about one core's worth).
# Alone, twice: 2.0% and 4.0% of a phase's rounds (at most) had an
# involuntary switch, and the run had the CPU 99-100% of its wall time; the
# third "alone" run met a burst of the other jobs: 14.0% and 55%.  Loaded:
# 16.3-26.0% and 24-34%, and ct execute (commit)'s median rose from 570-582
# us to 587-878 us.
SWITCHED_ROUNDS: Final = 0.10
RUN_CPU: Final = 0.90

_RUSAGE_WHO: Final = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)
PER_THREAD: Final = _RUSAGE_WHO != resource.RUSAGE_SELF
_TICK_S: Final = 1 / os.sysconf("SC_CLK_TCK")


def involuntary_switches() -> int:
    """The running thread's involuntary context switches so far."""
    return resource.getrusage(_RUSAGE_WHO).ru_nivcsw


@dataclass(frozen=True)
class SystemSample:
    """The machine at one moment: total busy and steal CPU ticks from
    /proc/stat (None where unreadable), this process's own CPU ticks, the
    load average, and the clocks."""

    busy_ticks: int | None
    steal_ticks: int | None
    own_ticks: int | None
    load: tuple[float, float, float] | None
    wall_ns: int
    thread_cpu_ns: int

    @classmethod
    def now(cls) -> SystemSample:
        busy, steal = _proc_stat()
        try:
            load: tuple[float, float, float] | None = os.getloadavg()
        except OSError:
            load = None
        return cls(
            busy,
            steal,
            _own_ticks(),
            load,
            time.perf_counter_ns(),
            time.thread_time_ns(),
        )


def _proc_stat() -> tuple[int | None, int | None]:
    """Busy ticks (all but idle and iowait) and steal ticks over every CPU."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None, None
    if len(fields) < 9 or fields[0] != "cpu":
        return None, None
    ticks = [int(x) for x in fields[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice]:
    # guest time is already counted in user (proc(5)).
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks[:8]
    return user + nice + system + irq + softirq, steal


def _own_ticks() -> int | None:
    """This process's user + system ticks (/proc/self/stat fields 14, 15)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            text = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its ')'.
    fields = text.rsplit(")", 1)[-1].split()
    return int(fields[11]) + int(fields[12])


@dataclass
class PhaseSwitches:
    rounds: int = 0
    rounds_switched: int = 0
    switches: int = 0

    def add(self, switches: int) -> None:
        self.rounds += 1
        self.switches += switches
        self.rounds_switched += switches > 0

    def add_many(self, samples: int, switches: int) -> None:
        """``samples`` timed under one count of ``switches``: at most
        that many of them met a switch, one each."""
        self.rounds += samples
        self.switches += switches
        self.rounds_switched += min(samples, switches)


def runqueue_wait_ns() -> int | None:
    """The running thread's time so far ready to run but waiting for a CPU
    (``/proc/thread-self/schedstat``'s second field: the kernel's
    Documentation/scheduler/sched-stats.rst); None where
    unreadable (not Linux, or a kernel without schedstats)."""
    try:
        fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    except OSError:
        return None
    try:
        fields = os.read(fd, 128).split()
    finally:
        os.close(fd)
    return int(fields[1]) if len(fields) > 1 else None


@dataclass
class ThreadSection:
    """A thread's timed section as the thread itself reads it, once at each
    end: its involuntary switches, its CPU time, and its time waiting on a
    run queue (None where unreadable)."""

    switches: int = 0
    cpu_ns: int = 0
    waited_ns: int | None = None
    _start: tuple[int, int, int | None] = field(default=(0, 0, None), repr=False)

    def begin(self) -> None:
        self._start = (
            involuntary_switches(),
            time.thread_time_ns(),
            runqueue_wait_ns(),
        )

    def end(self) -> None:
        # In the reverse order of begin()'s, so that each read's span holds
        # the next ones' reads, not its own.
        waited = runqueue_wait_ns()
        cpu = time.thread_time_ns()
        switches = involuntary_switches()
        s0, c0, w0 = self._start
        self.switches, self.cpu_ns = switches - s0, cpu - c0
        self.waited_ns = None if waited is None or w0 is None else waited - w0


@dataclass
class Disturbance:
    """One backend's record, filled as its rounds run.  ``counted_over``
    names what one count of switches spans when it spans many samples
    (``"repetition"``, ``"thread"``); None when a count spans one."""

    counted_over: str | None = None
    start: SystemSample = field(default_factory=SystemSample.now)
    phases: dict[str, PhaseSwitches] = field(default_factory=dict)

    def phase(self, name: str) -> PhaseSwitches:
        return self.phases.setdefault(name, PhaseSwitches())

    def add_threads(
        self, phase: str, sections: Sequence[ThreadSection], samples: Sequence[int]
    ) -> None:
        """Each thread's switches over its section's ``samples``.  Where a
        count is the process's (not PER_THREAD), every thread's covers the
        others' too: only the largest is kept, for all the samples.  The
        phase's tally is made anew, so a second call replaces the first."""
        tally = self.phases[phase] = PhaseSwitches()
        if PER_THREAD:
            for section, n in zip(sections, samples, strict=True):
                tally.add_many(n, section.switches)
        else:
            tally.add_many(sum(samples), max((s.switches for s in sections), default=0))

    def finish(self, threads: Sequence[ThreadSection] = ()) -> dict[str, Any]:
        """The record as the results file keeps it (``extra.disturbance``).
        With ``threads`` (a threaded run's timed sections, workers and
        helpers), the CPU time is theirs, and ``ready_s`` the time they were
        ready to run (CPU time and run-queue wait; absent where the wait
        is unreadable)."""
        end = SystemSample.now()
        start = self.start
        wall_s = (end.wall_ns - start.wall_ns) / 1e9
        out: dict[str, Any] = {
            "per_thread": PER_THREAD,
            "wall_s": wall_s,
            "cpu_s": (end.thread_cpu_ns - start.thread_cpu_ns) / 1e9,
        }
        if self.counted_over:
            out["counted_over"] = self.counted_over
        if threads:
            cpu_ns = sum(t.cpu_ns for t in threads)
            out["threads"] = len(threads)
            out["cpu_s"] = cpu_ns / 1e9
            waits = [t.waited_ns for t in threads]
            if all(w is not None for w in waits):
                out["ready_s"] = (cpu_ns + sum(w or 0 for w in waits)) / 1e9
        out |= {
            "phases": {
                name: {
                    "rounds": p.rounds,
                    "rounds_switched": p.rounds_switched,
                    "involuntary_switches": p.switches,
                }
                for name, p in self.phases.items()
            },
        }
        if start.load and end.load:
            out["load_before"] = list(start.load)
            out["load_after"] = list(end.load)
        if None not in (start.busy_ticks, end.busy_ticks, start.own_ticks):
            assert start.busy_ticks is not None and end.busy_ticks is not None
            assert start.own_ticks is not None and end.own_ticks is not None
            busy = end.busy_ticks - start.busy_ticks
            own = end.own_ticks - start.own_ticks
            out["others_cpu_s"] = max(0, busy - own) * _TICK_S
        if start.steal_ticks is not None and end.steal_ticks is not None:
            out["steal_s"] = (end.steal_ticks - start.steal_ticks) * _TICK_S
        return out


def _figure(record: Mapping[str, Any], key: str) -> float | None:
    value = record.get(key)
    return float(value) if isinstance(value, int | float) else None


def run_cpu_share(record: Mapping[str, Any]) -> float | None:
    """The share of the time the run wanted a CPU that it had one: its
    thread's CPU time over its rounds' wall time, or a threaded run's CPU
    time over ``ready_s`` (None without it: its wall time is not the time
    its threads wanted a CPU).  Near 1 for threads that kept their cores."""
    cpu = _figure(record, "cpu_s")
    threaded = "threads" in record
    wanted = _figure(record, "ready_s" if threaded else "wall_s")
    return cpu / wanted if wanted and cpu is not None else None


def _cpu_line(record: Mapping[str, Any], share: float) -> str:
    if "threads" in record:
        n = record["threads"]
        who = "the run's thread" if n == 1 else f"the run's {plural(n, 'thread')}"
        pronoun = "it was" if n == 1 else "they were"
        return (
            f"{who} had a CPU {share:.0%} of the time {pronoun} "
            f"ready to run (warned under {RUN_CPU:.0%})"
        )
    return (
        f"the run had the CPU {share:.0%} of its wall time (warned under {RUN_CPU:.0%})"
    )


def _switch_line(record: Mapping[str, Any], phase: Mapping[str, Any]) -> str:
    switched = switched_share(phase)
    over = record.get("counted_over")
    if isinstance(over, str):
        switches = plural(phase.get("involuntary_switches") or 0, "switch", "switches")
        return (
            f"disturbed: at most {switched:.0%} of samples had an involuntary "
            f"context switch ({switches}, counted per {over}; warned at "
            f"{SWITCHED_ROUNDS:.0%})"
        )
    return (
        f"disturbed: {switched:.0%} of rounds had an involuntary context "
        f"switch (warned at {SWITCHED_ROUNDS:.0%})"
    )


def switched_share(phase: Mapping[str, Any]) -> float:
    """The share of a phase's samples that met an involuntary switch (an
    upper bound where a count spans many)."""
    rounds = phase.get("rounds") or 0
    return (phase.get("rounds_switched") or 0) / rounds if rounds else 0.0


def disturbed_findings(record: Mapping[str, Any]) -> dict[str, str]:
    """Phase name -> why it counts as disturbed, with its figures; empty for
    an undisturbed record (or one from a file that has none)."""
    cpu_share = run_cpu_share(record)
    wall = _figure(record, "wall_s")
    context = []
    if cpu_share is not None:
        context.append(_cpu_line(record, cpu_share))
    others, steal = _figure(record, "others_cpu_s"), _figure(record, "steal_s")
    if wall and others is not None:
        context.append(
            f"other processes used {others / wall:.2f} cores, steal "
            f"{(steal or 0) / wall:.2f}"
        )
    before, after = record.get("load_before"), record.get("load_after")
    if before and after:
        context.append(f"load {before[0]:.2f} before, {after[0]:.2f} after")
    starved = cpu_share is not None and cpu_share < RUN_CPU
    out = {}
    phases = record.get("phases")
    for name, p in (phases if isinstance(phases, Mapping) else {}).items():
        if switched_share(p) < SWITCHED_ROUNDS and not starved:
            continue
        out[name] = "; ".join([_switch_line(record, p), *context])
    return out


# Where a backend's record lives in its result's ``extra``.
RECORD_KEY: Final = "disturbance"
_SUMMED: Final = ("wall_s", "cpu_s", "ready_s", "others_cpu_s", "steal_s")
# Figures of how the run was counted: a pool keeps them where its runs agree.
_KEPT: Final = ("counted_over", "threads")
_PHASE_SUMMED: Final = ("rounds", "rounds_switched", "involuntary_switches")


def pool_records(records: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The records of several runs pooled as one long run would have
    recorded them: times and counts summed (a figure some run lacks is
    dropped), the highest load average before and after kept."""
    out: dict[str, Any] = {
        "per_thread": all(r.get("per_thread") is True for r in records)
    }
    for key in _SUMMED:
        values = [r.get(key) for r in records]
        if all(isinstance(v, int | float) for v in values):
            out[key] = sum(values)
    phases: dict[str, dict[str, int]] = {}
    first = records[0].get("phases", {}) if records else {}
    for name in [n for n in first if all(n in r.get("phases", {}) for r in records)]:
        phases[name] = {
            key: sum(int(r["phases"][name].get(key, 0)) for r in records)
            for key in _PHASE_SUMMED
        }
    out["phases"] = phases
    for key in _KEPT:
        values = [r.get(key) for r in records]
        if values and values[0] is not None and values.count(values[0]) == len(values):
            out[key] = values[0]
    for key in ("load_before", "load_after"):
        loads = [r.get(key) for r in records]
        if all(isinstance(v, list) and len(v) == 3 for v in loads):
            out[key] = [max(column) for column in zip(*loads, strict=True)]
    return out


def valid_record(value: Any) -> bool:
    """Whether ``value`` has the shape :meth:`Disturbance.finish` writes:
    the reports read its figures as numbers."""
    if not isinstance(value, Mapping):
        return False
    numbers = all(
        isinstance(value.get(key, 0), int | float) for key in _SUMMED
    ) and all(
        isinstance(value.get(key), list)
        and len(value[key]) == 3
        and all(isinstance(x, int | float) for x in value[key])
        for key in ("load_before", "load_after")
        if key in value
    )
    threads = value.get("threads", 1)
    counted = isinstance(value.get("counted_over", ""), str) and (
        isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1
    )
    phases = value.get("phases", {})
    return (
        numbers
        and counted
        and isinstance(phases, Mapping)
        and all(
            isinstance(p, Mapping)
            and all(isinstance(p.get(k, 0), int) for k in _PHASE_SUMMED)
            for p in phases.values()
        )
    )
