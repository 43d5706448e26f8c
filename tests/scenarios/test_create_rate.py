"""create-rate: threads creating connections on one shared model."""

import importlib
from typing import Any

import pytest

from ctbench import registry
from ctbench.backends import BackendSpec, create_table
from ctbench.environment import gil_enabled
from ctbench.keys import key_fields
from ctbench.model import Conntrack, Limits
from ctbench.parse import parse_frame
from ctbench.results import FAILED, BackendResult, dumps, loads
from ctbench.scenarios.create_rate import (
    MAX_CONNECTIONS,
    PHASE,
    STAGE,
    CreateRateConfig,
    CreateRateWorkload,
    check_params,
    connection_ports,
    run_create_rate,
    thread_batches,
)
from ctbench.scenarios.harness import ConfigError, Turn, never
from ctbench.scenarios.threaded import CHECK_EVERY_BATCHES

BOTH = (BackendSpec("single"), BackendSpec("per-zone"))
N_THREADS, N_CONNS, BATCH = 3, 200, 16


def small(**kwargs: Any) -> CreateRateConfig:
    base: dict[str, Any] = {
        "n_threads": N_THREADS,
        "n_conns": N_CONNS,
        "batch_size": BATCH,
        "backends": BOTH,
    }
    base.update(kwargs)
    return CreateRateConfig(**base)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_threads": 0}, r"N_THREADS must be between 1 and 65535"),
        ({"n_threads": 65536}, r"zone i \+ 1 is a 16-bit zone \(got 65536\)"),
        ({"n_conns": 0}, r"N_CONNS must be at least 1 \(got 0\)"),
        ({"batch_size": 0}, r"between 1 and 32 \(NETDEV_MAX_BURST\)"),
        ({"batch_size": 33}, r"between 1 and 32 \(NETDEV_MAX_BURST\)"),
        ({"zone_layout": "each"}, r"--zones must be per-thread or shared"),
        ({"conn_limit": -1}, "--conn-limit"),
        ({"backends": ()}, "backend"),
        ({"flusher": "yes"}, "flusher must be true or false"),
        (
            {"n_threads": 65535, "n_conns": 65536, "conn_limit": 0},
            "N_THREADS x N_CONNS must be at most 4,294,836,225",
        ),
        (
            {"n_conns": 1_000_001},
            r"3,000,003 connections, over --conn-limit 3,000,000: the rest",
        ),
    ],
)
def test_arguments_are_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        small(**kwargs)


def test_the_limit_may_be_passed_when_something_removes_connections() -> None:
    small(n_conns=1_000_001, flusher=True)
    small(n_conns=1_000_001, sweeper=True)
    small(n_conns=1_000_001, conn_limit=0)
    small(n_threads=65535, n_conns=65535, conn_limit=0)
    assert small(n_threads=65535, n_conns=65535, conn_limit=0).total_conns == (
        MAX_CONNECTIONS
    )


def _ports(batch: list[bytes]) -> list[tuple[int, int]]:
    keys = [parse_frame(frame, 0) for frame in batch]
    fields = [key_fields(k.key) for k in keys if k is not None]
    return [(f.src_port, f.dst_port) for f in fields]


def test_ports_advance_and_no_two_threads_share_a_connection() -> None:
    assert connection_ports(0) == (1, 1)
    assert connection_ports(65534) == (1, 65535)
    assert connection_ports(65535) == (2, 1)
    assert connection_ports(MAX_CONNECTIONS - 1) == (65535, 65535)
    batches = [thread_batches(tid, 70, 32) for tid in range(3)]
    assert [len(b) for b in batches[0]] == [32, 32, 6]
    ports = [p for thread in batches for batch in thread for p in _ports(batch)]
    assert len(ports) == len(set(ports)) == 3 * 70
    assert _ports(batches[1][0])[0] == connection_ports(70)


