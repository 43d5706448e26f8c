"""Every registered backend, driven by hypothesis, must behave like the oracle,
and must stay whole when threads share it.

The test is parametrised over the entry-point registry, so a backend is
covered by being registered, third-party ones included, plus a few option
values that take other code paths (one shard; a shard count that is not a
power of two).  Short executes take the model's per-frame path, long ones
(``execute_many``) its bulk path.

The table's full contents are compared at random steps (a rule) and at the
end, not after every step: walking per-zone's 65,536 maps after each of
thousands of steps was most of the suite's time, and a wrong node stays
wrong until the next comparison finds it.

Under threads (:func:`check_threads`), every backend at every lock scope it
supports serves a thread-safe model to a few threads at once: each renews
its own connections and reads others' through the model, while they walk
the table; what the ConnTable protocol promises when threads share it.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import ctbench.backends
from ctbench.backends import (
    BackendSpec,
    ConnTable,
    backend_names,
    create_table,
    load_backend,
    lock_scopes_of,
)
from ctbench.keys import key_zone, reverse_key
from ctbench.model import BULK_MIN_FRAMES, Conntrack, Limits, NatAction
from ctbench.model.columns import FREE
from ctbench.model.states import EST, EST_REPLY, NEW
from ctbench.packets import (
    TCP_ACK,
    TCP_FIN,
    TCP_RST,
    TCP_SYN,
    Endpoints,
    icmp_echo_frame,
    ovstest_frame,
    tcp_frame,
    udp_frame,
)
from tests.helpers.free_threading import often_switching
from tests.helpers.reference_model import ReferenceConntrack

A, B, C = "10.0.0.1", "10.0.0.2", "10.0.0.3"
ZONES = (0, 1, 2, 65535)
NAT_ADDR = 0x0A0000FE  # 10.0.0.254
B_INT = 0x0A000002  # B

udp = st.builds(
    udp_frame,
    st.sampled_from([1, 2, 3]),
    st.sampled_from([1, 2, 3]),
    st.sampled_from(
        [Endpoints(A, B), Endpoints(B, A), Endpoints(A, C), Endpoints("::1", "::2")]
    ),
)
tcp = st.builds(
    tcp_frame,
    st.sampled_from([10, 11]),
    st.sampled_from([80]),
    st.sampled_from(
        [TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST, TCP_FIN, 0]
    ),
    st.sampled_from([Endpoints(A, B), Endpoints(B, A)]),
)
tcp_reply = st.builds(
    lambda flags: tcp_frame(80, 10, flags, Endpoints(B, A)),
    st.sampled_from([TCP_SYN | TCP_ACK, TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST]),
)
icmp = st.builds(
    icmp_echo_frame,
    st.sampled_from([1, 2]),
    st.booleans(),
    st.sampled_from([Endpoints(A, B), Endpoints(B, A)]),
)
junk = st.sampled_from([b"", b"\x00" * 20, udp_frame(1, 2)[:40]])
frames = st.one_of(udp, udp, tcp, tcp_reply, icmp, junk)
# Long executes draw from a pool, built once: ovstest's frames (the bulk
# path's own kind) three times over, their replies, and one of each other
# kind.  Drawing 64 or more frames one strategy call at a time would cost
# hypothesis more than the test itself.
_PORTS = range(1, 9)
_REPLY = Endpoints("10.1.1.2", "10.1.1.1")
POOL = (
    [ovstest_frame(s, d) for s in _PORTS for d in _PORTS] * 3
    + [udp_frame(d, s, _REPLY) for s in _PORTS for d in _PORTS]
    + [udp_frame(1, 2, Endpoints(A, B)), udp_frame(2, 1, Endpoints(B, A))]
    + [udp_frame(1, 2, Endpoints("::1", "::2")), tcp_frame(10, 80, TCP_SYN)]
    + [tcp_frame(80, 10, TCP_SYN | TCP_ACK, Endpoints(B, A)), icmp_echo_frame(1)]
    + [b"", udp_frame(1, 2)[:40], ovstest_frame(1, 2)[:-1] + b"\x01"]
)
bulk_batches = st.builds(
    lambda rng, n: [rng.choice(POOL) for _ in range(n)],
    st.randoms(use_true_random=False),
    st.integers(BULK_MIN_FRAMES, BULK_MIN_FRAMES + 40),
)
nat_actions = st.one_of(
    st.none(),
    st.builds(NatAction, src_addr=st.just(NAT_ADDR), src_port=st.sampled_from([7, 8])),
    st.builds(NatAction, dst_addr=st.just(NAT_ADDR)),
    # A -> C translated to A -> B: its reverse key is the reply key of an
    # A -> B connection, which OVS's nat_get_unique_tuple() refuses.
    st.builds(NatAction, dst_addr=st.just(B_INT)),
)


# Backends with options, beyond each registered backend with its defaults.
OPTION_SPECS = ("sharded:shards=1", "sharded:shards=3", "per-zone-sharded:shards=3")
# An option takes one path of its own (one shard; a shard count that is not
# a power of two), met on every step of every example; the rest of the
# contract is the default's, which runs the full 60.
OPTION_EXAMPLES = 20


class ContractMachine(RuleBasedStateMachine):
    backend = "single"
    thread_safe = False

    def __init__(self) -> None:
        super().__init__()
        self.now = 0

    @initialize(
        conn_limit=st.sampled_from([0, 0, 4, 9]),
        default_zone_limit=st.sampled_from([None, None, 3]),
        zone_limits=st.sampled_from([{}, {}, {1: 2}, {2: 0}]),
    )
    def setup(
        self,
        conn_limit: int,
        default_zone_limit: int | None,
        zone_limits: dict[int, int],
    ) -> None:
        limits = Limits(conn_limit, default_zone_limit, zone_limits)
        table = create_table(BackendSpec.parse(self.backend))
        options = table.options
        assert isinstance(options, dict)
        assert all(isinstance(v, str | int) for v in options.values())
        self.model = Conntrack(table, limits, thread_safe=self.thread_safe)
        self.ref = ReferenceConntrack(limits)

    @rule(
        batch=st.lists(frames, min_size=1, max_size=6),
        zone=st.sampled_from(ZONES),
        commit=st.booleans(),
        nat=nat_actions,
    )
    def execute(
        self, batch: list[bytes], zone: int, commit: bool, nat: NatAction | None
    ) -> None:
        got = self.model.execute(batch, zone, commit, self.now, nat)
        assert got == self.ref.execute(batch, zone, commit, self.now, nat)

    @rule(
        batch=bulk_batches,
        zone=st.sampled_from(ZONES),
        commit=st.booleans(),
    )
    def execute_many(self, batch: list[bytes], zone: int, commit: bool) -> None:
        got = self.model.execute(batch, zone, commit, self.now)
        assert got == self.ref.execute(batch, zone, commit, self.now)

    @rule(batches=st.lists(st.lists(udp, min_size=1, max_size=3), max_size=4))
    def execute_batches(self, batches: list[list[bytes]]) -> None:
        got = self.model.execute_batches(batches, 1, True, self.now)
        want = [s for b in batches for s in self.ref.execute(b, 1, True, self.now)]
        assert got == want

    @rule(step=st.sampled_from([0, 1_000, 30_000, 45_000, 61_000]))
    def advance_clock(self, step: int) -> None:
        self.now += step

    @rule(zone=st.sampled_from((*ZONES, None)))
    def flush(self, zone: int | None) -> None:
        result = self.model.flush(zone)
        assert result.removed == self.ref.flush(zone)
        if zone is not None:
            assert result.visited >= result.removed

    @rule()
    def sweep(self) -> None:
        assert self.model.sweep(self.now).cleaned == self.ref.sweep(self.now)

    @precondition(lambda self: hasattr(self, "model"))
    @rule(zone=st.sampled_from((*ZONES, None)), live=st.booleans())
    def dump(self, zone: int | None, live: bool) -> None:
        now = self.now if live else None
        got = sorted(
            (e.key, e.rev_key, e.proto, e.state, e.expiration, e.nat)
            for e in self.model.dump(zone, now)
        )
        assert got == self.ref.dump(zone, now)

    @invariant()
    def same_counts(self) -> None:
        if not hasattr(self, "model"):
            return
        assert self.model.n_conns == self.ref.n_conns
        assert self.model.n_nat == sum(1 for c in self.ref.conns if c.nat)
        assert vars(self.model.counters) == vars(self.ref.counters)
        assert sum(self.model.expiration_list_sizes()) == self.ref.n_conns

    @precondition(lambda self: hasattr(self, "model"))
    @rule()
    def table_holds_exactly_the_key_nodes(self) -> None:
        model = self.model
        table = model.table
        nat_conns = sum(1 for c in self.ref.conns if c.nat)
        assert len(table) == self.ref.n_conns + nat_conns
        items = list(table.items())
        assert sorted(k for k, _ in items) == sorted(self.ref.nodes())
        cols = model.columns
        for key, value in items:
            # A forward node holds its connection's handle, a NAT reverse
            # node the complement; the columns hold that connection.
            handle = value if value >= 0 else ~value
            assert cols.exp_list[handle] != FREE
            assert cols.zone[handle] == key_zone(key)
            assert (cols.keys[handle] if value >= 0 else cols.rev_keys[handle]) == key
        values = sorted(v for _, v in items)
        assert sorted(table.values().tolist()) == values
        for zone in ZONES:
            in_zone = sorted(v for k, v in items if key_zone(k) == zone)
            visited = table.zone_values(zone).tolist()
            # Every node of the zone is visited; a design without a zone
            # index visits others too.
            assert set(in_zone) <= set(visited) and len(visited) >= len(in_zone)
        assert len(cols.live()) == model.n_conns

    def teardown(self) -> None:
        if hasattr(self, "model"):
            self.table_holds_exactly_the_key_nodes()


def check_contract(spec: str, max_examples: int = 60) -> None:
    """Run the contract on the backend ``spec`` (``name[:key=value,...]``)."""
    machine = type(f"Contract_{spec}", (ContractMachine,), {"backend": spec})
    run_state_machine_as_test(  # type: ignore[no-untyped-call, unused-ignore]
        machine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=40,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.mark.parametrize(
    ("spec", "max_examples"),
    [pytest.param(name, 60, id=name) for name in backend_names()]
    + [pytest.param(spec, OPTION_EXAMPLES, id=spec) for spec in OPTION_SPECS],
)
def test_backend_matches_reference(spec: str, max_examples: int) -> None:
    check_contract(spec, max_examples)


def test_registry_has_the_builtin_backends() -> None:
    assert {
        "single",
        "per-zone",
        "sharded",
        "per-zone-sharded",
        "lazy-per-zone",
    } <= set(backend_names())


def test_thread_safe_model_matches_reference_too() -> None:
    """The locked code paths (creation and removal under the lock) keep the
    same semantics; concurrency itself is tested in test_scenario_threads."""
    machine = type(
        "Contract_thread_safe",
        (ContractMachine,),
        {"backend": "per-zone", "thread_safe": True},
    )
    run_state_machine_as_test(  # type: ignore[no-untyped-call,unused-ignore]
        machine,
        settings=settings(
            max_examples=40,
            stateful_step_count=40,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# -- threads -----------------------------------------------------------------

THREADS = 4
ROUNDS = 30
OWN_PORTS = range(100, 106)  # a thread's own connections, renewed each round
STABLE_PORTS = range(200, 204)  # made before the threads start, never removed
SCRATCH_PORTS = range(300, 303)  # made and flushed each round
# Longer than UDP's 60 s first timeout: a round's connections have expired
# by the next, which cleans and creates them anew.
ROUND_MS = 100_000
# The stable connections are only ever seen at this time, so they never
# expire for the threads, whose clocks stay far below it.
STABLE_NOW = 10**12
# The rounds in which a thread walks the whole table (per-zone's 65,536
# maps make a walk the slowest step).
WALK_ROUNDS = (3, 17)
# SwitchInside: a thread gives way every this many lines of table code,
# in a frame's first TRACED_LINES_PER_FRAME lines.  Chosen by trying broken
# tables on the GIL build (3.11): the example plugin before it was made
# thread-safe, per-zone and lazy-per-zone walking their dicts in Python,
# each failed in at least 7 of 10 runs at 16, and the whole test takes
# about 1.5 s (3 lines: 10 s; 100: some failed in 0 of 10).
SWITCH_EVERY_LINES = 16
TRACED_LINES_PER_FRAME = 1000
BACKENDS_INIT = ctbench.backends.__file__
_REPLY_ENDS = Endpoints("10.1.1.2", "10.1.1.1")


def _own_zone(tid: int) -> int:
    return 10 + tid


def _scratch_zone(tid: int) -> int:
    return 20 + tid


def _forward(ports: range) -> list[bytes]:
    return [udp_frame(p, 9) for p in ports]


def _replies(ports: range) -> list[bytes]:
    return [udp_frame(9, p, _REPLY_ENDS) for p in ports]


def _expect(got: list[int], state: int, what: str) -> None:
    assert got == [state] * len(got), f"{what}: {[hex(s) for s in got]}"


def _thread_ops(model: Conntrack, tid: int, stable: dict[int, set[bytes]]) -> None:
    """One thread's rounds: its own connections created (the last round's
    cleaned first), found by their replies and updated; another thread's
    stable connections found through the model; a scratch zone filled and
    flushed; now and then a walk of the whole table beside the others'
    writes."""
    own, scratch = _own_zone(tid), _scratch_zone(tid)
    others = [_own_zone(t) for t in range(THREADS) if t != tid]
    forward, replies = _forward(OWN_PORTS), _replies(OWN_PORTS)
    stable_replies = _replies(STABLE_PORTS)
    scratch_frames = _forward(SCRATCH_PORTS)
    table = model.table
    for r in range(ROUNDS):
        now = (r + 1) * ROUND_MS
        _expect(model.execute(forward, own, True, now), NEW, "own, created")
        _expect(model.execute(replies, own, False, now), EST_REPLY, "own, found")
        _expect(model.execute(forward, own, True, now), EST, "own, updated")
        other = others[r % len(others)]
        got = model.execute(stable_replies, other, False, STABLE_NOW)
        _expect(got, EST_REPLY, f"zone {other}'s stable connections")
        model.execute(scratch_frames, scratch, True, now)
        assert model.flush(scratch).removed == len(SCRATCH_PORTS)
        if r in WALK_ROUNDS:
            keys = {key for key, _ in table.items()}
            assert stable[other] <= keys, "a walk missed nodes that stayed"
            dumped = {entry.key for entry in model.dump(other)}
            assert stable[other] <= dumped, "a dump missed nodes that stayed"
            assert len(table.values()) >= len(stable) * len(STABLE_PORTS)
            assert len(table.zone_values(other)) >= len(STABLE_PORTS)
            assert len(table) >= len(stable) * len(STABLE_PORTS)


class SwitchInside:
    """A trace function that makes a thread give way every few lines of
    the table's own Python code (its module, and ctbench.backends').

    Under a GIL, a thread is switched out only every few microseconds at
    best, so a table whose lookup walks a chain, or whose walk loops over
    a dict, in Python is seldom caught halfway by another thread's write;
    giving way there catches it.  C-level dict operations raise no line
    events: they are atomic under a GIL, and hold the dict's lock on a
    free-threaded build.  A frame is traced for its first
    TRACED_LINES_PER_FRAME lines only: a walk of per-zone's 65,536 maps
    would otherwise take seconds.
    """

    def __init__(self, table: object) -> None:
        module = sys.modules[type(table).__module__]
        backends = Path(BACKENDS_INIT).parent
        self.files = {str(getattr(module, "__file__", ""))}
        self.files |= {str(p) for p in backends.glob("*.py")}

    def __call__(self, frame: FrameType, event: str, arg: object) -> Any:
        if frame.f_code.co_filename not in self.files:
            return None
        lines = 0

        def line(frame: FrameType, event: str, arg: object) -> Any:
            nonlocal lines
            if event != "line":
                return line
            lines += 1
            if lines % SWITCH_EVERY_LINES == 0:
                time.sleep(0)
            if lines >= TRACED_LINES_PER_FRAME:
                frame.f_trace_lines = False
            return line

        return line


def _run_threads(table: object, target: Callable[[int], None]) -> None:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(tid: int) -> None:
        try:
            start.wait()
            target(tid)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    threading.settrace(SwitchInside(table))
    try:
        with often_switching():
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        threading.settrace(None)
    if errors:
        raise errors[0]


def check_threads(spec: str) -> None:
    """Run the threaded contract on the backend ``spec``: a thread-safe
    model over it, shared by THREADS threads, then the model's invariants."""
    check_threads_on(create_table(BackendSpec.parse(spec)))


