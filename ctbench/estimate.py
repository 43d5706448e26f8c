"""How long a run will take, known before it starts.

The estimate is the run's work times each piece's cost, measured on this
machine by a short calibration of each backend: for benchmark-zones, the
scenario's own fill and a few of its rounds, its harness included, at the
run's execute size (ENTRIES frames, up to 4,096) on a table as big as the
run's (up to 262,144 connections); past those sizes a round's cost grows
with ENTRIES, and a scanning design's flushes with the connections stored.
A round has a cost of its own besides its frames (the four timed calls,
the counters and samples kept between them), so a run of many rounds of
one entry is not free: `benchmark-zones 1 2 30000000` takes about 35 us a
round here, 20 minutes.  Every sample also costs the report and the
results file a little at the end.  benchmark's threads are timed on a few
of their batches; replay's on whole repetitions of the capture's first
packets.

Each command's estimate runs its own scenario small, so this module sits
above the scenarios (:mod:`ctbench.scenarios`), and the scenarios know
nothing of it.

``python -m bench.experiments.estimates`` checks the estimates against real runs on a
grid of points, corners included.

A run counted under callgrind (``--measure instructions`` or ``cycles``,
:mod:`ctbench.callgrind`) takes its time run's estimate times callgrind's
slowdown, plus valgrind starting the interpreter and two dumps per timed
section (:func:`counted_estimate`).

Calibrating costs about 0.1-0.5 s per backend, so it is done only when an
upper bound from generous fixed costs says the run could last more than a
minute; below that the run just starts.  The command line prints an estimate
over a minute and refuses one over an hour unless --force.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final, Protocol

from ctbench import environment
from ctbench.backends import BackendSpec, create_table
from ctbench.capture import Capture
from ctbench.capture.track import plan_batches
from ctbench.model import Conntrack, Limits, shared_slots
from ctbench.packets import ovstest_frame
from ctbench.results import BackendResult
from ctbench.scenarios.benchmark_zones import (
    FILL_CHUNK_FRAMES,
    MAX_ZONES,
    PHASES,
    ZoneConfig,
    ZoneWorkload,
    build_frames,
)
from ctbench.scenarios.create_rate import thread_batches
from ctbench.scenarios.harness import Turn, gc_frozen, never
from ctbench.scenarios.replay import ReplayConfig, ReplayWorkload

# Below this the run starts without a word; above it the estimate is shown.
QUIET_BELOW_S: Final = 60.0
# Above this a run is refused unless --force.
REFUSE_ABOVE_S: Final = 3600.0
# Generous per-operation costs, for the bound that decides whether to
# calibrate: 5-10x what this machine measured (docs/performance.md, "How fast is
# ctbench's model?": a commit costs 0.5-1.3 us a frame, a lookup 0.2-0.3 us,
# a visited node 16-20 ns, a per-frame batch of 32 frames 25-30 us).
BOUND_COMMIT_S: Final = 10e-6
BOUND_LOOKUP_S: Final = 3e-6
BOUND_VISIT_S: Final = 200e-9
BOUND_BATCH_FRAME_S: Final = 10e-6
# A round's own cost and an execute call's, whatever their frames: 33-38 us
# a round of one entry, 5-8 us a one-frame commit in the fill, here
# (`python -m bench.experiments.estimates`, the `1 2 N` and `1 65534 N` points).
BOUND_ROUND_S: Final = 200e-6
BOUND_CALL_S: Final = 50e-6
# The report and the results file, per sample kept: statistics and layout
# 0.12-0.25 us, the JSON file 0.26-0.55 us here (`python -m bench.experiments.estimates
# --constants`, and the same timing on a 1.6 M-sample run).
REPORT_S_PER_SAMPLE: Final = 0.8e-6
# Every backend's memory sample, set-up and report: a second at most.
FIXED_S: Final = 1.0
# Starting one of benchmark's threads (it builds its batch, then waits at
# the barrier): `ctbench benchmark 16000 1 1 -b single` took 28.2 s and
# `benchmark 1 1 1` 0.44 s on the 2-vCPU AMD VM, 1.7 ms a thread; 4,000
# threads took 1.1 ms each.
THREAD_START_S: Final = 1.7e-3
# The largest execute the calibration times: enough for the bulk path and
# stable timings (bigger ones cost the same per frame).
CALIBRATION_FRAMES: Final = 4096
# The largest table the calibration fills: a big table's probes and scans
# miss the caches.  With 3,000,000 stored, a calibration on 32,768
# connections measured the single map's round x2.3 and commit x2.4 too
# cheap, the sharded map's scanned node x4.1 and round x3.6; on 262,144,
# x1.2, x2.0, x1.3 and x1.7; the per-zone maps x1.0-1.1 on either
# (`python -m bench.experiments.estimates --large-table`, machine shared).  Filling
# it costs the calibration about 0.3 s.
CALIBRATION_CONNS: Final = 1 << 18
# The calibration's rounds: as many as execute about 2,048 frames each way,
# and at least a few, so a round of one frame is timed 2,048 times.
CALIBRATION_ROUND_FRAMES: Final = 2048
CALIBRATION_MIN_ROUNDS: Final = 10
# A bound per packet, for the decision to calibrate: 5x the 14-22 us a
# packet of tests/data/captures/mixed.pcap costs here, batches of 32 and 1
# (repetitions included; real captures cost more per packet than
# ovstest's frame).
BOUND_REPLAY_PACKET_S: Final = 100e-6
# Packets run per backend to estimate a long run, in at least two
# repetitions (the flush between them is part of a repetition's cost).
REPLAY_CALIBRATION_PACKETS: Final = 4096
REPLAY_CALIBRATION_MIN_REPEAT: Final = 2
# Connections create-rate's calibration creates per backend: enough for
# stable timings, about 0.1-0.3 s; a bigger table costs more per creation
# (see CALIBRATION_CONNS), which the generous bound covers below a minute.
CREATE_CALIBRATION_CONNS: Final = 1 << 15
# A zone the calibration neither fills (it fills at most 4,096) nor flushes
# (the rounds flush zones 1 and 65535).
UNUSED_ZONE: Final = 0xFFFE


# A counted run against a time run, measured by `python -m
# bench.experiments.callgrind_slowdown --repeat 2` on the 2-vCPU VM ctbench
# is built on (shared with other jobs, least of 2 runs): the fill's 20,000
# commits ran 90 times slower under callgrind and 161 times with its cache
# simulation; valgrind starting Python and ctbench took 9.4 s and 20.2 s;
# each dump at a section's edge took 19.2 ms and 18.8 ms (callgrind walks
# every basic block it has seen to write one).  Rounded up.  The set-up a
# time run's estimate bounds (FIXED_S) is slowed down with the rest, so a
# small counted run's estimate is generous.
CALLGRIND_SLOWDOWN: Final = {"instructions": 90.0, "cycles": 160.0}
CALLGRIND_START_S: Final = {"instructions": 10.0, "cycles": 21.0}
CALLGRIND_EDGE_S: Final = {"instructions": 0.02, "cycles": 0.02}


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
    """One backend's costs in seconds, measured with executes of ``frames``
    frames (the run's ENTRIES, up to CALIBRATION_FRAMES)."""

    frames: int
    generate: float  # per frame built (once per run, shared by the backends)
    commit: float  # per frame of the fill that creates a connection
    refused: float  # per frame that finds nothing and creates nothing
    visit: float  # per node a scan of the whole table visits
    scans_all: bool  # a zone's flush scans every node of the table
    round: float  # a round of ``frames`` frames, harness included, scans not


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def calibrate(spec: BackendSpec, entries: int, stored: int) -> Costs:
    """Measure one backend's costs by running benchmark-zones' own fill and
    rounds, small: executes of n = min(ENTRIES, 4,096) frames, as many
    zones of n as make the run's table up to CALIBRATION_CONNS (a big
    table's dict probes and scans miss the caches), the scenario's own
    harness between the timed calls (about 0.1-0.5 s)."""
    n = min(entries, CALIBRATION_FRAMES)
    zones = min(max(2, min(stored, CALIBRATION_CONNS) // n), MAX_ZONES)
    rounds = max(CALIBRATION_MIN_ROUNDS, CALIBRATION_ROUND_FRAMES // n)
    generate = _timed(lambda: build_frames(CALIBRATION_FRAMES)) / CALIBRATION_FRAMES
    config = ZoneConfig(
        entries=n,
        zones=zones,
        iterations=rounds,
        memory_sample=0,
        backends=(spec,),
        conn_limit=0,
    )
    workload = ZoneWorkload(config)
    model = Conntrack(create_table(spec), Limits(conn_limit=0))
    result = BackendResult(backend=spec.name, options=dict(spec.options))
    turn = Turn(spec, result, model, lambda stage, done, total: None, never)
    calls = max(1, CALIBRATION_FRAMES // n)
    with gc_frozen():
        workload.run(turn)
        frames = workload.frames
        # A frame the limit refuses looks its key up both ways and creates
        # nothing: as an execute without commit into an empty zone.
        refused = _timed(
            lambda: [model.execute(frames, UNUSED_ZONE, False, 0) for _ in range(calls)]
        )
    nodes = model.n_conns
    empty_flush = result.phases["flush_empty_zone"]
    scans_all = empty_flush.counters.get("visited", 0) > 0
    # A scan as the rounds make it, right after an execute: a standalone one
    # finds the table warmer in the caches (53 against 90 ns a node on the
    # sharded map, `python -m bench.experiments.estimates --large-table`).
    scan = statistics.median(empty_flush.samples) / 1e6
    visit = scan / nodes if scans_all else 0.0
    # The rounds' whole time (the timed calls, the harness between them, and
    # what the machine's other work takes from them, as it will from the
    # run's), without the two scans of the table, which grow with the run's.
    rounds_s = float(result.extra["wall_s"]) - result.fill.insert_us / 1e6
    return Costs(
        frames=n,
        generate=generate,
        commit=result.fill.insert_us / 1e6 / (n * zones),
        refused=refused / (calls * n),
        visit=visit,
        scans_all=scans_all,
        round=max(rounds_s / rounds - 2 * nodes * visit, 0.0),
    )


def zones_seconds(
    costs: Costs, entries: int, zones: int, rounds: int, conn_limit: int
) -> float:
    """benchmark-zones' time on one backend with these costs: the fill, the
    rounds, and the report and file of the samples they keep."""
    requested = entries * zones
    stored = Limits(conn_limit=conn_limit).stored(requested)
    fill = stored * costs.commit + (requested - stored) * costs.refused
    scans = 2 * stored * costs.visit if costs.scans_all else 0.0
    per_round = costs.round * entries / costs.frames + scans
    return fill + rounds * (per_round + len(PHASES) * REPORT_S_PER_SAMPLE)


def bound_seconds(entries: int, zones: int, rounds: int, conn_limit: int) -> float:
    """An upper bound of zones_seconds() on any backend, from BOUND_* costs."""
    requested = entries * zones
    stored = Limits(conn_limit=conn_limit).stored(requested)
    calls = zones * math.ceil(entries / FILL_CHUNK_FRAMES)  # the fill's executes
    fill = requested * BOUND_COMMIT_S + calls * BOUND_CALL_S
    per_round = (
        BOUND_ROUND_S
        + entries * (BOUND_COMMIT_S + 2 * BOUND_LOOKUP_S)
        + 2 * stored * BOUND_VISIT_S
    )
    generate = entries * BOUND_LOOKUP_S
    return generate + fill + rounds * (per_round + len(PHASES) * REPORT_S_PER_SAMPLE)


def estimate_zones(
    specs: tuple[BackendSpec, ...],
    entries: int,
    zones: int,
    rounds: int,
    conn_limit: int,
    *,
    calibrate_above: float = QUIET_BELOW_S,
) -> Estimate:
    """The whole run, every backend in turn."""
    return estimate_zones_grid(
        specs,
        [(entries, zones)],
        rounds,
        conn_limit,
        calibrate_above=calibrate_above,
    )


def estimate_zones_grid(
    specs: tuple[BackendSpec, ...],
    points: Sequence[tuple[int, int]],
    rounds: int,
    conn_limit: int,
    *,
    calibrate_above: float = QUIET_BELOW_S,
) -> Estimate:
    """Runs of every (ENTRIES, ZONES) point in turn (a sweep), each backend
    calibrated once per execute size.  ``calibrate_above``: the bound below
    which the bound is the answer (0 calibrates always)."""
    bound = sum(
        len(specs) * (FIXED_S + bound_seconds(e, z, rounds, conn_limit))
        for e, z in points
    )
    if bound <= calibrate_above:
        return Estimate(bound, calibrated=False)
    # Each backend is calibrated once per execute size, on the largest
    # table the points of that size hold.
    largest: dict[int, int] = {}
    for e, z in points:
        n = min(e, CALIBRATION_FRAMES)
        stored = Limits(conn_limit=conn_limit).stored(e * z)
        largest[n] = max(largest.get(n, 0), stored)
    measured: dict[tuple[str, int], Costs] = {}  # a spec given twice: once
    total = 0.0
    for e, z in points:
        n = min(e, CALIBRATION_FRAMES)
        for i, spec in enumerate(specs):
            if (spec.label, n) not in measured:
                measured[spec.label, n] = calibrate(spec, e, largest[n])
            costs = measured[spec.label, n]
            generate = e * costs.generate if i == 0 else 0.0
            total += FIXED_S + generate + zones_seconds(costs, e, z, rounds, conn_limit)
    return Estimate(total, calibrated=True)


def threads_at_once(n_threads: int) -> int:
    """How many of a run's worker threads execute at the same time, which
    divides their work's time.  Under a GIL one thread runs Python at a
    time, so the threads take turns and their work adds up: 1.  With the
    GIL disabled (a free-threaded build) they run in parallel, one per
    usable CPU at most: min(N_THREADS, CPUs).

    That is what ``benchmark``'s threads do: each updates its own
    connection, and 2 threads on 2 vCPUs made 1.85x-1.93x one thread's
    packets a second (docs/free-threading.md, "Measured: scaling with
    threads").  Threads that wait for each other gain less: two of
    ``create-rate``'s threads under ``ct_lock`` made 0.80x-0.85x one
    thread's connections a second there (1.49x with a lock per zone), so
    :func:`estimate_create_rate` divides only the frames its threads build
    on their own, not their creations."""
    if environment.gil_enabled():
        return 1
    return max(1, min(n_threads, environment.usable_cpus()))


def estimate_threads(
    specs: tuple[BackendSpec, ...],
    n_threads: int,
    batches_per_thread: int,
    batch_size: int,
    *,
    calibrate_above: float = QUIET_BELOW_S,
) -> Estimate:
    """benchmark's threads' batches, timed on one thread, divided among
    the threads that run at once (:func:`threads_at_once`: under a GIL
    they add up).  ``calibrate_above``: the bound below which the bound
    is the answer; the bound adds every batch up, so that it stays an
    upper bound whatever the threads gain by running at once."""
    batches = n_threads * batches_per_thread
    starts = n_threads * THREAD_START_S
    report = batches * REPORT_S_PER_SAMPLE
    bound = len(specs) * (
        FIXED_S + starts + report + batches * batch_size * BOUND_BATCH_FRAME_S
    )
    if bound <= calibrate_above:
        return Estimate(bound, calibrated=False)
    at_once = threads_at_once(n_threads)
    total = 0.0
    for spec in specs:
        work = batches * calibrate_batch(spec, batch_size)
        total += FIXED_S + starts + report + work / at_once
    return Estimate(total, calibrated=True)


def calibrate_batch(spec: BackendSpec, batch_size: int) -> float:
    """Seconds one of benchmark's batches takes, on one thread of a shared
    model: its connection found and updated."""
    batch = [ovstest_frame(1, 2)] * batch_size
    model = Conntrack(create_table(spec), Limits(), thread_safe=True)
    model.execute(batch, 0, True, 0)

    def fifty() -> None:
        for _ in range(50):
            model.execute(batch, 0, True, 0)

    # The least of four: a calibration cut by the scheduler overstates.
    return min(_timed(fifty) for _ in range(4)) / 50


def estimate_create_rate(
    specs: tuple[BackendSpec, ...],
    n_threads: int,
    n_conns: int,
    batch_size: int,
    *,
    calibrate_above: float = QUIET_BELOW_S,
) -> Estimate:
    """create-rate's threads, each building its frames, then creating its
    connections a batch at a time, timed on one thread.  Building frames
    touches nothing shared, so that part is divided among the threads that
    run at once (:func:`threads_at_once`); the creations are counted one
    after another, as the threads make them under ``ct_lock``: two threads
    made fewer connections a second than one, on either build
    (docs/free-threading.md), so even that is short for the default lock.
    A flusher or a sweeper takes a share of the same interpreter or CPUs,
    which this leaves out.  ``calibrate_above``:
    the bound below which the bound is the answer; the bound adds every
    thread's work up, so that it stays an upper bound."""
    conns = n_threads * n_conns
    batches = n_threads * math.ceil(n_conns / batch_size)
    starts = n_threads * THREAD_START_S
    report = batches * REPORT_S_PER_SAMPLE
    bound = len(specs) * (
        FIXED_S + starts + report + conns * (BOUND_LOOKUP_S + BOUND_COMMIT_S)
    )
    if bound <= calibrate_above:
        return Estimate(bound, calibrated=False)
    generate, per_conn = calibrate_creations(
        specs, min(conns, CREATE_CALIBRATION_CONNS), batch_size
    )
    at_once = threads_at_once(n_threads)
    total = 0.0
    for created in per_conn:
        work = conns * generate / at_once + conns * created
        total += FIXED_S + starts + report + work
    return Estimate(total, calibrated=True)


def calibrate_creations(
    specs: tuple[BackendSpec, ...], n: int, batch_size: int
) -> tuple[float, list[float]]:
    """Seconds create-rate takes per connection, on one thread of a shared
    model: to build its frame, and to create it on each of ``specs``
    (``n`` connections, in batches of ``batch_size``)."""
    start = time.perf_counter()
    batched = thread_batches(0, n, batch_size)
    generate = (time.perf_counter() - start) / n
    per_conn = []
    for spec in specs:
        model = Conntrack(
            create_table(spec),
            Limits(conn_limit=0),
            thread_safe=True,
            capacity=shared_slots(n, 1),
        )

        def create(m: Conntrack = model) -> None:
            for batch in batched:
                m.execute(batch, 1, True, 0)

        with gc_frozen():
            per_conn.append(_timed(create) / n)
    return generate, per_conn


def estimate_replay(
    config: ReplayConfig,
    capture: Capture,
    *,
    calibrate_above: float = QUIET_BELOW_S,
) -> Estimate:
    """The whole run, every backend in turn: a generous bound, or, when
    that is over ``calibrate_above`` seconds, each backend's time for whole
    repetitions of the capture's first packets (up to 4,096), run as the
    replay runs them: the timed batches, the harness between them and the
    untimed flush between repetitions."""
    packets = len(capture) * config.repeat
    samples = len(plan_batches(capture, config.track)) * config.repeat
    report = samples * REPORT_S_PER_SAMPLE
    bound = len(config.backends) * (FIXED_S + report + packets * BOUND_REPLAY_PACKET_S)
    if bound <= calibrate_above:
        return Estimate(bound, calibrated=False)
    first = min(len(capture), REPLAY_CALIBRATION_PACKETS)
    part = Capture(
        capture.path,
        capture.format,
        capture.link_types,
        capture.frames[:first],
        capture.ts_ns[:first],
    )
    reps = max(REPLAY_CALIBRATION_MIN_REPEAT, REPLAY_CALIBRATION_PACKETS // first)
    total = 0.0
    for spec in config.backends:
        # Timed, whatever the run measures: its marks would cost a syscall.
        timed = replace(config, repeat=reps, backends=(spec,), measure="time")
        workload = ReplayWorkload(timed, part)
        model = Conntrack(
            create_table(spec),
            Limits(conn_limit=config.conn_limit),
            verify_l4=config.verify_l4,
        )
        result = BackendResult(backend=spec.name, options=dict(spec.options))
        turn = Turn(spec, result, model, lambda stage, done, total: None, never)
        with gc_frozen(not config.gc_enabled):
            start = time.perf_counter()  # after the collection gc_frozen makes
            workload.run(turn)
            per_packet = (time.perf_counter() - start) / (reps * first)
        total += FIXED_S + report + packets * per_packet
    return Estimate(total, calibrated=True)


class Estimator(Protocol):
    """A command's estimate, calibrated when its bound passes
    ``calibrate_above`` seconds."""

    def __call__(self, *, calibrate_above: float) -> Estimate: ...


def counted_estimate(measure: str, sections: int, estimate: Estimator) -> Estimate:
    """A run's time as ``measure`` makes it: ``estimate(...)``
    for time; under callgrind, that times the slowdown (calibrated once it
    could pass a minute, slowed down), plus the start and the dumps at
    ``sections`` timed sections' two edges each."""
    if measure not in CALLGRIND_SLOWDOWN:
        return estimate(calibrate_above=QUIET_BELOW_S)
    slowdown = CALLGRIND_SLOWDOWN[measure]
    run = estimate(calibrate_above=QUIET_BELOW_S / slowdown)
    seconds = (
        run.seconds * slowdown
        + CALLGRIND_START_S[measure]
        + 2 * sections * CALLGRIND_EDGE_S[measure]
    )
    return Estimate(seconds, run.calibrated)