def test_every_thread_creates_exactly_its_connections() -> None:
    run = run_create_rate(small())
    assert run.complete and run.command == "create-rate"
    assert [r.backend for r in run.results] == ["single", "per-zone"]
    total = N_THREADS * N_CONNS
    for result in run.results:
        extra = result.extra
        assert extra["thread_created"] == [N_CONNS] * N_THREADS
        assert extra["created"] == extra["connections"] == total
        assert extra["refused"] == 0
        # ceil(200 / 16) = 13 batches a thread, the last of 8 packets.
        assert extra["thread_batches"] == [13] * N_THREADS
        phase = result.phases[PHASE]
        assert len(phase.samples) == 13 * N_THREADS
        assert phase.counters == {
            "lookups": total,
            "created": total,
            "removed": 0,
            "refused": 0,
            "invalid": 0,
        }
        assert extra["cps"] == pytest.approx(total / (extra["wall_ms"] / 1e3))
        assert extra["cps_per_thread"] == pytest.approx(extra["cps"] / N_THREADS)
        assert len(extra["thread_ms"]) == N_THREADS
        assert "thread_lock_wait_ms" not in extra
        assert not any(key.startswith(("flusher", "sweeper")) for key in extra)
    assert run.params["parallel"] is (not gil_enabled())
    assert run.params["zone_layout"] == "per-thread"


def _run_on_model(config: CreateRateConfig) -> tuple[Conntrack, BackendResult]:
    """One backend's turn, with its model kept for the test to look at."""
    workload = CreateRateWorkload(config)
    spec = config.backends[0]
    model = Conntrack(
        create_table(spec),
        Limits(conn_limit=config.conn_limit),
        thread_safe=True,
        capacity=workload.slots,
    )
    result = BackendResult(backend=spec.name)
    turn = Turn(spec, result, model, lambda stage, done, total: None, never)
    assert workload.run(turn) is False
    return model, result


@pytest.mark.parametrize(
    ("layout", "zones"),
    [("per-thread", {1: 200, 2: 200, 3: 200}), ("shared", {1: 600})],
)
def test_threads_create_in_their_zones(layout: str, zones: dict[int, int]) -> None:
    model, _ = _run_on_model(small(zone_layout=layout, backends=BOTH[1:]))
    found = {zone: len(model.dump(zone)) for zone in range(5)}
    assert {zone: n for zone, n in found.items() if n} == zones


@pytest.mark.parametrize(
    "cleaners",
    [{"flusher": True}, {"sweeper": True}, {"flusher": True, "sweeper": True}],
)
@pytest.mark.parametrize("layout", ["per-thread", "shared"])
def test_created_is_live_plus_removed(cleaners: dict[str, bool], layout: str) -> None:
    config = small(zone_layout=layout, backends=BOTH[1:], **cleaners)
    model, result = _run_on_model(config)
    extra = result.extra
    removed = sum(extra[f"{name}_removed"] for name in cleaners)
    assert extra["created"] == N_THREADS * N_CONNS
    assert extra["thread_created"] == [N_CONNS] * N_THREADS
    assert extra["created"] == model.n_conns + removed
    assert extra["connections"] == model.n_conns
    assert result.phases[PHASE].counters["removed"] == removed
    for name in cleaners:
        # A helper that the scheduler starts late may make no pass at all.
        assert extra[f"{name}_visited"] >= extra[f"{name}_removed"] >= 0


def test_refusals_at_the_limit_are_counted() -> None:
    # 600 connections against a limit of 2, in batches of 16: the flusher
    # makes some room, but a batch outruns it even when it runs in parallel
    # (with a limit of 50, the free-threaded build's flusher kept up).
    config = small(conn_limit=2, flusher=True, backends=BOTH[:1])
    (result,) = run_create_rate(config).results
    extra = result.extra
    assert extra["refused"] > 0
    assert extra["created"] + extra["refused"] == N_THREADS * N_CONNS
    assert sum(extra["thread_created"]) == extra["created"]
    assert result.phases[PHASE].counters["refused"] == extra["refused"]
    assert extra["connections"] <= 2


def test_lock_waits_are_timed_when_asked() -> None:
    (result,) = run_create_rate(
        small(lock_wait=True, flusher=True, backends=BOTH[:1])
    ).results
    waits = result.extra["thread_lock_wait_ms"]
    assert len(waits) == N_THREADS and all(w >= 0 for w in waits)
    assert result.extra["flusher_lock_wait_ms"] >= 0


def test_progress_reaches_the_total() -> None:
    calls: list[tuple[str, str, int, int]] = []
    run_create_rate(small(), lambda *args: calls.append(args))
    for backend in ("single", "per-zone"):
        mine = [c for c in calls if c[0] == backend]
        assert mine[0] == (backend, STAGE, 0, N_THREADS * N_CONNS)
        assert mine[-1] == (backend, STAGE, N_THREADS * N_CONNS, N_THREADS * N_CONNS)