def check_threads_on(table: ConnTable) -> None:
    """:func:`check_threads` on a table already built."""
    model = Conntrack(table, Limits(), thread_safe=True, capacity=4096)
    for tid in range(THREADS):
        model.execute(_forward(STABLE_PORTS), _own_zone(tid), True, STABLE_NOW)
    stable: dict[int, set[bytes]] = {}
    for key, _ in model.table.items():
        stable.setdefault(key_zone(key), set()).add(key)
    assert [len(stable[_own_zone(t)]) for t in range(THREADS)] == [
        len(STABLE_PORTS)
    ] * THREADS
    _run_threads(table, lambda tid: _thread_ops(model, tid, stable))
    items = list(model.table.items())
    conns = THREADS * (len(OWN_PORTS) + len(STABLE_PORTS))
    assert model.n_conns == len(items) == len(model.table) == conns
    cols = model.columns
    forward = dict(items)
    for key, handle in items:
        assert handle >= 0 and cols.keys[handle] == key
        assert cols.exp_list[handle] != FREE
        assert reverse_key(key) not in forward
    assert len(cols.live()) == conns
    counts = model.counters
    assert counts.created - counts.removed == conns
    renewed = THREADS * (ROUNDS - 1) * len(OWN_PORTS)
    flushed = THREADS * ROUNDS * len(SCRATCH_PORTS)
    assert counts.removed == renewed + flushed


def thread_specs(names: list[str]) -> list[str]:
    """Each backend at each lock scope it supports."""
    specs = []
    for name in names:
        for scope in lock_scopes_of(load_backend(name)):
            specs.append(name if scope == "global" else f"{name}:lock={scope}")
    return specs


@pytest.mark.parametrize("spec", thread_specs(backend_names()))
def test_backend_stays_whole_under_threads(spec: str) -> None:
    check_threads(spec)
