import importlib
import random
import sys
import threading
from collections.abc import Iterator

import pytest

from ctbench.backends import BackendSpec, backend_names, create_table
from ctbench.environment import gil_enabled
from ctbench.keys import key_fields
from ctbench.model import Conntrack, Limits
from ctbench.packets import ovstest_frame
from ctbench.parse import parse_frame
from ctbench.results import FAILED, dumps, loads
from ctbench.results.pairing import table_of
from ctbench.scenarios.benchmark import (
    PHASE,
    STAGE,
    ThreadsConfig,
    run_threads,
    thread_batch,
)
from ctbench.scenarios.harness import ConfigError
from ctbench.scenarios.threaded import CHECK_EVERY_BATCHES

BOTH = (BackendSpec("single"), BackendSpec("per-zone"))


def small(**kwargs: object) -> ThreadsConfig:
    base: dict[str, object] = {
        "n_threads": 3,
        "n_pkts": 200,
        "batch_size": 8,
        "backends": BOTH,
    }
    base.update(kwargs)
    return ThreadsConfig(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_threads": 0}, r"N_THREADS must be at least 1 \(got 0\)"),
        ({"n_threads": 65536}, "N_THREADS"),
        ({"n_pkts": 0}, "N_PKTS"),
        ({"batch_size": 0}, r"between 1 and 32 \(NETDEV_MAX_BURST\)"),
        ({"batch_size": 33}, r"between 1 and 32 \(NETDEV_MAX_BURST\)"),
        ({"change_conn": 2}, "CHANGE_CONN"),
        ({"change_conn": -1}, "CHANGE_CONN"),
        ({"conn_limit": -1}, "--conn-limit"),
        ({"backends": ()}, "backend"),
    ],
)
def test_arguments_are_checked_like_ovstest(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        small(**kwargs)


def test_limits_of_the_ranges_are_accepted() -> None:
    small(n_threads=1, n_pkts=1, batch_size=1, change_conn=0)
    small(n_threads=65535, batch_size=32, change_conn=1)


def _ports(batch: list[bytes]) -> list[tuple[int, int]]:
    keys = [parse_frame(frame, 0) for frame in batch]
    fields = [key_fields(k.key) for k in keys if k is not None]
    return [(f.src_port, f.dst_port) for f in fields]


def test_batches_follow_ovstest_and_change_conn_gives_each_packet_a_connection() -> (
    None
):
    assert _ports(thread_batch(0, 4, change_conn=False)) == [(1, 2)] * 4
    assert _ports(thread_batch(2, 3, change_conn=False)) == [(3, 2)] * 3
    assert _ports(thread_batch(2, 3, change_conn=True)) == [(3, 2), (3, 3), (3, 4)]
    assert thread_batch(0, 1, change_conn=False)[0] == ovstest_frame(1, 2)


@pytest.mark.parametrize(("change_conn", "per_thread"), [(0, 1), (1, 8)])
def test_connections_created(change_conn: int, per_thread: int) -> None:
    run = run_threads(small(change_conn=change_conn))
    assert run.complete and run.command == "benchmark"
    assert [r.backend for r in run.results] == ["single", "per-zone"]
    for result in run.results:
        assert result.extra["connections"] == 3 * per_thread
        counters = result.phases[PHASE].counters
        assert counters["created"] == 3 * per_thread
        assert counters["lookups"] == 3 * 200
        assert counters["refused"] == counters["removed"] == 0


def test_a_lock_scope_reaches_the_model_and_the_results() -> None:
    """The backend spec alone picks the lock: the harness builds the table
    and the model reads its scope.  A finer one is recorded; the global
    one, however typed, names the same table as the plain spec."""
    specs = ("per-zone:lock=zone", "per-zone:lock=global", "per-zone")
    run = run_threads(small(backends=tuple(BackendSpec.parse(s) for s in specs)))
    assert run.complete
    assert [r.label for r in run.results] == list(specs)
    assert [r.options for r in run.results] == [{"lock": "zone"}, {}, {}]
    assert [r.extra["connections"] for r in run.results] == [3, 3, 3]
    zone, named, plain = run.results
    assert table_of(named) == table_of(plain) != table_of(zone)


def test_each_thread_sends_n_pkts_in_whole_batches_as_ovstest() -> None:
    # ovstest: for (i = 0; i < n_pkts; i += batch_size): 10 packets in
    # batches of 4 are 3 batches, 12 packets.
    config = small(n_threads=2, n_pkts=10, batch_size=4, backends=BOTH[:1])
    (result,) = run_threads(config).results
    assert result.extra["thread_packets"] == [12, 12]
    assert result.extra["thread_batches"] == [3, 3]
    assert result.extra["packets"] == 24
    assert result.phases[PHASE].counters["lookups"] == 24
    assert len(result.phases[PHASE].samples) == 6
    assert all(s > 0 for s in result.phases[PHASE].samples)
    extra = result.extra
    assert extra["wall_ms"] > 0
    assert extra["pps"] == pytest.approx(24 / (extra["wall_ms"] / 1e3))
    assert extra["pps_per_thread"] == pytest.approx(extra["pps"] / 2)
    assert len(extra["thread_ms"]) == 2


def test_parallelism_is_recorded() -> None:
    run = run_threads(small(n_threads=1, n_pkts=8, backends=BOTH[:1]))
    assert run.params["parallel"] is (not gil_enabled())
    assert run.environment["gil_enabled"] is gil_enabled()


def test_progress_reaches_the_total() -> None:
    calls: list[tuple[str, str, int, int]] = []
    run_threads(small(), lambda *args: calls.append(args))
    for backend in ("single", "per-zone"):
        mine = [c for c in calls if c[0] == backend]
        assert mine[0] == (backend, STAGE, 0, 3 * 200)
        assert mine[-1] == (backend, STAGE, 3 * 200, 3 * 200)


def test_interrupt_stops_the_threads_and_keeps_what_was_measured() -> None:
    calls = 0

    def interrupted() -> bool:
        nonlocal calls
        calls += 1
        return calls > 1  # the check before the first backend says no

    batches = 50 * CHECK_EVERY_BATCHES
    config = small(n_threads=2, n_pkts=batches, batch_size=1)
    run = run_threads(config, interrupted=interrupted)
    assert not run.complete
    (result,) = run.results
    done = result.extra["thread_batches"]
    assert all(0 < d < batches for d in done)
    assert len(result.phases[PHASE].samples) == sum(done)
    assert result.phases[PHASE].counters["lookups"] == sum(done)


@pytest.mark.parametrize(
    ("module", "where"), [("threaded", "join_threads"), ("benchmark", "_fill_result")]
)
def test_a_second_ctrl_c_while_the_samples_are_gathered_keeps_them(
    monkeypatch: pytest.MonkeyPatch, module: str, where: str
) -> None:
    """After the first stop the threads are joined and their samples
    gathered: a further Ctrl-C then (SIGINT again, or ``timeout``'s second
    signal) must not lose every sample; it stops the run, samples kept."""
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

    batches = 50 * CHECK_EVERY_BATCHES
    run = run_threads(
        small(n_threads=2, n_pkts=batches, batch_size=1, backends=BOTH),
        interrupted=interrupted,
    )
    assert not run.complete and len(run.results) == 1
    (result,) = run.results
    assert result.status == "interrupted"
    done = result.extra["thread_batches"]
    assert sum(done) > 0
    assert len(result.phases[PHASE].samples) == sum(done)


def test_a_failing_thread_is_reported_not_hung(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Conntrack, *args: object) -> list[int]:
        raise RuntimeError("table broke")

    monkeypatch.setattr(Conntrack, "execute", broken)
    run = run_threads(small(backends=BOTH))
    # Each backend's failure is recorded, and the next backend still runs.
    assert [r.status for r in run.results] == [FAILED, FAILED]
    assert all("RuntimeError: table broke" in str(r.error) for r in run.results)
    assert not run.complete


def test_results_round_trip() -> None:
    run = run_threads(small(n_pkts=40, change_conn=1))
    back = loads(dumps(run))
    assert back.command == "benchmark"
    assert back.params == run.params
    assert back.complete
    for mine, theirs in zip(run.results, back.results, strict=True):
        assert theirs.extra == mine.extra
        assert theirs.phases[PHASE].samples == mine.phases[PHASE].samples
        assert theirs.phases[PHASE].counters == mine.phases[PHASE].counters
    assert dumps(back) == dumps(run)


# -- the shared model under concurrent commits ---------------------------------


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    """Switch threads every microsecond to provoke interleavings."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


N_THREADS = 4
PER_THREAD = 24  # connections only one thread commits
SHARED = 24  # connections every thread commits
ROUNDS = 25


@pytest.mark.usefixtures("tiny_switch_interval")
@pytest.mark.parametrize("backend", backend_names())
def test_concurrent_commits_leave_a_consistent_table(backend: str) -> None:
    model = Conntrack(create_table(BackendSpec(backend)), Limits(), thread_safe=True)
    shared = [ovstest_frame(7, 100 + j) for j in range(SHARED)]
    barrier = threading.Barrier(N_THREADS)
    sent = [0] * N_THREADS
    errors: list[BaseException] = []

    def work(tid: int) -> None:
        own = [ovstest_frame(1000 + tid, 100 + j) for j in range(PER_THREAD)]
        frames = own + shared
        rng = random.Random(tid)
        try:
            barrier.wait()
            for _ in range(ROUNDS):
                rng.shuffle(frames)
                for i in range(0, len(frames), 16):
                    batch = frames[i : i + 16]
                    model.execute(batch, 0, True, 0)
                    model.execute(batch[:4], 0, False, 0)  # lookups in between
                    sent[tid] += len(batch) + len(batch[:4])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(N_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    distinct = N_THREADS * PER_THREAD + SHARED
    assert model.n_conns == distinct
    assert len(model.dump()) == distinct
    assert len(model.table) == distinct
    assert len({entry.key for entry in model.dump()}) == distinct
    assert model.counters.created == distinct
    assert model.counters.removed == 0
    assert model.counters.packets == sum(sent)
    assert sum(model.expiration_list_sizes()) == distinct
