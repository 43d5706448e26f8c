"""Every registered backend, driven by hypothesis, must behave like the oracle.

The test is parametrised over the entry-point registry, so a backend is
covered by being registered, third-party ones included, plus a few option
values that take other code paths (one shard; a shard count that is not a
power of two).  Short executes take the model's per-frame path, long ones
(``execute_many``) its bulk path.

The table's full contents are compared at random steps (a rule) and at the
end, not after every step: walking per-zone's 65,536 maps after each of
thousands of steps was most of the suite's time, and a wrong node stays
wrong until the next comparison finds it.
"""

from __future__ import annotations

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

from ctbench.backends import BackendSpec, backend_names, create_table
from ctbench.keys import key_zone
from ctbench.model import BULK_MIN_FRAMES, Conntrack, Limits, NatAction
from ctbench.model.columns import FREE
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