def test_interrupt_stops_the_threads_and_keeps_what_was_measured() -> None:
    calls = 0

    def interrupted() -> bool:
        nonlocal calls
        calls += 1
        return calls > 1  # the check before the first backend says no

    conns = 50 * CHECK_EVERY_BATCHES
    config = small(n_threads=2, n_conns=conns, batch_size=1, flusher=True)
    run = run_create_rate(config, interrupted=interrupted)
    assert not run.complete
    (result,) = run.results
    done = result.extra["thread_batches"]
    assert all(0 < d < conns for d in done)
    assert result.extra["thread_created"] == done  # one connection a batch
    assert len(result.phases[PHASE].samples) == sum(done)
    assert result.extra["created"] == (
        result.extra["connections"] + result.extra["flusher_removed"]
    )


@pytest.mark.parametrize(
    ("module", "where"),
    [("threaded", "join_threads"), ("create_rate", "_fill_result")],
)
def test_a_second_ctrl_c_while_the_samples_are_gathered_keeps_them(
    monkeypatch: pytest.MonkeyPatch, module: str, where: str
) -> None:
    patched = importlib.import_module(f"ctbench.scenarios.{module}")
    real = getattr(patched, where)
    calls = 0

    def second_ctrl_c(*args: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyboardInterrupt
        real(*args)

    monkeypatch.setattr(patched, where, second_ctrl_c)
    checks = 0

    def interrupted() -> bool:
        nonlocal checks
        checks += 1
        return checks > 1

    conns = 50 * CHECK_EVERY_BATCHES
    run = run_create_rate(
        small(n_threads=2, n_conns=conns, batch_size=1), interrupted=interrupted
    )
    assert not run.complete and len(run.results) == 1
    (result,) = run.results
    assert result.status == "interrupted"
    done = result.extra["thread_batches"]
    assert sum(done) > 0
    assert len(result.phases[PHASE].samples) == sum(done)


@pytest.mark.parametrize("broken", ["execute", "flush"])
def test_a_failing_thread_is_reported_not_hung(
    monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    def fails(self: Conntrack, *args: object) -> object:
        raise RuntimeError("table broke")

    monkeypatch.setattr(Conntrack, broken, fails)
    run = run_create_rate(small(flusher=True))
    assert [r.status for r in run.results] == [FAILED, FAILED]
    assert all("RuntimeError: table broke" in str(r.error) for r in run.results)


def test_results_round_trip_and_their_params_are_checked() -> None:
    run = run_create_rate(small(sweeper=True, lock_wait=True))
    back = loads(dumps(run), "run", registry.param_checks())
    assert back.params == run.params and back.complete
    for mine, theirs in zip(run.results, back.results, strict=True):
        assert theirs.extra == mine.extra
        assert theirs.phases[PHASE].samples == mine.phases[PHASE].samples
    check_params(run.params)
    for bad in ({"zone_layout": "all"}, {"sweeper": 1}, {"n_conns": 0}):
        with pytest.raises(ConfigError):
            check_params({**run.params, **bad})


def test_pooled_runs_add_up_and_their_rate_is_computed_again() -> None:
    config = small(backends=BOTH[:1], flusher=True)
    runs = [run_create_rate(config) for _ in range(2)]
    pooled = registry.pool([("a.json", runs[0]), ("b.json", runs[1])])
    (result,) = pooled.results
    first, second = (r.results[0].extra for r in runs)
    extra = result.extra
    assert extra["created"] == 2 * N_THREADS * N_CONNS
    assert extra["thread_created"] == [2 * N_CONNS] * N_THREADS
    removed = first["flusher_removed"] + second["flusher_removed"]
    assert extra["flusher_removed"] == removed
    walls = [first["wall_ms"], second["wall_ms"]]
    assert extra["wall_ms_per_run"] == walls
    assert "wall_ms" not in extra
    assert extra["cps"] == pytest.approx(extra["created"] / (sum(walls) / 1e3))
    assert extra["cps_per_thread"] == pytest.approx(extra["cps"] / N_THREADS)
