import gc

import pytest

from ctbench.backends import BackendSpec, create_table
from ctbench.model import Conntrack, Limits
from ctbench.packets import zone_benchmark_ports
from ctbench.render import render
from ctbench.results import dumps, loads
from ctbench.scenarios import benchmark_zones
from ctbench.scenarios.benchmark_zones import (
    PHASE_ORDER,
    SweepEmulation,
    ZoneConfig,
    build_frames,
    run_zones,
)
from ctbench.scenarios.harness import ConfigError

BOTH = (BackendSpec("single"), BackendSpec("per-zone"))


def small(**kwargs: object) -> ZoneConfig:
    base: dict[str, object] = {
        "entries": 100,
        "zones": 3,
        "iterations": 4,
        "backends": BOTH,
        "memory_sample": 0,
    }
    base.update(kwargs)
    return ZoneConfig(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"entries": 0}, "ENTRIES"),
        ({"entries": 2**32}, "ENTRIES"),
        ({"zones": 0}, "ZONES"),
        ({"zones": 65535}, "ZONES"),
        ({"iterations": 0}, "ITERATIONS"),
        ({"batch_size": 0}, "--batch-size"),
        ({"batch_size": 33}, "--batch-size"),
        ({"conn_limit": -1}, "--conn-limit"),
        ({"warmup": -1}, "--warmup"),
        ({"sweep_every": 0.0}, "--sweep-every"),
        ({"backends": ()}, "backend"),
    ],
)
def test_arguments_are_checked_like_ovstest(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        small(**kwargs)


def test_limits_of_the_ranges_are_accepted() -> None:
    small(entries=2**32 - 1, zones=65534, batch_size=32)


def test_packets_follow_ovstest() -> None:
    # The frames in ovstest's order; the batch size only splits them.
    frames = build_frames(5)
    assert frames == [build_frames(5, i)[0] for i in range(5)]
    assert zone_benchmark_ports(0) == (65535, 65535)


def test_phase_order_and_zones_through_the_counters() -> None:
    run = run_zones(small())
    assert run.complete
    single, per_zone = run.results
    for result in run.results:
        p = result.phases
        assert set(p) == set(PHASE_ORDER)
        assert all(len(p[name].samples) == 4 for name in PHASE_ORDER)
        assert result.fill.requested == result.fill.stored == 300
        # Each round first flushes zone 1 full (so it was refilled by the
        # previous commit), then commit re-creates every entry (so the flush
        # came before it), then no-commit only looks up.
        assert p["flush_full_zone"].counters["removed"] == 400
        assert p["ct_execute_commit"].counters == {
            "lookups": 400,
            "created": 400,
            "removed": 0,
            "refused": 0,
            "invalid": 0,
        }
        assert p["ct_execute_no_commit"].counters["lookups"] == 400
        assert p["ct_execute_no_commit"].counters["created"] == 0
        # zone 65535 holds nothing
        assert p["flush_empty_zone"].counters["removed"] == 0
        assert result.extra["stored_at_end"] == 300
    # The single map visits every entry for either flush; per-zone only zone 1.
    assert single.phases["flush_full_zone"].counters["visited"] == 4 * 300
    assert single.phases["flush_empty_zone"].counters["visited"] == 4 * 300
    assert per_zone.phases["flush_full_zone"].counters["visited"] == 4 * 100
    assert per_zone.phases["flush_empty_zone"].counters["visited"] == 0


def test_connection_limit_clips_and_is_reported() -> None:
    run = run_zones(small(zones=5, iterations=2, conn_limit=250))
    for result in run.results:
        assert (result.fill.requested, result.fill.stored) == (500, 250)
        assert result.fill.refused == 250
        # zone 1 was full, so each round frees and re-creates 100
        assert result.phases["ct_execute_commit"].counters["created"] == 200


def test_warmup_rounds_are_not_counted() -> None:
    run = run_zones(small(iterations=3, warmup=2, backends=(BackendSpec("single"),)))
    phases = run.results[0].phases
    assert all(len(phases[name].samples) == 3 for name in PHASE_ORDER)
    assert run.params["warmup"] == 2


def test_gc_is_frozen_during_the_run_and_restored() -> None:
    seen: list[bool] = []

    def progress(backend: str, stage: str, done: int, total: int) -> None:
        seen.append(gc.isenabled())

    assert gc.isenabled()
    run = run_zones(small(iterations=1), progress)
    assert gc.isenabled()
    assert seen and not any(seen)
    assert run.params["gc"] == "frozen"
    seen.clear()
    run = run_zones(small(iterations=1, gc_enabled=True), progress)
    assert all(seen)
    assert run.params["gc"] == "enabled"


def test_interrupt_keeps_the_whole_rounds_gathered_so_far() -> None:
    stop = {"now": False}

    def progress(backend: str, stage: str, done: int, total: int) -> None:
        if stage == "iterations" and done == 2:
            stop["now"] = True  # the third round is cut after its first phase

    run = run_zones(small(iterations=10), progress, lambda: stop["now"])
    assert not run.complete
    assert len(run.results) == 1  # the second backend never started
    result = run.results[0]
    assert result.status == "interrupted"
    assert {len(p.samples) for p in result.phases.values()} == {2}
    assert result.extra["rounds"] == 2
    assert {p.counters["lookups"] for n, p in result.phases.items() if "exec" in n} == {
        2 * 100
    }


def test_memory_figures_are_measured() -> None:
    run = run_zones(small(iterations=1, memory_sample=2_000))
    single, per_zone = run.results
    assert 100 < single.memory.bytes_per_conn < 1000
    assert per_zone.memory.fixed_bytes > 1_000_000 > single.memory.fixed_bytes
    assert single.memory.sample_conns == 300


def test_results_round_trip() -> None:
    run = run_zones(small(iterations=2, ovs_stats=True))
    again = loads(dumps(run))
    assert dumps(again) == dumps(run)
    assert again.results[0].phases["flush_full_zone"].samples == (
        run.results[0].phases["flush_full_zone"].samples
    )


def test_sweep_emulation_lets_the_frozen_clock_lose_connections() -> None:
    """The clean thread's cadence: a pass that stops at its bound runs again
    200 ms later, a finished one after the sweep interval."""
    model = Conntrack(create_table(BackendSpec("single")), Limits(conn_limit=64))
    model.execute(build_frames(50), 0, True, 0)  # one connection per list
    wall = [0]
    sweeper = SweepEmulation(
        every_s=61.0, base_ms=0, conn_limit=64, clock=lambda: wall[0]
    )
    sweeper.maybe_sweep(model)  # not yet due
    assert model.n_conns == 50
    wall[0] = 61 * 10**9  # past the UDP first timeout, 60 s
    sweeper.maybe_sweep(model)
    # 64 / 64 = 1: the pass stops before the list after it visited 2.
    assert (sweeper.swept, sweeper.passes, model.n_conns) == (2, 1, 48)
    wall[0] += 10**8  # 100 ms: not due yet
    sweeper.maybe_sweep(model)
    assert sweeper.passes == 1
    while model.n_conns:
        wall[0] += 2 * 10**8
        sweeper.maybe_sweep(model)
    assert (sweeper.swept, sweeper.passes) == (50, 25)
    wall[0] += 2 * 10**8  # the empty lists: one pass finishes them all
    sweeper.maybe_sweep(model)
    assert sweeper.passes == 26
    wall[0] += 2 * 10**8  # finished: the next pass waits the full interval
    sweeper.maybe_sweep(model)
    assert sweeper.passes == 26


def test_an_interrupted_fill_counts_what_it_attempted() -> None:
    # Ctrl-C during the fill once printed "stored 160,000 of 2,000,000
    # requested, 0 refused, 1,840,000 repeated an earlier packet's connection".
    stop = {"now": False}

    def progress(backend: str, stage: str, done: int, total: int) -> None:
        if stage == "fill" and done == 200:  # frames: two zones of 100
            stop["now"] = True

    run = run_zones(small(zones=5, iterations=3), progress, lambda: stop["now"])
    fill = run.results[0].fill
    assert (fill.requested, fill.attempted, fill.stored, fill.refused) == (
        500,
        200,
        200,
        0,
    )
    text = render(run, "patch")
    assert "stored 200 of 500 requested, 0 refused, 300 never attempted" in text
    assert "repeated" not in text
    assert run.results[0].phases == {}


def test_the_fill_stops_within_a_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    # A zone of 30 M frames once ignored Ctrl-C for 40 s: it was one call.
    monkeypatch.setattr(benchmark_zones, "FILL_CHUNK_FRAMES", 30)
    seen: list[int] = []

    def progress(backend: str, stage: str, done: int, total: int) -> None:
        if stage == "fill":
            seen.append(done)

    run = run_zones(small(zones=1, iterations=3), progress, lambda: len(seen) >= 2)
    fill = run.results[0].fill
    assert seen == [30, 60]
    assert (fill.requested, fill.attempted, fill.stored) == (100, 60, 60)
    assert "40 never attempted" in render(run, "patch")


def test_chunked_and_whole_fills_store_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    whole = run_zones(small(zones=3, iterations=2))
    monkeypatch.setattr(benchmark_zones, "FILL_CHUNK_FRAMES", 7)
    chunked = run_zones(small(zones=3, iterations=2))
    for a, b in zip(whole.results, chunked.results, strict=True):
        untimed = {"insert_us": 0, "generate_us": 0}
        assert vars(a.fill) | untimed == vars(b.fill) | untimed
        assert {n: p.counters for n, p in a.phases.items()} == {
            n: p.counters for n, p in b.phases.items()
        }


def test_a_run_stopped_during_the_memory_sample_requested_its_fill() -> None:
    asked = iter([False, True])  # before the backend starts, then after
    run = run_zones(
        small(zones=2, iterations=3, memory_sample=1000, backends=BOTH[:1]),
        lambda backend, stage, done, total: None,
        lambda: next(asked, True),
    )
    fill = run.results[0].fill
    assert (fill.requested, fill.attempted, fill.stored) == (200, 0, 0)


def test_what_a_phase_returns_is_freed_outside_the_next_phase_timing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An execute returns a list of ENTRIES states; freeing it inside the
    # next phase's timed section made an empty flush grow with ENTRIES.
    import time

    events: list[str] = []

    class Logged(list[int]):
        def __del__(self) -> None:
            events.append("freed")

    real_execute, real_flush = Conntrack.execute, Conntrack.flush
    real_clock = time.perf_counter_ns

    def execute(self: Conntrack, *args: object, **kwargs: object) -> list[int]:
        events.append("call")
        return Logged(real_execute(self, *args, **kwargs))  # type: ignore[arg-type]

    def flush(self: Conntrack, *args: object) -> object:
        events.append("call")
        return real_flush(self, *args)  # type: ignore[arg-type]

    def clock() -> int:
        events.append("clock")
        return real_clock()

    def progress(backend: str, stage: str, done: int, total: int) -> None:
        if stage == "fill" and done == total:
            events.append("rounds")

    monkeypatch.setattr(Conntrack, "execute", execute)
    monkeypatch.setattr(Conntrack, "flush", flush)
    monkeypatch.setattr(time, "perf_counter_ns", clock)
    run_zones(small(iterations=3, backends=BOTH[1:]), progress)
    rounds = events[events.index("rounds") :]
    assert rounds.count("freed") >= 6  # two executes a round
    for i, event in enumerate(rounds):
        if event == "freed":
            last = next(e for e in reversed(rounds[:i]) if e in ("clock", "call"))
            assert last == "clock", "freed between a timed call and its clock"
